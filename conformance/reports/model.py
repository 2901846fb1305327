"""`RunReport`: everything a run concluded, in the shape of docs/contracts.md#reports, ready for
the writers.

`build_report()` turns a spec, a ledger and the waivers into a `RunReport`; the writers
(`json_report`, `junit`, `markdown`, `html`) only render it. Every string that comes from a test
or a target passes through the caller's `redact` here, once, so no writer can leak a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from importlib import metadata
from typing import Any

from conformance.spec.model import LEVELS, Requirement, Spec
from conformance.suite.ledger import Ledger
from conformance.suite.options import SuiteOptions, pytest_command
from conformance.verdicts import RequirementVerdict, compute_verdicts
from conformance.waivers import Waiver

__all__ = [
    "DISTRIBUTION",
    "SCHEMA_VERSION",
    "TARGET_KINDS",
    "Counts",
    "ObservationEntry",
    "RequirementResult",
    "RunReport",
    "SpecInfo",
    "Stats",
    "Summary",
    "TargetInfo",
    "WaiverEntry",
    "build_report",
    "reproduction_command",
    "suite_version",
]

DISTRIBUTION = "ecs-reboot-conformance"
SCHEMA_VERSION = 1  # bump with every incompatible change of conformance.schema.json
# What a report judged: a server (server suite), a client (client suite), or the traffic
# between them (the checking proxy: both sides, passively).
TARGET_KINDS = ("server", "client", "traffic")
_K_WORD = re.compile(r"[\w:+\-.\[\]\\/]+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Characters XML 1.0 cannot carry (and no report needs): C0 controls except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MAX_OBSERVATION_EVIDENCE = 4000


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class SpecInfo:
    """Which spec judged the target: hashes of the document and of the generated OpenAPI."""

    document_sha256: str
    openapi_sha256: str


@dataclass(frozen=True)
class TargetInfo:
    """What was judged: `kind` server|client|traffic, a display `name`, an optional
    `fingerprint`."""

    kind: str
    name: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class WaiverEntry:
    """A waiver as reports show it (`expires` as YYYY-MM-DD)."""

    id: str
    reason: str
    link: str
    expires: str


@dataclass(frozen=True)
class Counts:
    """Requirement counts per verdict."""

    requirements: int = 0
    passed: int = 0
    failed: int = 0
    not_verified: int = 0
    waived: int = 0


@dataclass(frozen=True)
class Summary(Counts):
    """The run's counts, overall and per level (`doc`, `protocol`, `interop`)."""

    by_level: dict[str, Counts] = field(default_factory=dict)


@dataclass(frozen=True)
class Stats:
    """How much the run did: tests recorded, and requests or cases they checked."""

    tests: int = 0
    checks: int = 0


@dataclass(frozen=True)
class ObservationEntry:
    """Something the target did that no source describes: listed with its evidence, never
    failing the gate (like schemathesis' warnings)."""

    kind: str
    text: str
    test: str
    requirement: str = ""
    evidence: str = ""  # the first occurrence's exchange
    count: int = 1  # how often it was seen in the run


@dataclass(frozen=True)
class RequirementResult:
    """One row of the traceability matrix.

    `evidence`, `reproduce` and `failed_tests` are parallel lists, one entry per failed test
    (empty unless the verdict is `failed` or `waived`).
    """

    id: str
    level: str
    kind: str
    source: str
    text: str
    verdict: str
    tests: list[str]
    reason: str
    provenance: str = "doc"  # the source's tag: doc, meta, sdk, unsure, emulator, design
    strictness: str = "exact"  # exact, observable, any-variant or not-held (from provenance)
    evidence: list[str] = field(default_factory=list)
    reproduce: list[str] = field(default_factory=list)
    failed_tests: list[str] = field(default_factory=list)
    waiver: WaiverEntry | None = None
    waiver_unneeded: bool = False


