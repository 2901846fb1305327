"""Test outcomes -> requirement verdicts (docs/contracts.md#verdicts).

A requirement's verdict comes from every test that declares it in the ledger, each test's
outcome *for that requirement* (a failed test fails only the ids its evidence supports):

* `failed` if any of them failed, or `waived` instead when a waiver that has not expired
  covers the requirement;
* `passed` if at least one passed and none failed (a waiver on it is then *unneeded*);
* `not_verified` otherwise, with the reason: the tests' skip reasons, or that no test of this
  suite verifies it. A requirement is never `passed` by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from conformance.spec.model import Requirement
from conformance.suite.ledger import FAILED, PASSED, Ledger, TestRecord
from conformance.waivers import Waiver, check_waiver_ids

__all__ = [
    "NO_TEST_REASON",
    "SKIPPED_REASON",
    "VERDICTS",
    "RequirementVerdict",
    "compute_verdicts",
]

VERDICTS = ("passed", "failed", "not_verified", "waived")
NO_TEST_REASON = "no test in this suite verifies it"
SKIPPED_REASON = "its tests were skipped without a reason"


@dataclass(frozen=True)
class RequirementVerdict:
    """What a run concluded about one requirement, and why."""

    id: str
    level: str
    kind: str
    text: str
    source: str
    verdict: str  # one of VERDICTS
    provenance: str = "doc"  # the source's tag (conformance.spec.model.PROVENANCES)
    strictness: str = "exact"  # how strictly it was judged (conformance.spec.model.STRICTNESS)
    tests: list[str] = field(default_factory=list)  # node ids of the tests that declare it
    reason: str = ""  # failures' first lines, skip reasons, or the waiver's reason
    evidence: list[str] = field(default_factory=list)  # full failure texts, one per failed test
    failed_tests: list[str] = field(default_factory=list)  # node ids, same order as evidence
    reproduce: list[str] = field(default_factory=list)  # the failures' own commands ("" if none)
    waiver: Waiver | None = None
    waiver_unneeded: bool = False  # waived, yet passed: the waiver can go


def compute_verdicts(
    requirements: Sequence[Requirement],
    ledger: Ledger,
    waivers: Sequence[Waiver] = (),
    *,
    scope: Callable[[Requirement], bool] | None = None,
    today: date | None = None,
) -> list[RequirementVerdict]:
    """One verdict per requirement in `scope` (all by default), in catalogue order.

    `today` decides which waivers have expired (an expired waiver does not waive; the report
    also fails the run for it). Default: today's date. Raises `ConfigError` when a waiver names
    an id that is not among `requirements`.
    """
    check_waiver_ids(waivers, [r.id for r in requirements])
    today = today or date.today()
    by_requirement: dict[str, list[TestRecord]] = {}
    for record in ledger:
        for rid in dict.fromkeys(record.requirements):
            by_requirement.setdefault(rid, []).append(record)
    waiver_of = {w.id: w for w in waivers}
    return [
        _verdict(r, by_requirement.get(r.id, []), waiver_of.get(r.id), today)
        for r in requirements
        if scope is None or scope(r)
    ]


def _verdict(
    requirement: Requirement, records: list[TestRecord], waiver: Waiver | None, today: date
) -> RequirementVerdict:
    rid = requirement.id
    failed = [r for r in records if r.outcome_of(rid) == FAILED]
    passed = [r for r in records if r.outcome_of(rid) == PASSED]
    base = RequirementVerdict(
        id=requirement.id,
        level=requirement.level,
        kind=requirement.kind,
        text=requirement.text,
        source=requirement.source,
        verdict="not_verified",
        provenance=requirement.provenance,
        strictness=requirement.strictness,
        tests=[r.nodeid for r in records],
        waiver=waiver,
    )
    if failed:
        failure_reason = "; ".join(_unique(r.reason or "failed" for r in failed))
        evidence = [r.evidence or r.reason or "failed" for r in failed]
        failed_ids = [r.nodeid for r in failed]
        reproduce = [r.reproduce for r in failed]
        if waiver is not None and not waiver.expired(today):
            return replace(
                base,
                verdict="waived",
                reason=f"waived until {waiver.expires.isoformat()}: {waiver.reason} "
                f"(failure: {failure_reason})",
                evidence=evidence,
                failed_tests=failed_ids,
                reproduce=reproduce,
            )
        if waiver is not None:
            failure_reason += f" (waiver expired on {waiver.expires.isoformat()})"
        return replace(
            base,
            verdict="failed",
            reason=failure_reason,
            evidence=evidence,
            failed_tests=failed_ids,
            reproduce=reproduce,
        )
    if passed:
        return replace(base, verdict="passed", waiver_unneeded=waiver is not None)
    skips = _unique(r.reason_of(rid) for r in records if r.reason_of(rid))
    return replace(base, reason="; ".join(skips) or (SKIPPED_REASON if records else NO_TEST_REASON))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
