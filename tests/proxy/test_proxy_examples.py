"""The README's two examples, run as written: the `ecs_endpoint` fixture in a user's pytest file
(pytester) and the proxy in front of a gateway (a subprocess); the fixture's strict mode, and the
command's loopback rule and signals."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("ecs-conformance"))


def _example(name: str) -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- example: {name} -->\n```\w+\n(.*?)```", text, re.S)
    assert found, f"README has no example {name!r}"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _report(directory: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((directory / "conformance.json").read_text())
    return data


def _verdicts(report: dict[str, object]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report["requirements"]}  # type: ignore[attr-defined,index]


def test_readme_fixture_example_runs(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_my_reboot=_example("ecs_endpoint"))
    out = tmp_path / "traffic"
    result = pytester.runpytest_subprocess(
        "-q", "--ecs-traffic-strict", f"--ecs-traffic-report={out}"
    )
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    verdicts = _verdicts(_report(out))
    assert verdicts["protocol.signature.v3"] == "passed"
    assert verdicts["doc.response.RequestId"] == "passed"
    assert "failed" not in verdicts.values()
    assert sorted(p.name for p in out.iterdir()) == [
        "conformance.json",
        "junit.xml",
        "report.html",
        "summary.md",
    ]


_DEVIATING = """
import httpx
from conformance.client.reference import ReferenceClient
from conformance.client.contract import RebootCall


class Stale(ReferenceClient):
    def timestamp(self):
        return "2020-01-01T00:00:00Z"


def test_my_client(ecs_endpoint):
    ecs_endpoint.instance("i-1", status="Stopped", locks=["security"])
    assert ecs_endpoint.url == "http://" + ecs_endpoint.host_port
    outcome = Stale().reboot_instance(RebootCall(
        ecs_endpoint.host_port, "i-1", ecs_endpoint.access_key_id,
        ecs_endpoint.access_key_secret))
    assert not outcome.ok
"""


@pytest.mark.parametrize("strict", [True, False])
def test_fixture_strict_fails_the_session_on_a_client_deviation(
    pytester: pytest.Pytester, tmp_path: Path, strict: bool
) -> None:
    pytester.makepyfile(test_stale=_DEVIATING)
    out = tmp_path / "traffic"
    args = ["-q", f"--ecs-traffic-report={out}", *(["--ecs-traffic-strict"] if strict else [])]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=1)
    report = _report(out)
    assert _verdicts(report)["protocol.timestamp.expired"] == "failed"
    failed = next(r for r in report["requirements"] if r["id"] == "protocol.timestamp.expired")  # type: ignore[attr-defined]
    assert any("test_stale.py::test_my_client" in r for r in failed["reproduce"])
    if strict:
        assert result.ret == 1
        result.stdout.fnmatch_lines(
            [
                "*ecs-traffic-strict*client-side*",
                "*FAILED protocol.timestamp.expired*",
                "*see *summary.md*",
            ]
        )
    else:
        assert result.ret == 0
        result.stdout.fnmatch_lines(["*ecs_endpoint traffic report in*1 client-side deviation*"])


_CLEAN = """
from conformance.client.reference import ReferenceClient
from conformance.client.contract import RebootCall


def test_my_clean_client(ecs_endpoint):
    ecs_endpoint.instance("i-2", status="Running")
    outcome = ReferenceClient().reboot_instance(RebootCall(
        ecs_endpoint.host_port, "i-2", ecs_endpoint.access_key_id,
        ecs_endpoint.access_key_secret))
    assert outcome.ok
"""


@pytest.mark.parametrize("strict", [True, False])
def test_fixture_strict_holds_under_xdist(
    pytester: pytest.Pytester, tmp_path: Path, strict: bool
) -> None:
    """Each xdist worker serves its own proxy; the controller, which sets the exit status,
    still fails the session on a deviation one worker saw and names every worker's report."""
    pytester.makepyfile(test_stale=_DEVIATING, test_clean=_CLEAN)
    out = tmp_path / "traffic"
    args = ["-q", "-n", "2", "--dist", "loadfile", f"--ecs-traffic-report={out}"]
    result = pytester.runpytest_subprocess(*args, *(["--ecs-traffic-strict"] if strict else []))
    result.assert_outcomes(passed=2)
    workers = sorted(p.name for p in out.iterdir())
    assert workers == ["gw0", "gw1"], workers
    text = result.stdout.str()
    if strict:
        assert result.ret == 1, text
        result.stdout.fnmatch_lines(
            ["*ecs-traffic-strict*broke 1 client-side*", "*FAILED protocol.timestamp.expired*"]
        )
        assert str(out / "gw0" / "summary.md") in text and str(out / "gw1" / "summary.md") in text
    else:
        assert result.ret == 0, text
        result.stdout.fnmatch_lines(["*ecs_endpoint traffic reports in *1 client-side deviation*"])


def test_session_without_the_fixture_starts_nothing(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_plain=(
            "def test_plain():\n    import sys\n"
            "    loaded = {m for m in sys.modules if m.startswith('conformance.proxy.')}\n"
            "    assert loaded == {'conformance.proxy.pytest_plugin'}, loaded\n"
        )
    )
    out = tmp_path / "traffic"
    result = pytester.runpytest_subprocess("-q", f"--ecs-traffic-report={out}")
    result.assert_outcomes(passed=1)
    assert not out.exists()


@pytest.mark.slow
def test_readme_proxy_example_runs(tmp_path: Path) -> None:
    script = _example("proxy")
    emulator_port, proxy_port = _free_port(), _free_port()
    call = (
        f'{sys.executable} -c "from conformance.client.registry import load_adapter; '
        "from conformance.client.contract import RebootCall; "
        "a = load_adapter('aliyun-python-sdk-ecs'); "
        f"print(a.reboot(RebootCall('127.0.0.1:{proxy_port}', 'i-nothere', "
        "'testid', 'testsecret')))\""
    )
    script = (
        script.replace("18080", str(emulator_port))
        .replace("18081", str(proxy_port))
        .replace("--duration 20", "--duration 6")
    )
    script = re.sub(r"^# \.\.\. your clients.*$", call, script, flags=re.M)
    bin_dir = str(Path(CLI).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert "InvalidInstanceId.NotFound" in proc.stdout, proc.stdout + proc.stderr
    verdicts = _verdicts(_report(tmp_path / "reports" / "traffic"))
    assert verdicts["protocol.signature.v2"] == "passed", proc.stdout
    assert verdicts["doc.error.404.InvalidInstanceId.NotFound"] == "passed"
    assert "failed" not in verdicts.values()


def test_proxy_refuses_to_listen_off_loopback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [CLI, "proxy", "--upstream", "embedded", "--host", "0.0.0.0", "--port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--listen-any" in proc.stdout + proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_proxy_writes_its_report_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    secret = "a-long-secret-never-shown"
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret}
    port = _free_port()
    proc = subprocess.Popen(
        [CLI, "proxy", "--upstream", "embedded", "--port", str(port), "--report-dir", "out"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        from conformance.client.contract import RebootCall
        from conformance.client.reference import ReferenceClient

        ReferenceClient().reboot_instance(RebootCall(f"127.0.0.1:{port}", "i-x", "testid", secret))
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output  # nothing failed; something passed
    assert sig.name in output
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert _verdicts(_report(tmp_path / "out"))["protocol.signature.v2"] == "passed"
    assert secret not in written and secret not in output
    assert shutil.which("bash")  # the README example needs it too
