"""What a failing run should fix first: its failures grouped by likely cause, and the known
fault they resemble most.

Causes: the failed requirements grouped by their kind, the groups in the order in which one
explains the next (a request the gateway refuses never reaches the operation; a DryRun that
changes state breaks every check that probes with DryRun; an unreadable answer breaks every
check that reads it; ...). Known faults: each mutant's and faulty client's *failure signature*,
the requirement ids selftest saw it fail (`fault_signatures.json` beside this module, written
by `ecs-conformance selftest --update-signatures`); a run whose failed ids are close to one
(Jaccard similarity) is told "closest known fault: <description> (mutant <name>)", and that
fault's cause group comes first.

    >>> similarity({"a", "b"}, {"a", "b", "c"})
    0.667
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.files import write_text
from conformance.reports.model import RequirementResult, RunReport

__all__ = [
    "CAUSES",
    "CLOSE_ENOUGH",
    "REGENERATE",
    "SIGNATURES_PATH",
    "Cause",
    "Diagnosis",
    "FaultSignature",
    "KnownFault",
    "closest_faults",
    "diagnose",
    "load_signatures",
    "signatures_examples",
    "similarity",
    "write_signatures",
]

SIGNATURES_PATH = Path(__file__).with_name("fault_signatures.json")
REGENERATE = "ecs-conformance selftest --update-signatures"
# How alike a run's failures and a signature must be to name the fault, and how close to the
# best another one must be to be named beside it.
CLOSE_ENOUGH = 0.5
_TIE = 0.05


@dataclass(frozen=True)
class Cause:
    """One likely cause: a title, why it comes where it does, the requirement kinds it covers."""

    key: str
    title: str
    why: str
    kinds: tuple[str, ...]


# Fix-first order: each group can explain failures in the groups after it.
CAUSES: tuple[Cause, ...] = (
    Cause(
        "dryrun",
        "DryRun",
        "the suite probes with DryRun: a wrong DryRun fails the checks after it too",
        ("dryrun",),
    ),
    Cause(
        "authentication",
        "signatures and authentication",
        "a request the gateway refuses never reaches the operation",
        ("signature", "nonce", "timestamp", "authentication", "action", "version"),
    ),
    Cause(
        "envelope",
        "answers and envelopes",
        "every other check reads these answers",
        ("envelope", "format", "response", "sample", "transport", "method"),
    ),
    Cause(
        "state",
        "instance state and locks",
        "a wrong status or lock decides which error every later call gets",
        ("state", "lock", "forced-restart", "fault"),
    ),
    Cause(
        "parameters",
        "parameters and booleans",
        "a parameter read wrongly changes what the call does",
        ("parameter", "type", "default", "valid-value", "boolean", "encoding"),
    ),
    Cause("errors", "error answers", "each stands alone", ("error",)),
    Cause("client", "client behaviour", "each stands alone", ("retries", "client")),
)
_OTHER = Cause("other", "other requirements", "", ())


@dataclass(frozen=True)
class FaultSignature:
    """A known fault (a mutant or a faulty client) and the requirement ids selftest saw it
    fail."""

    name: str
    kind: str  # mutant | faulty client
    suite: str  # server | client
    description: str
    requirements: frozenset[str]
    root: frozenset[str] = frozenset()  # the ids it is meant to break (its `breaks`)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "suite": self.suite,
            "description": self.description,
            "breaks": sorted(self.root),
            "requirements": sorted(self.requirements),
        }


@dataclass(frozen=True)
class KnownFault:
    """A signature a run's failures resemble, and how much."""

    signature: FaultSignature
    similarity: float
    shared: int  # failed ids the run and the signature have in common
    failed: int  # failed ids of the run

    def describe(self) -> str:
        s = self.signature
        return (
            f"{s.description} ({s.kind} {s.name}; {self.shared} of the {self.failed} failures "
            f"are its signature)"
        )


