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
