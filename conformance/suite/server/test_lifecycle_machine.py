"""Call sequences against the lifecycle model (docs/architecture.md#property-based-testing): a
hypothesis state machine whose rules reboot (with and without ForceStop, for real and as DryRun),
settle, describe, re-arrange and inject faults, and whose invariants compare every instance with the
oracle. Every example starts from a reset target (`DELETE /state`), so examples are independent and
replayable."""

from __future__ import annotations

import json

import pytest
from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from conformance.suite import strategies as S
from conformance.suite.oracle import ModelInstance
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition

LIFECYCLE = (
    "doc.state.only-running",
    "doc.state.starting-after-call",
    "doc.dryrun.no-side-effects",
)


@pytest.mark.requirement(*LIFECYCLE)
def test_call_sequences_follow_the_lifecycle_model(ecs: ServerHarness) -> None:
    """Random sequences of calls keep every instance where the model says it is."""
    control = ecs.require_control("the lifecycle state machine (reset, arrange, settle)")
    ecs.require_destructive()
    spec, oracle = ecs.spec, ecs.oracle
    context = ecs.context
    optional = st.one_of(st.none(), st.booleans())
    pick = st.integers(min_value=0, max_value=7)

    class LifecycleMachine(RuleBasedStateMachine):
        """The target's instances against `ModelInstance`s."""

        def __init__(self) -> None:
            super().__init__()
            self.models: dict[str, ModelInstance] = {}
            self.faults = 0

        def _pick(self, index: int) -> str:
            # In creation order: the ids are random (fresh on every run), so an order derived
            # from them would pick another instance for the same draws, and a replay of the
            # same seed would take another path (hypothesis' "inconsistent data generation").
            ids = list(self.models)
            return ids[index % len(ids)]

        def _take_fault(self) -> str | None:
            if self.faults and oracle.code_fault:
                self.faults -= 1
                return oracle.code_fault
            return None

        @initialize(conditions=st.lists(S.conditions(spec), min_size=1, max_size=3))
        def reset(self, conditions: list[Condition]) -> None:
            control.reset()
            for condition in conditions:
                iid = ecs.arrange(condition)
                self.models[iid] = ModelInstance(condition)

        @rule(index=pick, force=optional, dry=optional, variant=st.sampled_from(context.variants()))
        def reboot(
            self, index: int, force: bool | None, dry: bool | None, variant: Variant
        ) -> None:
            iid = self._pick(index)
            model = self.models[iid]
            expected, after = oracle.reboot(
                model, force_stop=force, dry_run=dry, fault=self._take_fault()
            )
            exchange = ecs.reboot(iid, force_stop=force, dry_run=dry, variant=variant)
            ecs.expect(LIFECYCLE, expected, exchange, note=f"instance in model state {model}")
            assert after is not None
            self.models[iid] = after

        def teardown(self) -> None:
            control.reset()  # no queued fault may reach the tests that run after the machine

        @rule()
        def reboot_unknown(self) -> None:
            fault = self._take_fault()
            expected, _ = oracle.reboot(None, fault=fault, dry_run=True)
            exchange = ecs.reboot(ecs.not_found_id(), dry_run=True)
            ecs.expect(LIFECYCLE, expected, exchange, note="an unknown id")

        @rule(index=pick)
        def settle(self, index: int) -> None:
            iid = self._pick(index)
            control.settle(iid)
            self.models[iid] = oracle.settle(self.models[iid])

        @rule(index=pick, condition=S.conditions(spec))
        def rearrange(self, index: int, condition: Condition) -> None:
            iid = self._pick(index)
            control.arrange(condition, iid)
            self.models[iid] = ModelInstance(condition)

        @rule()
        def inject_fault(self) -> None:
            if oracle.code_fault:
                control.inject_fault(spec.action, oracle.code_fault, 1)
                self.faults += 1

        @rule(index=pick)
        def describe(self, index: int) -> None:
            """DescribeInstances, where the target has it, shows the model's status."""
            iid = self._pick(index)
            exchange = ecs.target.call("DescribeInstances", {"InstanceIds": json.dumps([iid])})
            data = exchange.response.data if exchange.response is not None else None
            if exchange.status != 200 or not data:
                return  # not part of the operation under test: only judged when available
            items = (data.get("Instances") or {}).get("Instance") or []
            shown = {i.get("InstanceId"): i.get("Status") for i in items if isinstance(i, dict)}
            model = self.models[iid]
            allowed = oracle.acceptable_statuses(
                model, clock_may_settle=context.clock_may_settle, real_service=context.real_service
            )
            ecs.check(
                shown.get(iid) in allowed,
                LIFECYCLE,
                expected=f"DescribeInstances shows {iid} as {' or '.join(sorted(allowed))}",
                received=f"{shown.get(iid)}",
                exchange=exchange,
            )

        @invariant()
        def instances_match_the_model(self) -> None:
            for iid, model in self.models.items():
                view = control.observe(iid)
                allowed = oracle.acceptable_statuses(
                    model,
                    clock_may_settle=context.clock_may_settle,
                    real_service=context.real_service,
                )
                got = (
                    None if view is None else (view.status, view.reboot_count, view.last_force_stop)
                )
                if (
                    view is None
                    or view.status not in allowed
                    or (view.reboot_count, view.last_force_stop)
                    != (model.reboot_count, model.last_force_stop)
                ):
                    raise ecs.fail(
                        LIFECYCLE,
                        expected=f"{iid}: Status {' or '.join(sorted(allowed))}, RebootCount "
                        f"{model.reboot_count}, LastForceStop {model.last_force_stop}",
                        received=f"Status, RebootCount, LastForceStop = {got}",
                    )

    def factory() -> LifecycleMachine:
        return LifecycleMachine()

    # hypothesis 6.170 types the factory as a class (it accepts any callable); older releases
    # leave the function untyped.
    run_state_machine_as_test(  # type: ignore[no-untyped-call,unused-ignore]
        seed(context.seed)(factory),  # type: ignore[arg-type,unused-ignore]
        settings=ecs.settings(scale=1.5, stateful_step_count=20),
    )
