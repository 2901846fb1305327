"""The plugin's ledger keeps a failure's reproduction command and a skip's not-verified reason
as fields, taken from the exceptions themselves (inside hypothesis too), not from their text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUITE = """
import pytest
from hypothesis import given, settings, strategies as st

from conformance.spec import load_spec
from conformance.suite.failures import fail, not_verified
from conformance.targets.http import DestructiveCallRefused

RID = "doc.dryrun.passes"


@pytest.mark.requirement(RID)
def test_fails_with_its_command():
    raise fail(load_spec(), RID, expected="a", received="b", reproduce="replay --this")


@pytest.mark.requirement(RID)
@settings(max_examples=5, database=None)
@given(st.integers())
def test_fails_inside_hypothesis(n):
    raise fail(load_spec(), RID, expected="a", received=str(n), reproduce="replay --given")


@pytest.mark.requirement(RID)
def test_fails_without_a_command():
    assert False, "plain"


@pytest.mark.requirement(RID)
def test_cannot_judge():
    not_verified("needs: a colon")


@pytest.mark.requirement(RID)
def test_refused_by_the_guard():
    raise DestructiveCallRefused("not loopback")


@pytest.mark.requirement(RID)
def test_plain_skip():
    pytest.skip("just skipped")
"""


def test_the_ledger_keeps_reproductions_and_reasons(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_recorded=SUITE)
    results = tmp_path / "ledger.json"
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", f"--ecs-results={results}")
    records = {r["nodeid"].rpartition("::")[2]: r for r in json.loads(results.read_text())}
    assert records["test_fails_with_its_command"]["reproduce"] == "replay --this"
    assert records["test_fails_inside_hypothesis"]["reproduce"] == "replay --given"
    assert records["test_fails_without_a_command"]["reproduce"] == ""
    assert records["test_cannot_judge"]["reason"] == "needs: a colon"
    assert records["test_refused_by_the_guard"]["reason"] == "not loopback"
    assert records["test_plain_skip"]["reason"] == "just skipped"
    assert {r["outcome"] for n, r in records.items() if "fails" in n} == {"failed"}


PER_REQUIREMENT = """
import pytest

from conformance.spec import load_spec
from conformance.suite.failures import Observation, depends_on, fail
from conformance.suite.plugin import record_observation

A, B, C = "doc.dryrun.passes", "protocol.dryrun.outcome", "doc.response.RequestId"


@pytest.mark.requirement(A, B, C)
def test_one_of_three_fails():
    raise fail(load_spec(), B, expected="x", received="y")


@pytest.mark.requirement(A, B)
def test_plain_assertion_fails_all():
    assert False


@pytest.mark.requirement(C)
def test_depends(request):
    record_observation(request.node, Observation("undocumented-code", "HTTP 400 Code X"))
    depends_on(B, "the probe answered 200")


@pytest.mark.requirement(A)
def test_observes_and_passes(request):
    record_observation(request.node, Observation("extra-field", "Foo in the envelope", "ev", A))
"""


def test_a_failure_fails_only_the_ids_its_evidence_supports(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    from conformance.spec import load_spec
    from conformance.suite.ledger import Ledger
    from conformance.verdicts import compute_verdicts

    pytester.makepyfile(test_per_requirement=PER_REQUIREMENT)
    results = tmp_path / "ledger.json"
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", f"--ecs-results={results}")
    ledger = Ledger.load(results)
    records = {r.nodeid.rpartition("::")[2]: r for r in ledger}
    one = records["test_one_of_three_fails"]
    assert one.failed_requirements == ["protocol.dryrun.outcome"]
    assert one.outcome_of("doc.dryrun.passes") == "not_verified"
    assert "stopped at the failure of protocol.dryrun.outcome" in one.reason_of("doc.dryrun.passes")
    assert records["test_plain_assertion_fails_all"].failed_requirements == [
        "doc.dryrun.passes",
        "protocol.dryrun.outcome",
    ]
    depends = records["test_depends"]
    assert depends.outcome == "not_verified"
    assert depends.reason.startswith("depends on protocol.dryrun.outcome, which failed here")
    assert records["test_observes_and_passes"].outcome == "passed"
    kinds = [o["kind"] for r in ledger for o in r.observations]
    assert sorted(kinds) == ["extra-field", "undocumented-code"]
    spec = load_spec()
    verdicts = {v.id: v for v in compute_verdicts(spec.requirements, ledger)}
    assert verdicts["doc.response.RequestId"].verdict == "not_verified"
    assert verdicts["protocol.dryrun.outcome"].verdict == "failed"
    assert verdicts["doc.dryrun.passes"].verdict == "failed"  # the plain assertion
