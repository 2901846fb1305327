"""State rules of the document's Description: only Running instances restart; after the call
the instance is Starting, then Running again."""

from __future__ import annotations

import time

import pytest

from conformance.suite.oracle import ModelInstance
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.base import Condition

ONLY_RUNNING = (
    "doc.state.only-running",
    "doc.error.403.IncorrectInstanceStatus",
    "doc.error.403.IncorrectInstanceStatus.message-2",
)
AFTER_CALL = ("doc.state.starting-after-call", "doc.response.RequestId")
# A reboot the suite waits for by the wall clock (URL targets with --ecs-reboot-seconds).
_LONGEST_WAIT_S = 30.0


@pytest.mark.requirement(*ONLY_RUNNING)
def test_only_running_instances_restart(ecs: ServerHarness, variant: Variant) -> None:
    """Every status but Running: the status error (either documented message), and the
    instance is not rebooted. A real call where allowed, else a DryRun (same answer)."""
    statuses = [s for s in ecs.oracle.statuses if s != ecs.spec.precondition_status]
    dry = None if ecs.context.destructive_allowed else True
    for status in statuses:
        condition = Condition(status)
        iid = ecs.arrange(condition)
        expected, _ = ecs.oracle.reboot(ModelInstance(condition), dry_run=dry)
        exchange = ecs.reboot(iid, dry_run=dry, variant=variant)
        ecs.expect(ONLY_RUNNING, expected, exchange, note=f"arranged Status {status}")
        view = ecs.observe(iid)
        ecs.check(
            view.status == status and view.reboot_count in (None, 0),
            ONLY_RUNNING,
            expected=f"the {status} instance untouched",
            received=f"Status {view.status}, RebootCount {view.reboot_count}",
            exchange=exchange,
        )


@pytest.mark.requirement(*AFTER_CALL)
def test_running_instance_restarts_through_the_transient_status(
    ecs: ServerHarness, variant: Variant
) -> None:
    """Running: success with a RequestId; right after, the documented transient status; after
    settling, Running again with one reboot counted."""
    ecs.require_destructive()
    done = ecs.reboot_rebootable(AFTER_CALL, variant=variant)
    iid, exchange, after = done.instance_id, done.exchange, done.after
    assert after is not None
    view = ecs.observe(iid)
    allowed = ecs.statuses_after(after, done.sent_at)
    ecs.check(
        view.status in allowed,
        "doc.state.starting-after-call",
        expected=f"Status {' or '.join(sorted(allowed))} right after the call",
        received=f"Status {view.status}",
        exchange=exchange,
    )
    settled = ecs.settle(iid)
    final = ecs.oracle.settle(after)
    ecs.check(
        settled is not None
        and settled.status == final.status
        and settled.reboot_count in (None, final.reboot_count),
        "doc.state.starting-after-call",
        expected=f"Status {final.status}, RebootCount {final.reboot_count} once settled",
        received=f"{settled}",
        exchange=exchange,
    )


@pytest.mark.requirement("doc.state.starting-after-call")
def test_reboot_ends_by_itself(ecs: ServerHarness) -> None:
    """The transient status is the target's own transition: without anyone calling settle, the
    instance is Running again once the reboot time has passed
    (docs/protocol.md#observing-instances)."""
    ctx = ecs.context
    seconds = ctx.reboot_seconds
    if seconds is None:
        ecs.skip(
            "the target's reboot time is unknown: pass --ecs-reboot-seconds S (the target's "
            "reboot duration) to check that a reboot ends by itself"
        )
    if ctx.shift_clock is None and seconds > _LONGEST_WAIT_S:
        ecs.skip(f"a {seconds:g} s reboot is longer than this check waits ({_LONGEST_WAIT_S} s)")
    ecs.require_destructive()
    done = ecs.reboot_rebootable("doc.state.starting-after-call")
    iid, exchange, after = done.instance_id, done.exchange, done.after
    assert after is not None
    final = ecs.oracle.settle(after)
    if ctx.shift_clock is not None:
        ctx.shift_clock(seconds + 1)
        patience = 2.0
    else:
        patience = seconds * 1.5 + 2.0
    try:
        deadline = time.monotonic() + patience
        view = ecs.observe(iid)
        while view.status != final.status and time.monotonic() < deadline:
            time.sleep(0.1)
            view = ecs.observe(iid)
    finally:
        if ctx.shift_clock is not None:
            # Back to wall time: the gateway judges later requests' timestamps by this clock.
            ctx.shift_clock(-(seconds + 1))
    ecs.check(
        view.status == final.status,
        "doc.state.starting-after-call",
        expected=f"Status {final.status} within {seconds:g} s of the call, without settle",
        received=f"Status {view.status} after waiting {patience:g} s more",
        exchange=exchange,
    )


@pytest.mark.requirement("interop.transient.stopping")
def test_transient_status_is_a_listed_one(ecs: ServerHarness) -> None:
    """Right after the call the instance shows a transient status the sources list: the
    document's Starting, or Stopping (the batch RebootInstances document's; the sources
    disagree, so either passes on any target)."""
    ecs.require_destructive()
    done = ecs.reboot_rebootable("interop.transient.stopping")
    iid, exchange, after = done.instance_id, done.exchange, done.after
    assert after is not None
    view = ecs.observe(iid)
    allowed = ecs.statuses_after(after, done.sent_at)
    ecs.check(
        view.status in allowed,
        "interop.transient.stopping",
        expected=f"Status {' or '.join(sorted(allowed))}",
        received=f"Status {view.status}",
        exchange=exchange,
    )
