"""The ledger: what each test of a run said about the requirements it declares.

The pytest plugin fills it from test reports (on the xdist controller too, since requirement ids
travel in `report.user_properties`); `conformance.verdicts` turns it into requirement verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.files import write_text

__all__ = ["Ledger", "TestRecord"]

# pytest outcomes as the ledger keeps them: a skip is "not verified, and here is why".
PASSED, FAILED, NOT_VERIFIED = "passed", "failed", "not_verified"


@dataclass
class TestRecord:
    """One test's outcome, tied to the requirement ids it declares."""

    __test__ = False  # not a pytest test class

    nodeid: str
    requirements: list[str]
    outcome: str  # passed | failed | not_verified
    reason: str = ""  # why not verified, or the failure's first line
    evidence: str = ""  # the failure's full text (secrets already redacted)
    reproduce: str = ""  # the failure's own reproduction command, when it gave one
    duration_s: float = 0.0
    checks: int = 0  # requests or cases the test checked
    # Per requirement, where it differs from `outcome`: a failed test fails only the ids its
    # evidence supports; the others are not_verified, with their own reason.
    outcomes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    # What the target did that no source describes (failures.Observation.to_dict()).
    observations: list[dict[str, str]] = field(default_factory=list)

    def outcome_of(self, requirement: str) -> str:
        """This test's outcome for `requirement`."""
        return self.outcomes.get(requirement, self.outcome)

    def reason_of(self, requirement: str) -> str:
        """Why `requirement` is not verified or failed here ("" when it passed)."""
        return self.reasons.get(requirement, self.reason)

    @property
    def failed_requirements(self) -> list[str]:
        """The declared ids this test failed."""
        return [r for r in self.requirements if self.outcome_of(r) == FAILED]


@dataclass
class Ledger:
    """Records in arrival order; one per test (setup errors and call failures merge)."""

    records: dict[str, TestRecord] = field(default_factory=dict)

    def add(self, record: TestRecord) -> None:
        previous = self.records.get(record.nodeid)
        if previous is None or _rank(record.outcome) > _rank(previous.outcome):
            if previous is not None:
                record.duration_s += previous.duration_s
                record.checks += previous.checks
                record.observations[:0] = previous.observations
            self.records[record.nodeid] = record
        else:
            previous.duration_s += record.duration_s
            previous.checks += record.checks
            previous.observations.extend(record.observations)

    def __iter__(self) -> Iterator[TestRecord]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    def dump(self, path: Path) -> None:
        write_text(path, json.dumps([asdict(r) for r in self], indent=1))

    @classmethod
    def load(cls, path: Path) -> Ledger:
        ledger = cls()
        for raw in json.loads(path.read_text(encoding="utf-8")):
            ledger.add(TestRecord(**raw))
        return ledger


def _rank(outcome: str) -> int:
    return {PASSED: 0, NOT_VERIFIED: 1, FAILED: 2}.get(outcome, 0)
