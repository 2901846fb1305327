"""Issue 11 (6) and issue 12 (5): reports are never lost or half-replaced; the main job's
top-level report.html is the matrix of targets x requirements; the diagnosis of a failing run."""

from __future__ import annotations

import errno
import html as html_lib
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_builders import build_mixed_report, build_simple_report, ledger_of, record, requirement

from conformance import files
from conformance.errors import ReportWriteError
from conformance.reports import write_reports
from conformance.reports.diagnosis import FaultSignature, closest_faults, diagnose
from conformance.reports.index import write_run_index


def _fail_on(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the rename that would put `name` in place fail as a full disk does."""
    real = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == name:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)


def test_a_write_that_fails_late_keeps_the_reports_already_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_mixed_report()
    write_reports(report, tmp_path)  # yesterday's reports
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    _fail_on(monkeypatch, "junit.xml")
    with pytest.raises(ReportWriteError) as raised:
        write_reports(build_mixed_report(seed=99), tmp_path)
    assert raised.value.exit_code == 3
    assert "junit.xml" in str(raised.value) and "No space left" in str(raised.value)
    # conformance.json is the new one, whole; junit.xml is yesterday's, whole; no temporary
    # file is left behind.
    assert '"seed": 99' in (tmp_path / "conformance.json").read_text(encoding="utf-8")
    assert (tmp_path / "junit.xml").read_bytes() == before["junit.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)


def test_the_command_line_says_a_late_write_failed_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_on(monkeypatch, "summary.md")
    args = ["server", "embedded", "--select", "test_defaults", "--examples", "2"]
    result = CliRunner().invoke(main_command(), [*args, "--report-dir", str(tmp_path)])
    assert result.exit_code == 3, result.output
    assert "cannot write" in result.output and "summary.md" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "conformance.json").is_file() and (tmp_path / "junit.xml").is_file()


def main_command():  # type: ignore[no-untyped-def]
    from conformance.cli import main

    return main


def test_the_run_overview_is_a_matrix_of_targets_and_requirements(tmp_path: Path) -> None:
    ids = ["doc.a", "doc.b", "doc.c"]
    reqs = [requirement(i) for i in ids]
    server = build_simple_report(
        reqs,
        ledger_of(
            record("t::a", ["doc.a"], "passed"),
            record("t::b", ["doc.b"], "failed", reason="expected x; received y"),
        ),
    )
    client = build_simple_report(
        reqs, ledger_of(record("t::a", ["doc.a"], "passed")), kind="client", name="reference"
    )
    runs = [(server, tmp_path / "server-embedded"), (client, tmp_path / "client-reference")]
    for report, folder in runs:
        write_reports(report, folder)
    write_run_index(runs, tmp_path, started_at=datetime(2026, 1, 2), skipped=[("node-x", "no")])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    # What failed comes first, linked to that target's report opened on its failures.
    failed_table = page.split('id="matrix-failed"', 1)[1].split("</table>", 1)[0]
    assert "doc.b" in failed_table and "doc.a" not in failed_table
    assert 'href="server-embedded/report.html#verdict=failed&amp;q=doc.b"' in failed_table
    cells = re.findall(r'<td class="cell (\w+)"', page)
    assert set(cells) >= {"passed", "failed", "not_verified"}
    assert 'href="client-reference/report.html#q=doc.a"' in page
    assert "skipped client <code>node-x</code>" in page
    assert "report.html" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"#]+)', page):
        assert (tmp_path / html_lib.unescape(href)).is_file(), href


def test_a_run_matching_a_known_fault_names_it_and_puts_its_group_first() -> None:
    reqs = [requirement(i) for i in ("doc.dryrun.x", "doc.param.y", "protocol.nonce.z")]
    reqs = [
        type(r)(r.id, r.level, kind, r.text, r.source)
        for r, kind in zip(reqs, ("dryrun", "parameter", "nonce"), strict=True)
    ]
    ledger = ledger_of(*(record(f"t::{r.id}", [r.id], "failed", reason="bad") for r in reqs))
    report = build_simple_report(reqs, ledger)
    known = FaultSignature(
        "param-bug",
        "mutant",
        "server",
        "parameters read wrongly",
        frozenset(r.id for r in reqs),
        root=frozenset({"doc.param.y"}),
    )
    diagnosis = diagnose(report, [known])
    assert [k.signature.name for k in diagnosis.closest] == ["param-bug"]
    assert diagnosis.groups[0][0].key == "parameters"  # the fault's own id leads
    assert diagnosis.first is not None and diagnosis.first.id == "doc.param.y"
    assert [c.key for c, _ in diagnosis.groups[1:]] == ["dryrun", "authentication"]
    # Without a match: the fixed fix-first order, DryRun first.
    plain = diagnose(report, [])
    assert not plain.closest and plain.groups[0][0].key == "dryrun"
    assert closest_faults({"a"}, [known], suite="server") == ()  # not close: nothing named
