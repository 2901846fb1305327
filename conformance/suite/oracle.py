"""The lifecycle oracle: a pure model of one instance under RebootInstance, built from the Spec.

`state + call -> expected answer + next state`. Shared by the metamorphic tests (DryRun, defaults)
and the stateful machine (docs/architecture.md#property-based-testing). No I/O here: the tests send,
the oracle predicts and judges.

Facts used, all read from the spec: the precondition, resulting and settled statuses and the
transient alternatives (`x-state-precondition`, `x-resulting-state`), the settle map and the disk
status that allows a reboot (profile `lifecycle`), the condition -> documented code map
(`x-conditions`), the lock reason -> code map (`x-locks`) and the DryRun outcome (`x-dryrun`).
Where several conditions hold at once the document gives no order
(docs/contracts.md#how-arranged-state-maps-to-documented-errors): every
applicable code is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from conformance.targets.base import Condition

if TYPE_CHECKING:
    from conformance.protocol.envelopes import WireResponse
    from conformance.spec.model import Spec

__all__ = ["Expected", "LifecycleOracle", "ModelInstance"]


@dataclass(frozen=True)
class ModelInstance:
    """The oracle's view of one instance. `rebooting`: the status came from a reboot and will
    settle (by the target's clock or `settle`) to the settled status."""

    condition: Condition
    reboot_count: int = 0
    last_force_stop: bool | None = None
    rebooting: bool = False

    @property
    def status(self) -> str:
        """The status the model predicts right now."""
        return self.condition.status


@dataclass(frozen=True)
class Expected:
    """The answer the oracle predicts: success, the DryRun outcome, or one of `codes`."""

    kind: str  # "success" | "dryrun" | "error"
    codes: frozenset[str] = frozenset()

    def describe(self, spec: Spec) -> str:
        """In words, with statuses and messages from the spec."""
        if self.kind == "success":
            return f"HTTP {spec.profile.envelopes.success_status} with a RequestId"
        if self.kind == "dryrun":
            d = spec.dryrun
            return f"HTTP {d.http_status} {d.code}: {d.message!r}"
        parts = []
        for code in sorted(self.codes):
            rows = spec.error_rows(code)
            messages = " or ".join(repr(r.message) for r in rows)
            parts.append(f"HTTP {rows[0].http_status} {code} ({messages})")
        return " or ".join(parts) if parts else "(nothing)"


class LifecycleOracle:
    """Predicts answers and next states from the Spec.

    >>> from conformance.spec import load_spec  # doctest: +SKIP
    >>> oracle = LifecycleOracle(load_spec())  # doctest: +SKIP
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        life = spec.lifecycle
        self.statuses: tuple[str, ...] = life.statuses
        self.settle_map: dict[str, str] = dict(
            life.settle or {spec.resulting_status: spec.settled_status}
        )
        self.disk_ok_status = life.disk_ok_status
        self.precondition = spec.precondition_status
        self.resulting = spec.resulting_status
        self.settled = spec.settled_status
        self.alternatives = tuple(spec.transient_alternatives)
        self.lock_codes: dict[str, str] = dict(spec.lock_errors)
        cond = spec.conditions
        self.code_not_found = cond["not_found"]
        self.code_status = cond["status_not_running"]
        self.code_disk = cond.get("disk_not_ready")
        self.code_kms = cond.get("kms_unauthorized")
        self.code_fault = cond.get("injected_fault")
        self.success_status = spec.profile.envelopes.success_status

    # -- prediction -------------------------------------------------------------------------
    def refusals(self, instance: ModelInstance | None) -> frozenset[str]:
        """Every documented code that applies to a reboot of `instance` (None: unknown id)."""
        if instance is None:
            return frozenset({self.code_not_found})
        c = instance.condition
        codes: set[str] = set()
        if c.status != self.precondition:
            codes.add(self.code_status)
        for lock in c.operation_locks:
            if lock in self.lock_codes:
                codes.add(self.lock_codes[lock])
        if self.code_disk and (c.disk_status or self.disk_ok_status) != self.disk_ok_status:
            codes.add(self.code_disk)
        if self.code_kms and not c.kms_key_accessible:
            codes.add(self.code_kms)
        return frozenset(codes)

    def reboot(
        self,
        instance: ModelInstance | None,
        *,
        force_stop: bool | None = None,
        dry_run: bool | None = None,
        fault: str | None = None,
    ) -> tuple[Expected, ModelInstance | None]:
        """The answer to a reboot call and the instance afterwards.

        `force_stop`/`dry_run` None means the parameter is omitted: the documented defaults
        apply (false for both, `doc.default.*`). `fault`: a queued injected fault's code.
        """
        if fault is not None:
            return Expected("error", frozenset({fault})), instance
        codes = self.refusals(instance)
        if codes:
            return Expected("error", codes), instance
        assert instance is not None
        if dry_run:
            return Expected("dryrun"), instance
        after = replace(
            instance,
            condition=replace(instance.condition, status=self.resulting),
            reboot_count=instance.reboot_count + 1,
            last_force_stop=bool(force_stop),
            rebooting=True,
        )
        return Expected("success"), after

    def settle(self, instance: ModelInstance) -> ModelInstance:
        """The instance after `settle`: a reboot's transition ends in the settled status; an
        arranged transient status moves along the settle map."""
        if instance.rebooting:
            status = self.settled
        else:
            status = self.settle_map.get(instance.status, instance.status)
        return replace(
            instance, condition=replace(instance.condition, status=status), rebooting=False
        )

    def acceptable_statuses(
        self, instance: ModelInstance, *, clock_may_settle: bool, real_service: bool
    ) -> frozenset[str]:
        """Statuses an observation may show for `instance`.

        A rebooting instance shows the resulting status, or one of the transient alternatives
        (Stopping): the sources disagree on the transient status (`interop.transient.stopping`,
        any-variant), so every listed one passes, on any target; the settled status too when
        the target's clock may have finished the transition. `real_service` is kept for callers
        and no longer narrows anything.
        """
        if not instance.rebooting:
            return frozenset({instance.status})
        out = {self.resulting, *self.alternatives}
        if clock_may_settle:
            out.add(self.settled)
        return frozenset(out)

    # -- judging ----------------------------------------------------------------------------
    def mismatch(self, expected: Expected, response: WireResponse | None) -> str | None:
        """None when `response` is what `expected` allows, else what is wrong (one line)."""
        if response is None:
            return "no answer"
        spec = self.spec
        if expected.kind == "success":
            if response.status != self.success_status:
                return f"HTTP {response.status} {response.code or ''}".strip()
            request_id = (response.data or {}).get("RequestId")
            if not isinstance(request_id, str) or not request_id:
                return "a success body without a RequestId"
            return None
        if expected.kind == "dryrun":
            d = spec.dryrun
            got = (response.code, response.status, response.message)
            if got != (d.code, d.http_status, d.message):
                return f"HTTP {response.status} {response.code}: {response.message!r}"
            return None
        code = response.code
        if code not in expected.codes:
            return f"HTTP {response.status} {code}: {response.message!r}"
        if not spec.error_matches(code, response.status, response.message):
            return (
                f"HTTP {response.status} {code} with message {response.message!r} (status or "
                "message differs from the document's rows for this code)"
            )
        return None