@dataclass(frozen=True)
class Diagnosis:
    """The failures of a run in fix-first order: (cause, failures) groups, and the closest
    known faults (empty when none is close)."""

    groups: tuple[tuple[Cause, tuple[RequirementResult, ...]], ...] = ()
    closest: tuple[KnownFault, ...] = field(default_factory=tuple)

    @property
    def first(self) -> RequirementResult | None:
        """The failure to fix first."""
        return self.groups[0][1][0] if self.groups else None


def similarity(a: Collection[str], b: Collection[str]) -> float:
    """Jaccard similarity of two id sets (0 when both are empty), rounded to 3 places."""
    union = set(a) | set(b)
    return round(len(set(a) & set(b)) / len(union), 3) if union else 0.0


def load_signatures(path: Path = SIGNATURES_PATH) -> tuple[FaultSignature, ...]:
    """The committed failure signatures (none when the file is missing or unreadable: a
    diagnosis without them still groups the failures)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(
        FaultSignature(
            name=str(f["name"]),
            kind=str(f["kind"]),
            suite=str(f["suite"]),
            description=str(f["description"]),
            requirements=frozenset(map(str, f["requirements"])),
            root=frozenset(map(str, f.get("breaks", ()))),
        )
        for f in data.get("faults", ())
        if isinstance(f, Mapping)
    )


def signatures_examples(path: Path = SIGNATURES_PATH) -> int | None:
    """How many examples per property the committed signatures were made with (None: no
    readable file): selftest compares its runs with them only at that count."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("examples")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def write_signatures(
    signatures: Sequence[FaultSignature],
    *,
    seed: int,
    examples: int,
    path: Path = SIGNATURES_PATH,
) -> Path:
    """Write `fault_signatures.json` (atomically); returns its path."""
    doc = {
        "about": "Requirement ids each mutant and faulty client fails, as selftest saw them; "
        f"regenerate with `{REGENERATE}`.",
        "seed": seed,
        "examples": examples,
        "faults": [s.to_json() for s in signatures],
    }
    return write_text(path, json.dumps(doc, indent=1) + "\n")


def closest_faults(
    failed: Collection[str], signatures: Sequence[FaultSignature], *, suite: str
) -> tuple[KnownFault, ...]:
    """The signatures of `suite` most like `failed`: the best one, and any within a hair of
    it; none when even the best is not close."""
    scored = [
        KnownFault(
            s, similarity(failed, s.requirements), len(set(failed) & s.requirements), len(failed)
        )
        for s in signatures
        if s.suite == suite and s.requirements
    ]
    if not failed or not scored:
        return ()
    best = max(k.similarity for k in scored)
    if best < CLOSE_ENOUGH:
        return ()
    ties = [k for k in scored if k.similarity >= best - _TIE]
    return tuple(sorted(ties, key=lambda k: -k.similarity))


def diagnose(report: RunReport, signatures: Sequence[FaultSignature] | None = None) -> Diagnosis:
    """Group `report`'s failures by likely cause, fix-first, and name the closest known fault
    (the committed signatures unless `signatures` are given)."""
    failures = report.failures
    if not failures:
        return Diagnosis()
    known = load_signatures() if signatures is None else tuple(signatures)
    closest = closest_faults({r.id for r in failures}, known, suite=report.target.kind)
    by_kind = {kind: cause for cause in CAUSES for kind in cause.kinds}
    root = closest[0].signature.root if closest else frozenset()
    grouped: dict[str, list[RequirementResult]] = {}
    # Within a group: what the closest fault breaks first-hand first, then catalogue order.
    for r in sorted(failures, key=lambda r: r.id not in root):
        grouped.setdefault(by_kind.get(r.kind, _OTHER).key, []).append(r)
    order = [c for c in (*CAUSES, _OTHER) if c.key in grouped]
    if root:
        # The group holding the closest fault's own ids leads: it is what to fix first.
        lead = max(
            order, key=lambda c: (sum(r.id in root for r in grouped[c.key]), -order.index(c))
        )
        order = [lead, *(c for c in order if c is not lead)]
    return Diagnosis(tuple((c, tuple(grouped[c.key])) for c in order), closest)
