"""Documented defaults, checked as metamorphic relations
(docs/architecture.md#property-based-testing): leaving `ForceStop` or `DryRun` out behaves exactly
as sending `false`."""

from __future__ import annotations

import time

import pytest
from hypothesis import strategies as st

from conformance.suite import strategies as S
from conformance.suite.oracle import ModelInstance
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition


@pytest.mark.requirement("doc.default.ForceStop", "doc.param.ForceStop.value.false")
def test_omitted_force_stop_means_false(ecs: ServerHarness) -> None:
    """Twin Running instances, one rebooted without ForceStop and one with ForceStop=false (any
    spelling): same answer, and both recorded as a normal (not forced) restart."""
    ids = ("doc.default.ForceStop", "doc.param.ForceStop.value.false")
    ecs.require_destructive()
    ecs.require_control("observing LastForceStop")

    @ecs.given(
        explicit=S.boolean_spellings(ecs.spec, False),
        variant=st.sampled_from(ecs.context.variants()),
    )
    def run(explicit: str, variant: Variant) -> None:
        running = S.passing_condition(ecs.spec)
        omitted, given = ecs.arrange(running), ecs.arrange(running)
        expected, after = ecs.oracle.reboot(ModelInstance(running))
        a = ecs.reboot(omitted, variant=variant)
        b = ecs.reboot(given, force_stop=explicit, variant=variant)
        ecs.expect(ids, expected, a, note="ForceStop omitted")
        ecs.expect(ids, expected, b, note=f"ForceStop={explicit!r}")
        va, vb = ecs.observe(omitted, counts=True), ecs.observe(given, counts=True)
        want = after.last_force_stop if after is not None else None
        for label, view, exchange in (("omitted", va, a), (repr(explicit), vb, b)):
            ecs.check(
                view.last_force_stop == want,
                ids,
                expected=f"LastForceStop {want} after a reboot with ForceStop {label}",
                received=f"LastForceStop {view.last_force_stop}",
                exchange=exchange,
            )

    run()


@pytest.mark.requirement("doc.param.ForceStop.value.true", "doc.forcestop.forced-restart")
def test_force_stop_true_forces_the_restart(ecs: ServerHarness) -> None:
    """ForceStop=true (any spelling) restarts the instance forcibly: recorded as forced."""
    ids = ("doc.param.ForceStop.value.true", "doc.forcestop.forced-restart")
    ecs.require_destructive()
    ecs.require_control("observing LastForceStop")

    @ecs.given(spelling=S.boolean_spellings(ecs.spec, True), scale=0.3)
    def run(spelling: str) -> None:
        running = S.passing_condition(ecs.spec)
        iid = ecs.arrange(running)
        expected, after = ecs.oracle.reboot(ModelInstance(running), force_stop=True)
        exchange = ecs.reboot(iid, force_stop=spelling)
        ecs.expect(ids, expected, exchange, note=f"ForceStop={spelling!r}")
        view = ecs.observe(iid, counts=True)
        assert after is not None
        ecs.check(
            view.last_force_stop is True and view.reboot_count == after.reboot_count,
            ids,
            expected="a forced restart recorded (LastForceStop true, "
            f"RebootCount {after.reboot_count})",
            received=f"LastForceStop {view.last_force_stop}, RebootCount {view.reboot_count}",
            exchange=exchange,
        )

    run()


@pytest.mark.requirement("doc.default.DryRun", "doc.param.DryRun.value.false")
def test_omitted_dry_run_means_false(ecs: ServerHarness) -> None:
    """Twin instances in any arranged condition, one called without DryRun and one with
    DryRun=false (any spelling): both give the answer the real call gives and end alike. The
    one condition in which the call reboots is tried at every seed; right after the call
    either listed transient status passes (`interop.transient.stopping`)."""
    ids = ("doc.default.DryRun", "doc.param.DryRun.value.false")
    ecs.require_destructive()
    ecs.require_control("arranging twin instances")
    rebootable = S.passing_condition(ecs.spec)
    canonical_false = ecs.spec.profile.booleans.spelling(False)

    @ecs.given(
        condition=S.conditions(ecs.spec),
        explicit=S.boolean_spellings(ecs.spec, False),
        always=[{"condition": rebootable, "explicit": canonical_false}],
    )
    def run(condition: Condition, explicit: str) -> None:
        omitted, given = ecs.arrange(condition), ecs.arrange(condition)
        expected, after = ecs.oracle.reboot(ModelInstance(condition))
        sent_at = time.monotonic()
        a = ecs.reboot(omitted)
        b = ecs.reboot(given, dry_run=explicit)
        note = f"{condition.describe()}; DryRun omitted vs DryRun={explicit!r}"
        ecs.expect(ids, expected, a, note=note)
        ecs.expect(ids, expected, b, note=note)
        va, vb = ecs.observe(omitted, counts=True), ecs.observe(given, counts=True)
        assert after is not None
        allowed = ecs.statuses_after(after, sent_at)
        shown = " or ".join(sorted(allowed))
        for view, exchange in ((va, a), (vb, b)):
            ecs.check(
                view.status in allowed and view.reboot_count == after.reboot_count,
                ids,
                expected=f"Status {shown}, RebootCount {after.reboot_count} ({note})",
                received=f"Status {view.status}, RebootCount {view.reboot_count}",
                exchange=exchange,
            )

    run()
