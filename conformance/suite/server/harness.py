"""What a server-suite test works with: `ServerContext` (one per session: spec, target,
provisioner, oracle, seed) and `ServerHarness` (one per test: calls, arrangement, judging,
failure messages with a reproducing command).

Tests stay thin: they say what they send and which requirement they verify; the harness turns
"cannot arrange this here" into `not_verified` with the reason, and every mismatch into a
`fail(...)` that carries the exchange and `python -m pytest ... --hypothesis-seed=N`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from hypothesis import HealthCheck, example, given, seed, settings

from conformance.protocol.envelopes import WireResponse
from conformance.spec.model import ErrorVariant, Spec
from conformance.suite.failures import (
    Observation,
    RequirementFailure,
    depends_on,
    fail,
    not_verified,
)
from conformance.suite.options import pytest_command
from conformance.suite.oracle import Expected, LifecycleOracle, ModelInstance
from conformance.suite.server import answers
from conformance.suite.strategies import passing_condition
from conformance.targets.base import Condition, InstanceView, Provisioner, Unsupported
from conformance.targets.http import Exchange, HttpServerTarget
from conformance.targets.provisioners import ControlProvisioner, fresh_instance_id

if TYPE_CHECKING:
    import pytest
    from hypothesis.database import ExampleDatabase

    from conformance.suite.options import SuiteOptions

__all__ = ["Rebooted", "ServerContext", "ServerHarness", "Variant", "variants_for"]

# The requirements a DryRun probe's answer verifies: tests that declare one of them judge the
# DryRun outcome itself; every other test only relies on it (`ServerHarness.expect`).
DRYRUN_REQUIREMENT = "protocol.dryrun.outcome"
_DRYRUN_IDS = frozenset(
    {
        DRYRUN_REQUIREMENT,
        "doc.dryrun.passes",
        "doc.dryrun.no-side-effects",
        "doc.param.DryRun.value.true",
    }
)

# The options a reproduction repeats: what the target is and how the suite reaches it.
_REPRODUCED_OPTIONS = (
    "target",
    "mutant",
    "variant",
    "control",
    "fixtures",
    "signature",
    "method",
    "examples",
)


@dataclass(frozen=True)
class Rebooted:
    """A call on a freshly arranged rebootable instance, already judged against the oracle."""

    instance_id: str
    condition: Condition
    exchange: Exchange
    after: ModelInstance | None  # the oracle's instance after the call (None: refused)
    sent_at: float  # time.monotonic() just before the request was sent


@dataclass(frozen=True)
class Variant:
    """How a call goes on the wire: signature version, method, parameter placement."""

    signature: str
    method: str
    placement: str = "query"

    @property
    def id(self) -> str:
        """`v2-GET`, `v3-POST-form`..."""
        base = f"{self.signature}-{self.method}"
        return base if self.placement == "query" else f"{base}-{self.placement}"

    def kwargs(self) -> dict[str, str]:
        """Keyword arguments for `HttpServerTarget.call`."""
        return {"signature": self.signature, "method": self.method, "placement": self.placement}


@dataclass
class ServerContext:
    """The session's target and everything derived from it."""

    spec: Spec
    options: SuiteOptions
    target: HttpServerTarget
    provisioner: Provisioner
    seed: int
    embedded: bool
    reboot_seconds: float | None = None  # how long a reboot lasts on the target, when known
    # Embedded target only: move the emulator's clock forward (no test sleeps through a reboot).
    shift_clock: Callable[[float], None] | None = None
    oracle: LifecycleOracle = field(init=False)
    database: ExampleDatabase | None = field(init=False)

    def __post_init__(self) -> None:
        self.oracle = LifecycleOracle(self.spec)
        self.database = self.options.example_database()

    @property
    def has_control(self) -> bool:
        """True when instances can be created, settled, faulted and reset."""
        return isinstance(self.provisioner, ControlProvisioner)

    @property
    def real_service(self) -> bool:
        """A target with no control API that is not ours: may show Stopping as the transient
        state (`interop.transient.stopping`)."""
        return not self.embedded and not self.has_control

    @property
    def clock_may_settle(self) -> bool:
        """Can a reboot's transition finish by the target's clock while a test runs? Not on the
        embedded emulator, which the suite starts with a long reboot time."""
        return not self.embedded

    def may_have_settled(self, elapsed_s: float) -> bool:
        """Could the target's clock have ended a reboot `elapsed_s` seconds after the call?
        Unknown reboot time: assume it could (lenient); known: only once that time passed."""
        if self.embedded:
            return False
        if self.reboot_seconds is None:
            return True
        return elapsed_s >= self.reboot_seconds

    @property
    def destructive_allowed(self) -> bool:
        """May real (non-DryRun) reboots be sent (docs/contracts.md#safety-rules)?"""
        guard = self.target.guard
        return guard is None or guard.destructive_allowed

    def variants(self) -> list[Variant]:
        """The signature x method combinations the options ask for."""
        return variants_for(self.options)


