"""DryRun as a metamorphic oracle (docs/architecture.md#property-based-testing): for any arranged
condition, `DryRun=true` answers the error the real call gives, or the DryRun outcome where the call
would succeed, and changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from conformance.suite import strategies as S
from conformance.suite.oracle import ModelInstance
from conformance.suite.server.answers import DRYRUN_PASSES
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition

PASSES = DRYRUN_PASSES
NO_SIDE_EFFECTS = "doc.dryrun.no-side-effects"
LIKE_THE_CALL = ("doc.dryrun.fails-like-the-call", "protocol.dryrun.outcome")


@pytest.mark.requirement(*PASSES, NO_SIDE_EFFECTS)
def test_dryrun_passes_on_a_running_instance(ecs: ServerHarness, variant: Variant) -> None:
    """A Running instance with no lock: the DryRun outcome (its documented status and
    message), and the instance is not rebooted."""
    done = ecs.reboot_rebootable(PASSES, dry_run=True, variant=variant)
    exchange, status = done.exchange, done.condition.status
    view = ecs.observe(done.instance_id)
    ecs.check(
        view.status == status and view.reboot_count in (None, 0),
        NO_SIDE_EFFECTS,
        expected=f"Status {status}, RebootCount 0 after a DryRun",
        received=f"Status {view.status}, RebootCount {view.reboot_count}",
        exchange=exchange,
    )


@pytest.mark.requirement(*LIKE_THE_CALL, NO_SIDE_EFFECTS, "doc.dryrun.passes")
def test_dryrun_answers_like_the_call(ecs: ServerHarness) -> None:
    """For every arrangeable condition: DryRun answers what the oracle predicts, changes
    neither Status nor RebootCount, and (where real calls are allowed) the real call that
    follows answers the same error, or succeeds where the DryRun passed."""
    ecs.require_control("arranging every condition")
    real_calls = ecs.context.destructive_allowed

    @ecs.given(
        condition=S.conditions(ecs.spec),
        force=st.one_of(st.none(), st.booleans()),
        variant=st.sampled_from(ecs.context.variants()),
        scale=2.0,
    )
    def run(condition: Condition, force: bool | None, variant: Variant) -> None:
        note = f"arranged: {condition.describe()}"
        iid = ecs.arrange(condition)
        model = ModelInstance(condition)
        dry_expected, _ = ecs.oracle.reboot(model, dry_run=True, force_stop=force)
        dry = ecs.reboot(iid, dry_run=True, force_stop=force, variant=variant)
        ecs.expect(LIKE_THE_CALL, dry_expected, dry, note=note)
        view = ecs.observe(iid, counts=True)
        ecs.check(
            (view.status, view.reboot_count) == (condition.status, 0),
            NO_SIDE_EFFECTS,
            expected=f"Status {condition.status}, RebootCount 0 after a DryRun ({note})",
            received=f"Status {view.status}, RebootCount {view.reboot_count}",
            exchange=dry,
        )
        if not real_calls:
            return
        real_expected, _ = ecs.oracle.reboot(model, force_stop=force)
        real = ecs.reboot(iid, force_stop=force, variant=variant)
        ecs.expect(LIKE_THE_CALL, real_expected, real, note=note + " (the real call)")
        if dry_expected.kind == "error" and len(dry_expected.codes) == 1:
            ecs.check(
                dry.code == real.code,
                LIKE_THE_CALL,
                expected=f"the DryRun's error equal to the real call's ({real.code})",
                received=f"DryRun {dry.code}, real call {real.code}",
                exchange=dry,
            )

    run()


@pytest.mark.requirement(NO_SIDE_EFFECTS)
def test_repeated_dryruns_change_nothing(ecs: ServerHarness) -> None:
    """Several DryRuns in a row on one instance (any condition): no reboot is counted and the
    status never moves."""
    ecs.require_control("observing RebootCount")

    @ecs.given(condition=S.conditions(ecs.spec), times=st.integers(2, 5), scale=2.0)
    def run(condition: Condition, times: int) -> None:
        iid = ecs.arrange(condition)
        for _ in range(times):
            exchange = ecs.reboot(iid, dry_run=True)
            ecs.answered(NO_SIDE_EFFECTS, exchange)
        view = ecs.observe(iid, counts=True)
        ecs.check(
            (view.status, view.reboot_count) == (condition.status, 0),
            NO_SIDE_EFFECTS,
            expected=f"Status {condition.status}, RebootCount 0 after {times} DryRuns",
            received=f"Status {view.status}, RebootCount {view.reboot_count}",
            exchange=exchange,
        )

    run()
