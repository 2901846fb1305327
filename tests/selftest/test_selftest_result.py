"""SelftestResult: kill logic, verdict, selftest.json shape and the kill matrix text."""

from __future__ import annotations

import json

from conformance.selftest import SelftestResult, SubjectResult, TestFailure

REFERENCE = SubjectResult(
    role="reference", kind="server", name="reference-emulator", passed=40, pytest_exit_code=0
)


def mutant(
    name: str,
    failed: tuple[str, ...],
    breaks: tuple[str, ...] = ("a.b",),
    baseline: frozenset[str] = frozenset(),
) -> SubjectResult:
    return SubjectResult(
        role="mutant",
        kind="server",
        name=name,
        description=f"{name} deviates",
        breaks=breaks,
        passed=10,
        failures=tuple(TestFailure(f"test_{i}", (i,)) for i in failed),
        baseline=baseline,
        pytest_exit_code=1 if failed else 0,
    )


def result(*mutants: SubjectResult, reference: SubjectResult = REFERENCE) -> SelftestResult:
    return SelftestResult(seed=7, examples=3, duration_s=1.5, reference=reference, mutants=mutants)


def test_all_killed_and_clean_reference_is_ok() -> None:
    r = result(mutant("m1", ("a.b",)), mutant("m2", ("x.y",)))
    assert r.ok
    assert not r.survivors


def test_a_survivor_fails_the_selftest() -> None:
    r = result(mutant("m1", ("a.b",)), mutant("m2", ()))
    assert not r.ok
    assert [s.name for s in r.survivors] == ["m2"]
    assert "survivors: m2" in r.kill_matrix_lines()


def test_a_failing_reference_fails_the_selftest() -> None:
    bad = SubjectResult(
        role="reference",
        kind="server",
        name="ref",
        passed=3,
        failures=(TestFailure("t", ("a.b",)),),
        pytest_exit_code=1,
    )
    assert not bad.clean
    assert not result(mutant("m1", ("a.b",)), reference=bad).ok


def test_failures_shared_with_the_reference_do_not_kill() -> None:
    shared = mutant("m", ("a.b",), baseline=frozenset({"test_a.b"}))
    assert not shared.killed
    assert shared.failed == 1 and shared.failed_requirements == ()
    both = mutant("m", ("a.b", "c.d"), baseline=frozenset({"test_a.b"}))
    assert both.killed and both.failed_requirements == ("c.d",)


def test_a_reference_that_verified_nothing_is_not_clean() -> None:
    empty = SubjectResult(role="reference", kind="server", name="ref", pytest_exit_code=0)
    assert not empty.clean


def test_a_run_that_did_not_complete_is_not_a_kill() -> None:
    broken = SubjectResult(role="mutant", kind="server", name="m", error="timed out")
    assert not broken.killed
    assert not result(broken).ok


def test_caught_as_expected_marks_the_breaks_ids() -> None:
    r = result(mutant("m1", ("c.d", "a.b")), mutant("m2", ("x.y",)))
    lines = r.kill_matrix_lines()
    m1 = next(line for line in lines if line.strip().startswith("m1"))
    m2 = next(line for line in lines if line.strip().startswith("m2"))
    assert "a.b*" in m1 and "c.d*" not in m1 and "yes" in m1
    assert m1.index("a.b*") < m1.index("c.d")  # expected ids come first
    assert "x.y" in m2 and "x.y*" not in m2
    assert r.mutants[0].caught_as_expected and not r.mutants[1].caught_as_expected


def test_long_id_lists_are_shortened_in_the_matrix() -> None:
    ids = tuple(f"id.{n}" for n in range(20))
    r = result(mutant("m1", ids, breaks=("id.19",)))
    line = next(line for line in r.kill_matrix_lines() if line.strip().startswith("m1"))
    assert "id.19*" in line and "more" in line
    assert len(r.to_json()["mutants"][0]["killed_by"]) == 20


def test_json_shape() -> None:
    data = json.loads(json.dumps(result(mutant("m1", ("a.b",))).to_json()))
    assert data["reference"]["verdict"] == "clean"
    assert data["seed"] == 7 and data["duration_s"] == 1.5
    (m1,) = data["mutants"]
    assert {"name", "description", "breaks", "killed", "killed_by"} <= set(m1)
    assert m1["killed"] is True and m1["killed_by"] == ["a.b"]
    assert data["clients"] == {"included": False, "reference": None, "faulty": [], "variants": []}


def test_a_legitimate_variant_the_suite_fails_is_a_false_alarm_and_fails_selftest() -> None:
    from conformance.selftest.result import SelftestResult, SubjectResult, TestFailure

    clean = SubjectResult("reference", "server", "ref", passed=3, pytest_exit_code=0)
    good = SubjectResult("variant", "server", "v1", passed=3, pytest_exit_code=0, freedom="f")
    bad = SubjectResult(
        "variant",
        "server",
        "v2",
        passed=2,
        pytest_exit_code=1,
        failures=(TestFailure("t::x", ("protocol.param.invalid",)),),
    )
    ok = SelftestResult(1, 8, 1.0, clean, (), variants=(good,))
    assert ok.ok and not good.false_alarm
    failed = SelftestResult(1, 8, 1.0, clean, (), variants=(good, bad))
    assert not failed.ok and failed.false_alarms == (bad,)
    data = failed.to_json()
    assert data["summary"]["false_alarms"] == ["v2"]
    assert data["variants"][1]["false_alarms"] == ["protocol.param.invalid"]
    assert "false alarms: v2" in "\n".join(failed.kill_matrix_lines())