def variants_for(options: SuiteOptions) -> list[Variant]:
    """Every signature version x method of the options. POST puts V2 parameters in a form body
    (as pop-core does) and V3 API parameters in the query (as the new SDKs do)."""
    out = []
    for sig in options.signature_versions:
        for method in options.methods:
            placement = "form" if (method == "POST" and sig == "v2") else "query"
            out.append(Variant(sig, method, placement))
    return out


class ServerHarness:
    """The per-test view: one instance per test function (fixture `ecs`)."""

    def __init__(
        self,
        context: ServerContext,
        module: str,
        test_name: str,
        node: pytest.Item | None = None,
    ) -> None:
        self.context = context
        self._node = node
        self.spec = context.spec
        self.target = context.target
        self.provisioner = context.provisioner
        self.oracle = context.oracle
        self._module = module
        self._test_name = test_name

    # -- hypothesis ---------------------------------------------------------------------------
    def examples(self, scale: float = 1.0) -> int:
        """`--ecs-examples` scaled for one property (at least 1)."""
        return max(1, round(self.context.options.examples * scale))

    def given(
        self,
        *args: Any,
        scale: float = 1.0,
        always: Sequence[Mapping[str, Any]] = (),
        **kwargs: Any,
    ) -> Callable[[Callable[..., None]], Callable[[], None]]:
        """`@given` with the session's seed and settings: examples scaled from --ecs-examples,
        no deadline (network), the `--ecs-example-db` database (replayed first, failures
        saved), no health checks about slowness. Each of `always` is an explicit example run
        first at every seed: a case a requirement hinges on is then never left to the draw."""

        def wrap(fn: Callable[..., None]) -> Callable[[], None]:
            test = given(*args, **kwargs)(fn)  # type: ignore[no-untyped-call]
            for case in reversed(always):
                test = example(**case)(test)
            seeded = seed(self.context.seed)(test)
            # After `seed`, which would turn the database off: both hold (a global
            # --hypothesis-seed, a reproduction's, still turns it off).
            return settings(  # type: ignore[no-any-return]
                max_examples=self.examples(scale),
                deadline=None,
                database=self.context.database,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )(seeded)

        return wrap

    def settings(self, scale: float = 1.0, **overrides: Any) -> settings:
        """Settings for `run_state_machine_as_test`, like `given`'s."""
        base: dict[str, Any] = {
            "max_examples": self.examples(scale),
            "deadline": None,
            "database": self.context.database,
            "suppress_health_check": list(HealthCheck),
            "print_blob": False,
        }
        base.update(overrides)
        return settings(**base)

    # -- reproduction -------------------------------------------------------------------------
    def reproduce(self) -> str:
        """One command that re-runs this test with the same inputs."""
        args = self.context.options.args(*_REPRODUCED_OPTIONS)
        return pytest_command(
            self._module,
            select=self._test_name,
            args=[*args, f"--hypothesis-seed={self.context.seed}"],
        )

    # -- calls --------------------------------------------------------------------------------
    def reboot_params(
        self,
        instance_id: str | None,
        *,
        force_stop: bool | str | None = None,
        dry_run: bool | str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The operation's parameters; booleans as the profile spells them, strings verbatim."""
        spec = self.spec
        params: dict[str, str] = {}
        if instance_id is not None:
            params[spec.instance_parameter.name] = instance_id
        flags = ((spec.force_parameter.name, force_stop), (spec.dry_run_parameter.name, dry_run))
        for name, value in flags:
            if isinstance(value, bool):
                params[name] = spec.profile.booleans.spelling(value)
            elif value is not None:
                params[name] = value
        params.update(extra or {})
        return params

    def call(
        self, params: Mapping[str, str], *, variant: Variant | None = None, **kw: Any
    ) -> Exchange:
        """One call of the operation (`variant` or keyword arguments say how it is sent)."""
        if variant is not None:
            kw = {**variant.kwargs(), **kw}
        return self.target.call(self.spec.action, params, **kw)

    def reboot(
        self,
        instance_id: str | None,
        *,
        force_stop: bool | str | None = None,
        dry_run: bool | str | None = None,
        variant: Variant | None = None,
        **kw: Any,
    ) -> Exchange:
        """`call(reboot_params(...))`."""
        params = self.reboot_params(instance_id, force_stop=force_stop, dry_run=dry_run)
        return self.call(params, variant=variant, **kw)

    # -- arrangement and observation ----------------------------------------------------------
    def require_control(self, what: str) -> ControlProvisioner:
        """The control provisioner, or `not_verified` saying `what` needs it."""
        if isinstance(self.provisioner, ControlProvisioner):
            return self.provisioner
        not_verified(
            f"{what} needs the test-control API (docs/contracts.md#test-control); "
            "none is configured"
        )

    def require_destructive(self) -> None:
        """`not_verified` when real reboots may not be sent to this target."""
        if not self.context.destructive_allowed:
            not_verified(
                "needs a real (non-DryRun) reboot and the target is not loopback; pass "
                "--ecs-allow-destructive (and a fixtures file) to allow it"
            )

    def arrange(self, condition: Condition, *, id_suffix: str = "") -> str:
        """An instance in `condition`: created fresh through the control API, or found among the
        fixtures; else the test is `not_verified` with the reason."""
        p = self.provisioner
        if isinstance(p, ControlProvisioner):
            return p.arrange(condition, fresh_instance_id(id_suffix))
        iid = p.arrange(condition)
        if iid is None:
            not_verified(p.missing_reason(condition))
        return iid

    def observe(self, instance_id: str, *, counts: bool = False) -> InstanceView:
        """The instance now; `counts=True` needs RebootCount/LastForceStop (control API)."""
        try:
            view = self.provisioner.observe(instance_id)
        except Unsupported as exc:
            not_verified(exc.reason)
        if view is None:
            raise AssertionError(f"instance {instance_id!r} vanished from the target")
        if counts and view.reboot_count is None:
            not_verified(
                "RebootCount and LastForceStop are visible only through the test-control API "
                "(DescribeInstances does not show them)"
            )
        return view

    def settle(self, instance_id: str) -> InstanceView | None:
        """Finish the instance's transition (control API), else `not_verified`."""
        try:
            return self.provisioner.settle(instance_id)
        except Unsupported as exc:
            not_verified(exc.reason)

    def inject_fault(self, code: str, count: int = 1) -> None:
        """Queue `count` injected faults for the operation, else `not_verified`."""
        try:
            self.provisioner.inject_fault(self.spec.action, code, count)
        except Unsupported as exc:
            not_verified(exc.reason)

    def not_found_id(self) -> str:
        """A random id that names no instance."""
        return self.provisioner.not_found_id()

    def reboot_rebootable(
        self,
        requirement_ids: str | Sequence[str],
        *,
        force_stop: bool | None = None,
        dry_run: bool | None = None,
        **kw: Any,
    ) -> Rebooted:
        """Arrange an instance in the passing condition, call the operation on it (`kw` say
        how it is sent), and fail unless the answer is the one the oracle predicts."""
        condition = passing_condition(self.spec)
        iid = self.arrange(condition)
        expected, after = self.oracle.reboot(
            ModelInstance(condition), force_stop=force_stop, dry_run=dry_run
        )
        sent_at = time.monotonic()
        exchange = self.reboot(iid, force_stop=force_stop, dry_run=dry_run, **kw)
        self.expect(requirement_ids, expected, exchange)
        return Rebooted(iid, condition, exchange, after, sent_at)

    def statuses_after(self, after: ModelInstance, sent_at: float) -> frozenset[str]:
        """The statuses an observation made now may show for the oracle's `after`, the call
        having been sent at `sent_at` (`time.monotonic()`): every listed transient one, and the
        settled one once the target's clock may have ended the reboot."""
        return self.oracle.acceptable_statuses(
            after,
            clock_may_settle=self.context.may_have_settled(time.monotonic() - sent_at),
            real_service=self.context.real_service,
        )

    def probe(self, *, id_suffix: str = "") -> tuple[str, Expected]:
        """An instance id and what a `DryRun=true` reboot of it answers once the request passed
        the gateway: `DryRunOperation` for an instance in the passing condition (arranged, or a
        fixture), else the not-found error for a random id. Protocol tests use it so that they
        never reboot anything."""
        condition = Condition(self.spec.precondition_status)
        p = self.provisioner
        if isinstance(p, ControlProvisioner):
            return p.arrange(condition, fresh_instance_id(id_suffix)), Expected("dryrun")
        # Without a control API a listed instance may be mid-reboot (an earlier test, or another
        # user): a random id's answer never depends on state.
        return self.not_found_id() + id_suffix, Expected(
            "error", frozenset({self.oracle.code_not_found})
        )

    # -- judging ------------------------------------------------------------------------------
    def fail(
        self,
        requirement_ids: str | Sequence[str],
        *,
        expected: str,
        received: str,
        exchange: Exchange | None = None,
        note: str = "",
    ) -> RequirementFailure:
        """A `RequirementFailure` with the exchange and this test's reproducing command."""
        text = exchange.describe() if exchange is not None else ""
        if note:
            text = f"{note}\n{text}" if text else note
        return fail(
            self.spec,
            requirement_ids,
            expected=expected,
            received=received,
            exchange=self.target.credentials.redact(text),
            reproduce=self.reproduce(),
        )

    def answered(self, requirement_ids: str | Sequence[str], exchange: Exchange) -> None:
        """Fail when the target gave no usable answer (timeout, reset, garbage)."""
        r = exchange.response
        if r is None:
            raise self.fail(
                requirement_ids,
                expected="an HTTP answer",
                received=exchange.summary(),
                exchange=exchange,
            )
        if r.parse_error:
            raise self.fail(
                requirement_ids,
                expected="a JSON or XML body",
                received=f"HTTP {r.status}, {r.parse_error}",
                exchange=exchange,
            )

    def expect(
        self,
        requirement_ids: str | Sequence[str],
        expected: Expected,
        exchange: Exchange,
        note: str = "",
    ) -> None:
        """Fail unless the answer is what the oracle predicts."""
        self.answered(requirement_ids, exchange)
        wrong = self.oracle.mismatch(expected, exchange.response)
        if wrong is not None:
            ids = {requirement_ids} if isinstance(requirement_ids, str) else set(requirement_ids)
            r = exchange.response
            if (
                expected.kind == "dryrun"
                and not ids & _DRYRUN_IDS
                and r is not None
                and (r.status == self.oracle.success_status or r.code == self.spec.dryrun.code)
            ):
                # The probe's DryRun=true was answered as a success, or with DryRunOperation
                # worded otherwise: this test's own subject cannot be told apart from that; the
                # DryRun tests fail for it, once.
                depends_on(DRYRUN_REQUIREMENT, f"a DryRun=true call answered {wrong}")
            dry = self.spec.dryrun
            if (
                expected.kind == "dryrun"
                and r is not None
                and (r.code, r.status) == (dry.code, dry.http_status)
            ):
                # DryRunOperation worded otherwise: only the DryRun requirements it declares.
                requirement_ids = sorted(ids & _DRYRUN_IDS)
            rows = self._reworded_rows(expected, r)
            if rows and ids & set(rows):
                # Only the message differs: that breaks the document's row, nothing else the
                # test declares (its status and code are as documented).
                requirement_ids = [i for i in rows if i in ids]
            elif rows:
                row = rows[0]
                # The expected documented error came, at its status, worded otherwise: the
                # test of that error row fails for it; this test's subject is not judged.
                depends_on(row, f"the expected {r.code if r else ''} came as {wrong}")
            raise self.fail(
                requirement_ids,
                expected=expected.describe(self.spec),
                received=wrong,
                exchange=exchange,
                note=note,
            )

    def _reworded_rows(self, expected: Expected, r: WireResponse | None) -> list[str]:
        """The requirement ids of the document rows of the code `r` carries, when it came at a
        documented status and only its message differs from the rows (else [])."""
        if expected.kind != "error" or r is None or r.code not in expected.codes:
            return []
        statuses = {row.http_status for row in self.spec.errors if row.code == r.code}
        return answers.error_row_ids(self.spec, r.code) if r.status in statuses else []

    def expect_error(
        self, requirement_ids: str | Sequence[str], codes: Sequence[str] | str, exchange: Exchange
    ) -> None:
        """Fail unless the answer is one of the documented `codes` (status and message)."""
        codes = (codes,) if isinstance(codes, str) else tuple(codes)
        self.expect(requirement_ids, Expected("error", frozenset(codes)), exchange)

    def expect_variant(
        self,
        requirement_ids: str | Sequence[str],
        variants: Sequence[ErrorVariant],
        exchange: Exchange,
        note: str = "",
    ) -> ErrorVariant:
        """Fail unless the answer matches one of the accepted `variants` (gateway errors: where
        the sources disagree, every variant is accepted). Returns the matching one."""
        self.answered(requirement_ids, exchange)
        r = exchange.response
        assert r is not None
        for v in variants:
            if v.matches(r.code, r.status, r.message):
                return v
        accepted = " or ".join(
            f"HTTP {v.http_status} {v.code}: {v.emulator_message!r}" for v in variants
        )
        raise self.fail(
            requirement_ids,
            expected=accepted + " (any of the documented variants)",
            received=exchange.summary(),
            exchange=exchange,
            note=note,
        )

    def expect_envelope_error(
        self, requirement_ids: str | Sequence[str], exchange: Exchange
    ) -> None:
        """Fail unless the answer is a 4xx/5xx error envelope with every documented field."""
        self.answered(requirement_ids, exchange)
        assert exchange.response is not None
        wrong = answers.error_envelope_mismatch(self.spec, exchange.response)
        if wrong is not None:
            raise self.fail(
                requirement_ids,
                expected=wrong.expected,
                received=wrong.received,
                exchange=exchange,
            )

    def content_type_ok(self, requirement: str, got: str | None, wanted: str) -> tuple[bool, str]:
        """Does Content-Type `got` meet `wanted` as strictly as `requirement` is held?
        (`answers.content_type_verdict`.)"""
        return answers.content_type_verdict(self.spec, requirement, got, wanted)

    def check(
        self,
        ok: bool,
        requirement_ids: str | Sequence[str],
        *,
        expected: str,
        received: str,
        exchange: Exchange | None = None,
    ) -> None:
        """Fail with the given texts unless `ok`."""
        if not ok:
            raise self.fail(
                requirement_ids, expected=expected, received=received, exchange=exchange
            )

    def skip(self, reason: str) -> NoReturn:
        """`not_verified(reason)`."""
        not_verified(reason)

    def observe_unsourced(
        self, kind: str, text: str, exchange: Exchange | None = None, requirement: str = ""
    ) -> None:
        """Record what the target did that no source describes: an observation in every
        report, never a failure."""
        if self._node is None:
            return
        from conformance.suite.plugin import record_observation

        evidence = self.target.credentials.redact(exchange.describe()) if exchange else ""
        record_observation(self._node, Observation(kind, text, evidence[:4000], requirement))

    def unjudged(self, requirement_ids: Sequence[str], reason: str) -> None:
        """Declared ids this run of the test did not judge: `not_verified` if it passes."""
        if self._node is not None and requirement_ids:
            from conformance.suite.plugin import record_unjudged

            record_unjudged(self._node, list(requirement_ids), reason)

    def extra_fields(
        self, documented: Sequence[str], exchange: Exchange, requirement: str = ""
    ) -> None:
        """Observe envelope fields beyond the `documented` ones (no source forbids them)."""
        r = exchange.response
        extra = answers.extra_fields(documented, r) if r is not None else []
        if extra:
            self.observe_unsourced(
                "extra-field",
                f"envelope fields no source lists: {', '.join(extra)}",
                exchange,
                requirement,
            )
