"""RunReport: the gate (docs/command-line.md#exit-codes), counts, reproductions, redaction."""

from __future__ import annotations

import shlex
from datetime import date, timedelta

import pytest
from report_builders import (
    CURL,
    TODAY,
    build_simple_report,
    ledger_of,
    record,
    requirement,
)

from conformance.reports import model
from conformance.reports.model import RunReport, reproduction_command
from conformance.waivers import Waiver

A, B = requirement("doc.example.a"), requirement("protocol.example.b")
LATER = date(2026, 12, 31)


def test_all_passed_is_conformant_exit_0() -> None:
    report = build_simple_report(
        [A, B], ledger_of(record("t.py::a", [A.id, B.id], "passed", checks=4))
    )
    assert (report.exit_code, report.conformant, report.exit_reasons) == (0, True, [])


def test_not_verified_requirements_alone_do_not_fail_a_run_that_verified_something() -> None:
    report = build_simple_report([A, B], ledger_of(record("t.py::a", [A.id], "passed")))
    assert report.summary.not_verified == 1 and report.exit_code == 0


def test_an_unwaived_failure_is_exit_1() -> None:
    ledger = ledger_of(
        record("t.py::a", [A.id], "passed"), record("t.py::b", [B.id], "failed", reason="x")
    )
    report = build_simple_report([A, B], ledger)
    assert report.exit_code == 1
    assert report.exit_reasons == ["1 requirement(s) failed without a waiver"]


def test_a_waived_failure_is_honoured_exit_0() -> None:
    ledger = ledger_of(
        record("t.py::a", [A.id], "passed"), record("t.py::b", [B.id], "failed", reason="x")
    )
    waiver = Waiver(B.id, "known", "https://t.example/1", LATER)
    report = build_simple_report([A, B], ledger, [waiver])
    assert report.summary.waived == 1 and report.exit_code == 0


def test_an_expired_waiver_fails_the_run_even_when_everything_passes() -> None:
    waiver = Waiver(B.id, "known", "https://t.example/1", TODAY - timedelta(days=1))
    ledger = ledger_of(record("t.py::a", [A.id, B.id], "passed"))
    report = build_simple_report([A, B], ledger, [waiver])
    assert report.summary.failed == 0
    assert report.exit_code == 1
    assert [w.id for w in report.expired_waivers] == [B.id]
    assert [w.id for w in report.unneeded_waivers] == [B.id]
    assert report.exit_reasons == [f"the waiver of {B.id} expired on 2026-05-31"]


def test_a_run_that_verified_nothing_fails() -> None:
    ledger = ledger_of(record("t.py::a", [A.id], "not_verified", reason="no fixture"))
    report = build_simple_report([A, B], ledger)
    assert report.summary.failed == 0 and report.exit_code == 1
    assert report.exit_reasons == ["the run verified nothing: no requirement passed"]
    assert build_simple_report([A, B], ledger_of()).exit_code == 1


def test_a_run_where_every_failure_is_waived_but_nothing_passed_still_fails() -> None:
    waiver = Waiver(A.id, "known", "https://t.example/1", LATER)
    report = build_simple_report([A], ledger_of(record("t.py::a", [A.id], "failed")), [waiver])
    assert report.summary.waived == 1 and report.exit_code == 1


def test_summary_counts_overall_and_per_level(mixed_report: RunReport) -> None:
    s = mixed_report.summary
    assert (s.requirements, s.passed, s.failed, s.not_verified, s.waived) == (7, 2, 2, 2, 1)
    assert list(s.by_level) == ["doc", "protocol", "interop"]
    assert (s.by_level["doc"].not_verified, s.by_level["protocol"].waived) == (2, 1)
    for field in ("requirements", "passed", "failed", "not_verified", "waived"):
        assert getattr(s, field) == sum(getattr(c, field) for c in s.by_level.values())
    assert (mixed_report.stats.tests, mixed_report.stats.checks) == (7, 19)


def test_every_failure_carries_one_reproduction_per_failed_test(mixed_report: RunReport) -> None:
    for r in mixed_report.requirements:
        if r.verdict in ("failed", "waived"):
            assert len(r.reproduce) == len(r.evidence) == len(r.failed_tests) >= 1
        else:
            assert r.reproduce == r.evidence == []
    beta = next(r for r in mixed_report.requirements if r.id == "doc.beta.fails")
    assert beta.reproduce == [CURL]  # the failure's own command (a ledger field) wins
    machine = next(r for r in mixed_report.requirements if r.id == "interop.eta.fails-hypothesis")
    assert machine.reproduce[0].startswith("python -m pytest --pyargs ")  # synthesized


@pytest.mark.parametrize(
    ("nodeid", "seed", "expected"),
    [
        (
            "conformance/suite/server/test_dryrun.py::test_changes_nothing[v2-GET]",
            7,
            "python -m pytest --pyargs conformance.suite.server.test_dryrun "
            "-k 'test_changes_nothing[v2-GET]' -p no:randomly --hypothesis-seed=7",
        ),
        (
            "../usr/lib/python3/site-packages/conformance/suite/client/test_x.py::TestM::runTest",
            None,
            "python -m pytest --pyargs conformance.suite.client.test_x -k 'TestM and runTest' "
            "-p no:randomly",
        ),
        (
            "conformance/suite/server/test_y.py::test_ids[id with space]",
            None,
            "python -m pytest --pyargs conformance.suite.server.test_y -k test_ids -p no:randomly",
        ),
    ],
)
def test_a_pytest_command_is_synthesized_when_the_failure_has_none(
    nodeid: str, seed: int | None, expected: str
) -> None:
    assert reproduction_command(nodeid, seed=seed) == expected


def test_the_synthesized_command_names_a_server_url_target() -> None:
    target = model.TargetInfo("server", "http://10.0.0.1:8080")
    command = reproduction_command("conformance/suite/server/t.py::test_a", target=target)
    assert shlex.split(command)[-1] == "--ecs-target=http://10.0.0.1:8080"
