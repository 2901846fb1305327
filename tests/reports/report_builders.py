"""Builders for the report tests: a hand-made Spec, and a ledger that covers every verdict.

The requirement ids and sentences here are invented on purpose: these tests exercise the verdict
and report machinery, not the RebootInstance catalogue (which another module generates).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from conformance.reports.model import RunReport, build_report
from conformance.spec import load_spec
from conformance.spec.model import DryRunOutcome, Requirement, Spec
from conformance.suite.ledger import Ledger, TestRecord
from conformance.waivers import Waiver

TODAY = date(2026, 6, 1)
STARTED = datetime(2026, 6, 1, 12, 30, 0, tzinfo=UTC)
SECRET = "s3cr3t-AccessKeySecret-value"
XSS = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.title="pwned"</script>'
CURL = "curl -s 'http://127.0.0.1:8080/?Action=Example&DryRun=true'"


def requirement(rid: str, level: str | None = None, text: str | None = None) -> Requirement:
    """A made-up requirement whose level is the id's first segment."""
    return Requirement(
        id=rid,
        level=level or rid.split(".")[0],
        kind="example",
        text=text or f"The sentence behind {rid}.",
        source="document:1",
    )


def make_spec(requirements: Sequence[Requirement]) -> Spec:
    """A Spec with only what reports read: the requirements and the two hashes."""
    return Spec(
        action="Example",
        version="0",
        parameters=(),
        response_fields=(),
        errors=(),
        dryrun=DryRunOutcome("x", 0, "x"),
        precondition_status="x",
        resulting_status="x",
        settled_status="x",
        transient_alternatives=(),
        conditions={},
        lock_errors={},
        gateway_errors={},
        profile=load_spec().profile,
        requirements=tuple(requirements),
        document_sha256="a" * 64,
        openapi_sha256="b" * 64,
        openapi={},
    )


def record(nodeid: str, ids: Sequence[str], outcome: str, **kw: object) -> TestRecord:
    """A ledger record (outcome passed | failed | not_verified)."""
    return TestRecord(nodeid=nodeid, requirements=list(ids), outcome=outcome, **kw)  # type: ignore[arg-type]


def ledger_of(*records: TestRecord) -> Ledger:
    ledger = Ledger()
    for r in records:
        ledger.add(r)
    return ledger


# Every verdict, every kind of waiver, a secret and markup in what the target sent back.
MIXED_REQUIREMENTS = [
    requirement("doc.alpha.passes"),
    requirement("doc.beta.fails", text="The beta sentence | with a pipe & <markup>."),
    requirement("doc.gamma.skipped"),
    requirement("doc.delta.untested"),
    requirement("protocol.epsilon.waived"),
    requirement("protocol.zeta.waiver-unneeded"),
    requirement("interop.eta.fails-hypothesis"),
]
MIXED_WAIVERS = [
    Waiver("protocol.epsilon.waived", "known gap", "https://t.example/1", date(2026, 12, 31), 1),
    Waiver("protocol.zeta.waiver-unneeded", "flaky", "https://t.example/2", date(2026, 12, 31), 2),
]


def mixed_ledger() -> Ledger:
    mod = "conformance/suite/server/test_example.py"
    return ledger_of(
        record(f"{mod}::test_alpha[v2-GET]", ["doc.alpha.passes"], "passed", checks=10),
        record(f"{mod}::test_alpha[v3-POST]", ["doc.alpha.passes"], "passed", checks=5),
        record(
            f"{mod}::test_beta",
            ["doc.beta.fails"],
            "failed",
            reason="expected 403, received 200",
            evidence=(
                "requirement doc.beta.fails: The beta sentence\n"
                f"E   expected: 403 {XSS}\n"
                f"E   received: 200 with AccessKeySecret={SECRET}\n"
                f"E   reproduce with: {CURL}\n"
            ),
            reproduce=CURL,
            checks=3,
        ),
        record(f"{mod}::test_gamma", ["doc.gamma.skipped"], "not_verified", reason="no fixture"),
        record(
            f"{mod}::test_epsilon",
            ["protocol.epsilon.waived"],
            "failed",
            reason="wrong header",
            evidence="wrong header\nreproduce with: python -c 'print(1)'",
            reproduce="python -c 'print(1)'",
        ),
        record(f"{mod}::test_zeta", ["protocol.zeta.waiver-unneeded"], "passed", checks=1),
        record(
            f"{mod}::TestMachine::runTest",
            ["interop.eta.fails-hypothesis"],
            "failed",
            reason=f"Falsifying example with secret {SECRET}",
            evidence=f"Falsifying example: state.reboot()\nsecret {SECRET}\n\x1b[31mred\x1b[0m",
        ),
    )


def redact(text: str) -> str:
    return text.replace(SECRET, "***")


def build_mixed_report(**kw: object) -> RunReport:
    """A report with every verdict (non-conformant: two unwaived failures)."""
    options: dict[str, object] = {
        "kind": "server",
        "name": "http://127.0.0.1:8080",
        "fingerprint": "emulator 0",
        "seed": 1234,
        "started_at": STARTED,
        "duration_s": 12.3456,
        "waivers": MIXED_WAIVERS,
        "today": TODAY,
        "redact": redact,
    }
    options.update(kw)
    return build_report(make_spec(MIXED_REQUIREMENTS), mixed_ledger(), **options)  # type: ignore[arg-type]


def build_simple_report(
    requirements: Sequence[Requirement],
    ledger: Ledger,
    waivers: Sequence[Waiver] = (),
    **kw: object,
) -> RunReport:
    """build_report with defaults for everything but requirements, ledger and waivers."""
    options: dict[str, object] = {
        "kind": "server",
        "name": "embedded",
        "seed": None,
        "started_at": STARTED,
        "duration_s": 1.0,
        "today": TODAY,
    }
    options.update(kw)
    return build_report(make_spec(requirements), ledger, waivers=waivers, **options)  # type: ignore[arg-type]
