"""What selftest concluded: one `SubjectResult` per suite run (a reference, a mutant, a faulty
client), the `SelftestResult` over them, selftest.json and the kill matrix as text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reports.diagnosis import REGENERATE, FaultSignature

__all__ = ["SelftestResult", "SubjectResult", "TestFailure"]

_MATRIX_IDS = 6  # ids shown per kill-matrix line (selftest.json keeps them all)


@dataclass(frozen=True)
class TestFailure:
    """One failed test of a run: its node id and the requirement ids it declares."""

    __test__ = False  # not a pytest test class

    nodeid: str
    requirements: tuple[str, ...]
    reason: str = ""  # the failure's first line, as the ledger keeps it


@dataclass(frozen=True)
class SubjectResult:
    """What one suite run said about one subject (a reference, a mutant, a faulty client).

    `baseline` holds the tests that failed on the matching reference run too: they say nothing
    about the subject (same suite, same seed, same node ids), so they neither kill it nor appear
    in `failed_requirements`.
    """

    role: str  # reference | mutant | faulty-client | variant
    kind: str  # server | client
    name: str
    description: str = ""
    breaks: tuple[str, ...] = ()
    # legitimate variants: the sentence granting the freedom and where it is quoted from
    freedom: str = ""
    source: str = ""
    passed: int = 0
    not_verified: int = 0
    failures: tuple[TestFailure, ...] = ()
    baseline: frozenset[str] = frozenset()
    pytest_exit_code: int | None = None
    duration_s: float = 0.0
    error: str | None = None  # the run gave no verdict (timeout, refused options, crash...)

    @property
    def failed(self) -> int:
        """How many tests failed (baseline ones included)."""
        return len(self.failures)

    @property
    def counted_failures(self) -> tuple[TestFailure, ...]:
        """The failures that did not happen on the reference."""
        return tuple(f for f in self.failures if f.nodeid not in self.baseline)

    @property
    def failed_requirements(self) -> tuple[str, ...]:
        """Requirement ids of the counted failures, in run order."""
        ids = (i for f in self.counted_failures for i in f.requirements)
        return tuple(dict.fromkeys(ids))

    @property
    def killed(self) -> bool:
        """A run with a verdict and a failure the reference does not share (pytest exit 1 with
        no ledgered failure means a test without requirement ids failed: that counts too)."""
        if self.error is not None:
            return False
        return bool(self.counted_failures) or (self.pytest_exit_code == 1 and not self.failures)

    @property
    def clean(self) -> bool:
        """A run that verified something and failed nothing (a reference's verdict)."""
        return (
            self.error is None
            and self.pytest_exit_code == 0
            and not self.failures
            and (self.passed > 0)
        )

    @property
    def false_alarm(self) -> bool:
        """A legitimate variant the suite failed (or could not judge): precision lost. Failures
        the reference shares are its own verdict, not the variant's."""
        if self.error is not None:
            return True
        return bool(self.counted_failures) or (self.pytest_exit_code == 1 and not self.failures)

    @property
    def caught_as_expected(self) -> bool:
        """At least one of the `breaks` ids is among the failed tests' requirements."""
        return bool(set(self.breaks) & set(self.failed_requirements))

    def to_json(self) -> dict[str, Any]:
        """The selftest.json entry for this subject."""
        common: dict[str, Any] = {
            "tests": {
                "passed": self.passed,
                "failed": self.failed,
                "not_verified": self.not_verified,
            },
            "failed_tests": [
                {"test": f.nodeid, "requirements": list(f.requirements), "reason": f.reason}
                for f in self.counted_failures
            ],
            "duration_s": self.duration_s,
            "pytest_exit_code": self.pytest_exit_code,
            "error": self.error,
        }
        if self.role == "variant":
            return {
                "name": self.name,
                "description": self.description,
                "freedom": self.freedom,
                "source": self.source,
                "passed": not self.false_alarm,
                "false_alarms": list(self.failed_requirements),
                **common,
            }
        if self.role == "reference":
            return {
                "name": self.name,
                "verdict": "clean" if self.clean else "failed",
                "failed_requirements": list(self.failed_requirements),
                **common,
            }
        return {
            "name": self.name,
            "description": self.description,
            "breaks": list(self.breaks),
            "killed": self.killed,
            "killed_by": list(self.failed_requirements) if self.killed else [],
            "caught_as_expected": self.caught_as_expected,
            "failed_on_reference_too": sorted(
                f.nodeid for f in self.failures if f.nodeid in self.baseline
            ),
            **common,
        }


@dataclass(frozen=True)
class SelftestResult:
    """The outcome of `run_selftest`; `ok` is the selftest's verdict."""

    seed: int
    examples: int
    duration_s: float
    reference: SubjectResult
    mutants: tuple[SubjectResult, ...]
    client_reference: SubjectResult | None = None  # None when clients were not included
    faulty_clients: tuple[SubjectResult, ...] = ()
    report_path: Path | None = None
    # precision: legitimate variants of the emulator and of the reference client
    variants: tuple[SubjectResult, ...] = ()
    client_variants: tuple[SubjectResult, ...] = ()

    @property
    def false_alarms(self) -> tuple[SubjectResult, ...]:
        """Legitimate variants the suite failed: each is a check stricter than its source."""
        return tuple(s for s in (*self.variants, *self.client_variants) if s.false_alarm)

    # Subjects whose failures no longer resemble their committed failure signature (None: not
    # compared, e.g. another example count than the signatures were made with). Reported only.
    stale_signatures: tuple[str, ...] | None = None

    def signatures(self) -> tuple[FaultSignature, ...]:
        """Each killed subject's failure signature: the ids it failed (the diagnosis of a run
        compares its failures with them, `conformance.reports.diagnosis`)."""
        kinds = {"mutant": "mutant", "faulty-client": "faulty client"}
        return tuple(
            FaultSignature(
                name=s.name,
                kind=kinds[s.role],
                suite=s.kind,
                description=s.description,
                requirements=frozenset(s.failed_requirements),
                root=frozenset(s.breaks),
            )
            for s in (*self.mutants, *self.faulty_clients)
            if s.killed
        )

    @property
    def survivors(self) -> tuple[SubjectResult, ...]:
        """Mutants and faulty clients that no test caught."""
        return tuple(s for s in (*self.mutants, *self.faulty_clients) if not s.killed)

    @property
    def references(self) -> tuple[SubjectResult, ...]:
        """The reference runs (server, and client when included)."""
        return (self.reference,) + (
            (self.client_reference,) if self.client_reference is not None else ()
        )

    @property
    def ok(self) -> bool:
        """Every reference clean, every mutant and faulty client killed (power), every
        legitimate variant passed (precision). (Signatures that drifted are reported, not
        failed: another seed finds other collateral failures of a small mutant;
        tests/selftest/test_signatures.py checks them at a fixed seed.)"""
        return (
            all(r.clean for r in self.references) and not self.survivors and not self.false_alarms
        )

    def to_json(self) -> dict[str, Any]:
        """The content of selftest.json."""
        clients: dict[str, Any] = {
            "included": self.client_reference is not None,
            "reference": None if self.client_reference is None else self.client_reference.to_json(),
            "faulty": [s.to_json() for s in self.faulty_clients],
            "variants": [s.to_json() for s in self.client_variants],
        }
        return {
            "ok": self.ok,
            "seed": self.seed,
            "examples": self.examples,
            "duration_s": self.duration_s,
            "reference": self.reference.to_json(),
            "mutants": [s.to_json() for s in self.mutants],
            "variants": [s.to_json() for s in self.variants],
            "clients": clients,
            "summary": {
                "mutants": len(self.mutants),
                "mutants_killed": sum(s.killed for s in self.mutants),
                "faulty_clients": len(self.faulty_clients),
                "faulty_clients_killed": sum(s.killed for s in self.faulty_clients),
                "survivors": [s.name for s in self.survivors],
                "variants": len(self.variants),
                "variants_passed": sum(not s.false_alarm for s in self.variants),
                "client_variants": len(self.client_variants),
                "client_variants_passed": sum(not s.false_alarm for s in self.client_variants),
                "false_alarms": [s.name for s in self.false_alarms],
                "stale_signatures": None
                if self.stale_signatures is None
                else list(self.stale_signatures),
            },
        }

    def kill_matrix_lines(self) -> list[str]:
        """The kill matrix as text: each subject, whether it died, and the ids that caught it.

        An id marked `*` is one the subject is expected to break; `expected` says whether any
        such id caught it (a kill by other ids only still counts, but points at a weak check).
        """
        lines: list[str] = []
        for ref in self.references:
            lines.append(_reference_line(ref))
        sections = [("server suite x mutants", self.mutants)]
        if self.client_reference is not None:
            sections.append(("client suite x faulty clients", self.faulty_clients))
        for title, subjects in sections:
            killed = sum(s.killed for s in subjects)
            lines.append("")
            lines.append(f"{title}: {killed}/{len(subjects)} killed")
            width = max((len(s.name) for s in subjects), default=4)
            lines.append(f"  {'name':<{width}}  killed  expected  caught by (* = an expected id)")
            for s in subjects:
                lines.append(_subject_line(s, width))
        precision = [("server suite x legitimate variants", self.variants)]
        if self.client_variants:
            precision.append(("client suite x legitimate client variants", self.client_variants))
        for title, subjects in precision:
            if not subjects:
                continue
            good = sum(not s.false_alarm for s in subjects)
            lines.append("")
            lines.append(f"{title}: {good}/{len(subjects)} passed")
            width = max(len(s.name) for s in subjects)
            lines.append(f"  {'name':<{width}}  passed  false alarms (the suite failed it on)")
            for s in subjects:
                lines.append(_variant_line(s, width))
        survivors = self.survivors
        lines.append("")
        if survivors:
            lines.append("survivors: " + ", ".join(s.name for s in survivors))
        if self.false_alarms:
            lines.append("false alarms: " + ", ".join(s.name for s in self.false_alarms))
        if self.stale_signatures:
            lines.append(
                "failure signatures differ for: "
                + ", ".join(self.stale_signatures)
                + " (other seeds find other collateral failures; after changing what the "
                f"suites check, run `{REGENERATE}` and commit the file)"
            )
        elif self.stale_signatures is not None:
            lines.append("failure signatures: current")
        lines.append(
            f"selftest {'passed' if self.ok else 'FAILED'} in {self.duration_s:.1f} s "
            f"(seed {self.seed}, {self.examples} examples)"
        )
        return lines


def _reference_line(ref: SubjectResult) -> str:
    verdict = "clean" if ref.clean else "FAILED"
    detail = f"{ref.passed} passed, {ref.failed} failed, {ref.not_verified} not verified"
    if ref.error:
        detail = f"error: {ref.error.splitlines()[0]}"
    elif ref.failed_requirements:
        detail += "; failing: " + " ".join(ref.failed_requirements)
    return f"{ref.kind} reference ({ref.name}): {verdict} ({detail}, {ref.duration_s:.1f} s)"


def _variant_line(s: SubjectResult, width: int) -> str:
    if s.error:
        detail = f"(run did not complete: {s.error.splitlines()[0]})"
    else:
        detail = " ".join(s.failed_requirements) or (
            "(a test without requirement ids)" if s.false_alarm else "-"
        )
    return f"  {s.name:<{width}}  {'NO' if s.false_alarm else 'yes':<6}  {detail}"


def _subject_line(s: SubjectResult, width: int) -> str:
    if s.error:
        caught = f"(run did not complete: {s.error.splitlines()[0]})"
    elif not s.killed:
        caught = "-  (expected: " + " ".join(s.breaks) + ")"
    else:
        # expected ids first, so a long list still shows whether the right check fired
        hits = [f"{i}*" for i in s.failed_requirements if i in s.breaks]
        others = [i for i in s.failed_requirements if i not in s.breaks]
        shown = [*hits, *others][: max(len(hits), _MATRIX_IDS)]
        more = len(hits) + len(others) - len(shown)
        caught = " ".join(shown) + (f" +{more} more" if more else "")
        caught = caught or "(a test without requirement ids)"
    killed = "yes" if s.killed else "NO"
    expected = ("yes" if s.caught_as_expected else "no") if s.killed else "-"
    return f"  {s.name:<{width}}  {killed:<6}  {expected:<8}  {caught}"
