"""Verdict rules: test outcomes -> requirement verdicts (conformance.verdicts)."""

from __future__ import annotations

from datetime import date

import pytest
from report_builders import TODAY, ledger_of, record, requirement

from conformance.errors import ConfigError
from conformance.verdicts import NO_TEST_REASON, compute_verdicts
from conformance.waivers import Waiver

REQ = requirement("doc.example.rule")
LATER = date(2026, 12, 31)


def verdict_of(*records, waivers=()):  # type: ignore[no-untyped-def]
    (v,) = compute_verdicts([REQ], ledger_of(*records), waivers, today=TODAY)
    return v


def test_one_pass_and_no_failure_is_passed() -> None:
    v = verdict_of(
        record("t.py::a", [REQ.id], "passed"),
        record("t.py::b", [REQ.id], "not_verified", reason="no fixture"),
    )
    assert v.verdict == "passed"
    assert v.tests == ["t.py::a", "t.py::b"]
    assert v.reason == "" and v.evidence == []


def test_any_failure_fails_the_requirement_even_among_passes() -> None:
    v = verdict_of(
        record("t.py::a", [REQ.id], "passed"),
        record("t.py::b", [REQ.id], "failed", reason="boom", evidence="full boom"),
        record("t.py::c", [REQ.id], "failed", reason="bang"),
    )
    assert v.verdict == "failed"
    assert v.reason == "boom; bang"
    assert v.evidence == ["full boom", "bang"]  # the reason stands in for missing evidence
    assert v.failed_tests == ["t.py::b", "t.py::c"]


def test_skips_give_not_verified_with_their_reasons() -> None:
    v = verdict_of(
        record(
            "t.py::a", [REQ.id], "not_verified", reason="no fixture provides a Stopped instance"
        ),
        record("t.py::b", [REQ.id], "not_verified", reason="DryRun-only target"),
        record("t.py::c", [REQ.id], "not_verified", reason="DryRun-only target"),
    )
    assert v.verdict == "not_verified"
    assert v.reason == "no fixture provides a Stopped instance; DryRun-only target"


def test_a_requirement_without_tests_is_not_verified_never_passed() -> None:
    v = verdict_of(record("t.py::other", ["doc.something.else"], "passed"))
    assert v.verdict == "not_verified"
    assert v.reason == NO_TEST_REASON
    assert v.tests == []


def test_a_test_counts_for_every_requirement_it_declares() -> None:
    other = requirement("protocol.example.other")
    ledger = ledger_of(record("t.py::a", [REQ.id, other.id], "failed", reason="x"))
    verdicts = compute_verdicts([REQ, other], ledger, today=TODAY)
    assert [v.verdict for v in verdicts] == ["failed", "failed"]


def test_a_valid_waiver_turns_a_failure_into_waived() -> None:
    waiver = Waiver(REQ.id, "known gap", "https://t.example/1", LATER)
    v = verdict_of(record("t.py::a", [REQ.id], "failed", reason="boom"), waivers=[waiver])
    assert v.verdict == "waived"
    assert v.waiver == waiver and not v.waiver_unneeded
    assert "known gap" in v.reason and "boom" in v.reason
    assert v.evidence == ["boom"]


def test_an_expired_waiver_does_not_waive() -> None:
    waiver = Waiver(REQ.id, "known gap", "https://t.example/1", date(2026, 5, 31))
    v = verdict_of(record("t.py::a", [REQ.id], "failed", reason="boom"), waivers=[waiver])
    assert v.verdict == "failed"
    assert "expired on 2026-05-31" in v.reason


def test_the_expiry_day_still_counts() -> None:
    waiver = Waiver(REQ.id, "known gap", "https://t.example/1", TODAY)
    v = verdict_of(record("t.py::a", [REQ.id], "failed", reason="boom"), waivers=[waiver])
    assert v.verdict == "waived"


def test_a_waived_requirement_that_passes_flags_its_waiver_unneeded() -> None:
    waiver = Waiver(REQ.id, "flaky", "https://t.example/1", LATER)
    v = verdict_of(record("t.py::a", [REQ.id], "passed"), waivers=[waiver])
    assert v.verdict == "passed" and v.waiver_unneeded and v.waiver == waiver


def test_a_waiver_on_an_unverified_requirement_is_neither_used_nor_unneeded() -> None:
    waiver = Waiver(REQ.id, "flaky", "https://t.example/1", LATER)
    v = verdict_of(record("t.py::a", [REQ.id], "not_verified", reason="x"), waivers=[waiver])
    assert v.verdict == "not_verified" and not v.waiver_unneeded


def test_a_waiver_for_an_unknown_id_is_a_config_error() -> None:
    waiver = Waiver("doc.no.such.id", "x", "https://t.example/1", LATER, entry=3)
    with pytest.raises(ConfigError, match=r"entry 3: 'doc.no.such.id'") as info:
        compute_verdicts([REQ], ledger_of(), [waiver], today=TODAY)
    assert info.value.exit_code == 2


def test_scope_leaves_requirements_out_and_keeps_catalogue_order() -> None:
    reqs = [requirement(f"{lv}.example.{n}") for n, lv in enumerate(["doc", "interop", "doc"])]
    verdicts = compute_verdicts(reqs, ledger_of(), scope=lambda r: r.level == "doc", today=TODAY)
    assert [v.id for v in verdicts] == ["doc.example.0", "doc.example.2"]
