"""Whole runs against hostile peers, as a user types them: each ends in bounded time and
memory, exits 1 with its reports written, and says the target stopped answering (issue 12,
item 1). Sizes are shrunk where the property is the same (a body many times the cap)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers import alive

pytestmark = pytest.mark.slow

# Far below what an unbounded read of these bodies costs (the suite alone is ~150 MiB).
_PEAK_RSS_MIB = 400


def _verdicts(report_dir: Path) -> dict[str, dict[str, object]]:
    data = json.loads((report_dir / "conformance.json").read_text())
    return {r["id"]: r for r in data["requirements"]}


def _stopped(report_dir: Path) -> list[str]:
    return [
        rid
        for rid, r in _verdicts(report_dir).items()
        if r["verdict"] == "not_verified" and "target stopped answering" in str(r["reason"])
    ]


@pytest.mark.parametrize("mode", ["silent", "drip", "big-body"])
def test_server_suite_against_a_hostile_server(cli, hostile_server, tmp_path, mode) -> None:  # type: ignore[no-untyped-def]
    server = hostile_server(mode, interval_s=0.5, size=50 << 20)
    reports = tmp_path / "reports"
    run = cli("server", server.url, "--timeout", "1", "--report-dir", str(reports))
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert (reports / "conformance.json").exists(), output[-3000:]
    assert run.wall_s < 90, f"{run.wall_s:.0f} s"
    assert run.peak_rss_mib < _PEAK_RSS_MIB, f"{run.peak_rss_mib:.0f} MiB"
    assert _stopped(reports), output[-3000:]


def test_client_suite_against_a_hanging_adapter(cli, hostile_adapter, tmp_path) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "reports"
    run = cli(
        "client", "--command", hostile_adapter("hang"), "--timeout", "1",
        "--report-dir", str(reports),
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert run.wall_s < 60, f"{run.wall_s:.0f} s"
    assert _stopped(reports), output[-3000:]


def test_client_suite_against_an_adapter_printing_too_much(cli, hostile_adapter, tmp_path) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "reports"
    command = hostile_adapter("spew", size_mib=20)
    run = cli("client", "--command", command, "--report-dir", str(reports))
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert run.peak_rss_mib < _PEAK_RSS_MIB, f"{run.peak_rss_mib:.0f} MiB"
    assert run.wall_s < 90, f"{run.wall_s:.0f} s"
    assert _stopped(reports), output[-3000:]


def test_detached_adapter_children_do_not_outlive_the_call(hostile_adapter, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conformance.client.adapters import CommandAdapter
    from conformance.client.contract import RebootCall
    from conformance.processes import become_subreaper

    pidfile = tmp_path / "pids"
    adapter = CommandAdapter(hostile_adapter("detach", pidfile=pidfile), timeout_s=10)
    outcome = adapter.reboot(RebootCall("127.0.0.1:1", "i-1", "id", "secret"))
    assert outcome.message == "detached"
    pids = [int(p) for p in pidfile.read_text().split()]
    if not become_subreaper():
        pytest.skip("this platform cannot adopt detached children (no PR_SET_CHILD_SUBREAPER)")
    assert alive(pids) == [], "the setsid child outlived the adapter call"
