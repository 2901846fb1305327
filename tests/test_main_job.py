"""The main job and the gate, end to end through the command line (issue 6): reports written,
summaries that agree, exit codes, waivers, and no secret in any report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.config import Credentials, EmulatorSettings
from conformance.emulator import EmbeddedEmulator
from conformance.mutants import get_mutant

REPORTS = ("conformance.json", "junit.xml", "summary.md", "report.html")
SECRET = "conformance-test-secret-7f3a9"
KEY_ID = "LTAIconformanceTest"
# A quick slice of the server suite that still fails on the mutant below.
SELECT = "test_defaults or test_dryrun"
MUTANT = "forcestop-default-true"


@pytest.fixture(scope="module")
def mutant_url() -> Iterator[str]:
    """A faulty emulator (ForceStop defaults to true) that knows only our test credentials."""
    emu = EmbeddedEmulator(
        EmulatorSettings(credentials=(Credentials(KEY_ID, SECRET),), reboot_seconds=86400.0),
        behaviour=get_mutant(MUTANT).behaviour,
    ).start()
    try:
        yield emu.url
    finally:
        emu.stop()


def _server(url: str, report_dir: Path, *extra: str) -> tuple[int, str]:
    args = ["server", url, "--access-key-id", KEY_ID, "--access-key-secret", SECRET]
    args += ["--examples", "5", "--select", SELECT, "--report-dir", str(report_dir), *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _verdicts(report_dir: Path) -> dict[str, str]:
    doc = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    return {r["id"]: r["verdict"] for r in doc["requirements"]}


def _waivers(path: Path, ids: list[str], expires: date) -> Path:
    entries = [
        {"id": i, "reason": "known", "link": "https://example.invalid/1", "expires": str(expires)}
        for i in ids
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")  # JSON is YAML too
    return path


def test_main_job_writes_every_report_and_its_summary_matches(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp_path)]
    proc = subprocess.run(
        [*command, "--examples", "5"],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    overview = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    # The summary table, after the progress lines (which name the targets too).
    table = proc.stdout[proc.stdout.rindex("\ntarget ") :]
    kinds = {run["kind"] for run in overview["runs"]}
    assert kinds == {"server", "client"}
    for run in overview["runs"]:
        folder = tmp_path / run["reports"]
        for name in REPORTS:
            assert (folder / name).is_file(), f"{folder / name} missing"
        doc = json.loads((folder / "conformance.json").read_text(encoding="utf-8"))
        assert doc["summary"]["passed"] > 0 and doc["summary"]["failed"] == 0
        assert run["summary"] == {k: doc["summary"][k] for k in run["summary"]}
        # The printed table agrees with conformance.json, level by level.
        label = f"{doc['target']['kind']}: {doc['target']['name']}"[:36]
        block = table.split(label, 1)[1].split("->", 1)[0]
        for level, counts in doc["summary"]["by_level"].items():
            row = re.search(rf"{level}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", block)
            assert row, f"no {level} row for {label}"
            expected = [counts[k] for k in ("passed", "failed", "not_verified", "waived")]
            assert [int(g) for g in row.groups()] == expected


def test_a_failing_server_exits_1_and_names_the_requirement(
    mutant_url: str, tmp_path: Path
) -> None:
    code, output = _server(mutant_url, tmp_path)
    assert code == 1, output
    verdicts = _verdicts(tmp_path)
    for rid in get_mutant(MUTANT).breaks:
        assert verdicts[rid] == "failed"
    assert "NOT conformant" in output


def test_waived_failures_pass_the_gate_and_expired_waivers_fail_it(
    mutant_url: str, tmp_path: Path
) -> None:
    _server(mutant_url, tmp_path / "first")
    failed = [rid for rid, v in _verdicts(tmp_path / "first").items() if v == "failed"]
    assert failed
    passing = next(rid for rid, v in _verdicts(tmp_path / "first").items() if v == "passed")

    valid = _waivers(tmp_path / "w.yaml", [*failed, passing], date.today() + timedelta(days=30))
    code, output = _server(mutant_url, tmp_path / "waived", "--waivers", str(valid))
    assert code == 0, output
    doc = json.loads((tmp_path / "waived" / "conformance.json").read_text(encoding="utf-8"))
    assert {r["id"] for r in doc["requirements"] if r["verdict"] == "waived"} == set(failed)
    assert passing in {w["id"] for w in doc["unneeded_waivers"]}

    expired = _waivers(tmp_path / "old.yaml", failed, date.today() - timedelta(days=1))
    code, output = _server(mutant_url, tmp_path / "expired", "--waivers", str(expired))
    assert code == 1, output


def test_no_report_contains_the_secret(mutant_url: str, tmp_path: Path) -> None:
    code, output = _server(mutant_url, tmp_path)
    assert code == 1  # failures, so every report carries evidence
    assert SECRET not in output
    for name in REPORTS:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert SECRET not in text, f"{name} leaks the secret"