@dataclass(frozen=True)
class RunReport:
    """A finished run (docs/contracts.md#reports). `exit_code` applies
    docs/command-line.md#exit-codes: 0 or 1."""

    suite_version: str
    spec: SpecInfo
    target: TargetInfo
    seed: int | None
    started_at: str  # ISO 8601, UTC
    duration_s: float
    summary: Summary
    requirements: list[RequirementResult]
    expired_waivers: list[WaiverEntry] = field(default_factory=list)
    unneeded_waivers: list[WaiverEntry] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    observations: list[ObservationEntry] = field(default_factory=list)

    @property
    def exit_reasons(self) -> list[str]:
        """Why the run is non-conformant; empty when it is conformant."""
        reasons: list[str] = []
        if self.summary.failed:
            reasons.append(f"{self.summary.failed} requirement(s) failed without a waiver")
        for w in self.expired_waivers:
            reasons.append(f"the waiver of {w.id} expired on {w.expires}")
        if self.summary.passed == 0:
            # docs/contracts.md#verdicts: a run that verified nothing fails.
            reasons.append("the run verified nothing: no requirement passed")
        return reasons

    @property
    def conformant(self) -> bool:
        """True when no unwaived failure, no expired waiver, and something was verified."""
        return not self.exit_reasons

    @property
    def exit_code(self) -> int:
        """0 conformant (waivers honoured), 1 non-conformant (docs/command-line.md#exit-codes)."""
        return 0 if self.conformant else 1

    @property
    def failures(self) -> list[RequirementResult]:
        """The requirements whose verdict is `failed`, in catalogue order."""
        return [r for r in self.requirements if r.verdict == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """The `conformance.json` document (validated by `conformance.schema.json`)."""
        body = asdict(self)
        return {
            "schema_version": SCHEMA_VERSION,
            **body,
            "outcome": {
                "conformant": self.conformant,
                "exit_code": self.exit_code,
                "reasons": self.exit_reasons,
            },
        }


def suite_version() -> str:
    """The installed version of the toolkit, or `0+unknown` from a bare source tree."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def build_report(
    spec: Spec,
    ledger: Ledger,
    *,
    kind: str,
    name: str,
    fingerprint: str | None = None,
    seed: int | None = None,
    started_at: datetime | str,
    duration_s: float,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
    redact: Callable[[str], str] = _identity,
    scope: Callable[[Requirement], bool] | None = None,
) -> RunReport:
    """Judge `ledger` against `spec` and assemble the report.

    `redact` (e.g. `Credentials.redact`) is applied to every string a test, the target or the
    command line produced (evidence, reasons, reproductions, the target's name); the
    document's sentences, test names and waivers cannot carry the secret and are kept as is.
    Raises `ConfigError` when a waiver names an unknown requirement id.
    """
    if kind not in TARGET_KINDS:
        raise ValueError(f"target kind must be one of {', '.join(TARGET_KINDS)}, not {kind!r}")
    today = today or datetime.now(UTC).date()

    def plain(text: str) -> str:
        return _CONTROL.sub("", _ANSI.sub("", text))

    def clean(text: str) -> str:
        # Only what a test, a target or the command line produced can carry the secret: the
        # document's sentences, requirement ids and test names are never redacted, so a secret
        # that happens to be a word of theirs cannot blank them.
        return plain(redact(text))

    verdicts = compute_verdicts(spec.requirements, ledger, waivers, scope=scope, today=today)
    target = TargetInfo(kind, clean(name), clean(fingerprint) if fingerprint else None)
    results = [_result(v, clean, plain, target, seed) for v in verdicts]
    return RunReport(
        suite_version=suite_version(),
        spec=SpecInfo(spec.document_sha256, spec.openapi_sha256),
        target=target,
        seed=seed,
        started_at=_iso_utc(started_at),
        duration_s=round(float(duration_s), 3),
        summary=_summary(results),
        requirements=results,
        expired_waivers=[_entry(w, plain) for w in waivers if w.expired(today)],
        unneeded_waivers=[r.waiver for r in results if r.waiver_unneeded and r.waiver],
        stats=Stats(tests=len(ledger), checks=sum(r.checks for r in ledger)),
        observations=_observations(ledger, clean),
    )


def _observations(ledger: Ledger, clean: Callable[[str], str]) -> list[ObservationEntry]:
    """Every observation of the run, once per distinct (kind, text, requirement), in order."""
    out: dict[tuple[str, str, str], ObservationEntry] = {}
    for record in ledger:
        for o in record.observations:
            entry = ObservationEntry(
                kind=clean(o.get("kind", "")),
                text=clean(o.get("text", "")),
                test=clean(record.nodeid),
                requirement=clean(o.get("requirement", "")),
                evidence=clean(o.get("evidence", ""))[:_MAX_OBSERVATION_EVIDENCE],
            )
            key = (entry.kind, entry.text, entry.requirement)
            seen = out.get(key)
            out[key] = entry if seen is None else replace(seen, count=seen.count + 1)
    return list(out.values())


def reproduction_command(
    nodeid: str, *, seed: int | None = None, target: TargetInfo | None = None
) -> str:
    """A command that replays the failed test `nodeid`, for a failure that gave none of its
    own: pytest on the test's module and name, the server's URL, and the hypothesis seed when
    one is known."""
    path, _, rest = nodeid.partition("::")
    parts = [p for p in path.removesuffix(".py").split("/") if p not in ("", ".")]
    if "conformance" in parts:
        # An installed suite's node id may start with ../site-packages/...: keep the package.
        parts = parts[len(parts) - 1 - parts[::-1].index("conformance") :]
    names = [_k_word(n) for n in rest.split("::") if n and n != "()"]
    args: list[str] = []
    if target is not None and target.kind == "server" and "://" in target.name:
        args += SuiteOptions(target=target.name).args("target")
    if seed is not None:
        args.append(f"--hypothesis-seed={seed}")
    return pytest_command(".".join(parts), select=" and ".join(names) or None, args=args)


def _k_word(name: str) -> str:
    # `-k` reads words of \w : + - . [ ] \ /; a parameter id outside that set is dropped, so the
    # command selects every parametrization of the test instead of failing to parse.
    if _K_WORD.fullmatch(name):
        return name
    return name.partition("[")[0]


def _result(
    v: RequirementVerdict,
    clean: Callable[[str], str],
    plain: Callable[[str], str],
    target: TargetInfo,
    seed: int | None,
) -> RequirementResult:
    evidence = [clean(e) for e in v.evidence]
    failed_tests = [plain(t) for t in v.failed_tests]
    reproduce = [
        clean(own or reproduction_command(test, seed=seed, target=target))
        for own, test in zip(v.reproduce, v.failed_tests, strict=True)
    ]
    return RequirementResult(
        id=v.id,
        level=v.level,
        kind=v.kind,
        source=v.source,
        text=plain(v.text),
        verdict=v.verdict,
        tests=[plain(t) for t in v.tests],
        reason=clean(v.reason),
        provenance=v.provenance,
        strictness=v.strictness,
        evidence=evidence,
        reproduce=reproduce,
        failed_tests=failed_tests,
        waiver=_entry(v.waiver, plain) if v.waiver else None,
        waiver_unneeded=v.waiver_unneeded,
    )


def _entry(w: Waiver, clean: Callable[[str], str]) -> WaiverEntry:
    return WaiverEntry(w.id, clean(w.reason), clean(w.link), w.expires.isoformat())


def _count(results: Sequence[RequirementResult]) -> Counts:
    verdicts = [r.verdict for r in results]
    return Counts(
        requirements=len(results),
        passed=verdicts.count("passed"),
        failed=verdicts.count("failed"),
        not_verified=verdicts.count("not_verified"),
        waived=verdicts.count("waived"),
    )


def _summary(results: Sequence[RequirementResult]) -> Summary:
    present = {r.level for r in results}
    levels = [lv for lv in LEVELS if lv in present] + sorted(present - set(LEVELS))
    total = _count(results)
    return Summary(
        **asdict(total),
        by_level={lv: _count([r for r in results if r.level == lv]) for lv in levels},
    )


def _iso_utc(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a naive time is taken as UTC
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
