"""`World` unit tests: no HTTP, and no sleeping: time comes from an injected clock."""

from __future__ import annotations

import threading
import tracemalloc

import pytest

from conformance.emulator.behaviour import Behaviour
from conformance.emulator.state import InstanceSnapshot, Lifecycle, RebootResult, World
from conformance.spec import load_spec

SPEC = load_spec()
LIFE = SPEC.lifecycle
RUNNING = SPEC.precondition_status
STARTING = SPEC.resulting_status
SETTLED = SPEC.settled_status
REBOOT_SECONDS = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> World:
    return World.from_spec(SPEC, clock=clock, reboot_seconds=REBOOT_SECONDS)


def lock_of(condition: str) -> str:
    code = SPEC.conditions[condition]
    return next(r for r, c in SPEC.lock_errors.items() if c == code)


def test_lifecycle_comes_from_the_spec() -> None:
    life = Lifecycle.from_spec(SPEC)
    assert life.statuses == LIFE.statuses
    assert dict(life.settle) == LIFE.settle
    assert (life.precondition, life.resulting) == (RUNNING, STARTING)
    assert life.disk_ok_status == LIFE.disk_ok_status
    assert {r.value for r in life.lock_conditions.values()} == {"lock_security", "lock_financial"}


def test_put_and_get_give_the_view_with_defaults(world: World) -> None:
    view = world.put(InstanceSnapshot("i-1", RUNNING))
    assert view == InstanceSnapshot("i-1", RUNNING, (), LIFE.disk_ok_status, True, 0, None)
    assert world.get("i-1") == view
    assert world.get("i-unknown") is None


def test_put_refuses_an_unknown_status(world: World) -> None:
    with pytest.raises(ValueError):
        world.put(InstanceSnapshot("i-1", "Rebooting"))


def test_reboot_moves_to_the_resulting_status_then_settles_by_the_clock(
    world: World, clock: Clock
) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    assert world.reboot("i-1", force_stop=True, dry_run=False) is RebootResult.REBOOTED
    view = world.get("i-1")
    assert view is not None
    assert (view.status, view.reboot_count, view.last_force_stop) == (STARTING, 1, True)
    clock.now += REBOOT_SECONDS - 0.001
    assert world.get("i-1").status == STARTING  # type: ignore[union-attr]
    clock.now += 0.001
    assert world.get("i-1").status == SETTLED  # type: ignore[union-attr]


def test_settle_ends_a_reboot_transition_at_once(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    world.reboot("i-1", force_stop=False, dry_run=False)
    assert world.settle("i-1").status == SETTLED  # type: ignore[union-attr]
    assert world.settle("i-unknown") is None


@pytest.mark.parametrize("status", LIFE.statuses)
def test_a_put_status_never_changes_by_itself_and_settle_moves_it(
    world: World, clock: Clock, status: str
) -> None:
    world.put(InstanceSnapshot("i-1", status))
    clock.now += 10_000
    assert world.get("i-1").status == status  # type: ignore[union-attr]
    assert world.settle("i-1").status == LIFE.settle.get(status, status)  # type: ignore[union-attr]


def test_put_replaces_whole_and_counters_start_again(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    world.reboot("i-1", force_stop=True, dry_run=False)
    world.put(InstanceSnapshot("i-1", RUNNING))
    view = world.get("i-1")
    assert (view.reboot_count, view.last_force_stop) == (0, None)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (None, RebootResult.NOT_FOUND),
        (InstanceSnapshot("i-1", STARTING), RebootResult.STATUS_NOT_RUNNING),
        (InstanceSnapshot("i-1", RUNNING, (lock_of("lock_security"),)), RebootResult.LOCK_SECURITY),
        (
            InstanceSnapshot("i-1", RUNNING, (lock_of("lock_financial"),)),
            RebootResult.LOCK_FINANCIAL,
        ),
        (InstanceSnapshot("i-1", RUNNING, disk_status="Attaching"), RebootResult.DISK_NOT_READY),
        (InstanceSnapshot("i-1", RUNNING, kms_key_accessible=False), RebootResult.KMS_UNAUTHORIZED),
        (InstanceSnapshot("i-1", RUNNING, ("recycling",)), RebootResult.REBOOTED),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_each_condition_refuses_and_dry_run_changes_nothing(
    world: World, view: InstanceSnapshot | None, expected: RebootResult, dry_run: bool
) -> None:
    if view is not None:
        world.put(view)
    result = world.reboot("i-1", force_stop=False, dry_run=dry_run)
    if expected is RebootResult.REBOOTED and dry_run:
        expected = RebootResult.DRY_RUN_PASSED
    assert result is expected
    after = world.get("i-1")
    if view is not None:
        rebooted = result is RebootResult.REBOOTED
        assert after.reboot_count == int(rebooted)  # type: ignore[union-attr]
        assert after.status == (STARTING if rebooted else view.status)  # type: ignore[union-attr]


def test_refusal_results_are_the_profile_conditions() -> None:
    refusals = {r.value for r in RebootResult if r.refused}
    assert refusals <= set(SPEC.conditions)


def test_a_starting_instance_cannot_be_rebooted_again(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    assert world.reboot("i-1", force_stop=False, dry_run=False) is RebootResult.REBOOTED
    again = world.reboot("i-1", force_stop=False, dry_run=False)
    assert again is RebootResult.STATUS_NOT_RUNNING


def test_faults_queue_per_action_and_add_up(world: World) -> None:
    world.add_fault("RebootInstance", "InternalError", 2)
    world.add_fault("RebootInstance", "ServiceUnavailable", 1)
    world.add_fault("DescribeInstances", "Throttling", 1)
    taken = [world.take_fault("RebootInstance") for _ in range(4)]
    assert taken == ["InternalError", "InternalError", "ServiceUnavailable", None]
    assert world.take_fault("DescribeInstances") == "Throttling"
    assert world.take_fault("DescribeInstances") is None
    with pytest.raises(ValueError):
        world.add_fault("RebootInstance", "InternalError", 0)


def test_reset_forgets_instances_and_faults(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    world.add_fault("RebootInstance", "InternalError", 1)
    world.reset()
    assert world.get("i-1") is None
    assert world.take_fault("RebootInstance") is None
    assert len(world) == 0


def test_describe_pages_and_filters(world: World) -> None:
    for n in range(25):
        world.put(InstanceSnapshot(f"i-{n:02d}", RUNNING))
    total, page = world.describe(None, page=3, size=10)
    assert total == 25
    assert [v.instance_id for v in page] == [f"i-{n:02d}" for n in range(20, 25)]
    total, page = world.describe(["i-03", "i-missing", "i-01", "i-03"], page=1, size=10)
    assert total == 2
    assert [v.instance_id for v in page] == ["i-03", "i-01"]


def test_describe_applies_the_due_settle(world: World, clock: Clock) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    world.reboot("i-1", force_stop=False, dry_run=False)
    clock.now += REBOOT_SECONDS
    assert world.describe(["i-1"])[1][0].status == SETTLED


@pytest.mark.parametrize(
    ("behaviour", "view", "expected"),
    [
        (Behaviour(skip_state_precondition=True), InstanceSnapshot("i-1", "Stopped"), "REBOOTED"),
        (Behaviour(reboot_starting_allowed=True), InstanceSnapshot("i-1", STARTING), "REBOOTED"),
        (
            Behaviour(ignore_security_lock=True),
            InstanceSnapshot("i-1", RUNNING, (lock_of("lock_security"),)),
            "REBOOTED",
        ),
        (
            Behaviour(ignore_disk_error=True),
            InstanceSnapshot("i-1", RUNNING, disk_status="Attaching"),
            "REBOOTED",
        ),
        (
            Behaviour(ignore_kms=True),
            InstanceSnapshot("i-1", RUNNING, kms_key_accessible=False),
            "REBOOTED",
        ),
    ],
)
def test_state_switches_skip_their_check(
    world: World, behaviour: Behaviour, view: InstanceSnapshot, expected: str
) -> None:
    world.put(view)
    assert world.reboot("i-1", force_stop=False, dry_run=False).refused
    world.put(view)
    result = world.reboot("i-1", force_stop=False, dry_run=False, behaviour=behaviour)
    assert result is RebootResult[expected]


def test_dryrun_executes_switch_reboots_on_dry_run(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    result = world.reboot(
        "i-1", force_stop=False, dry_run=True, behaviour=Behaviour(dryrun_executes=True)
    )
    assert result is RebootResult.DRY_RUN_PASSED
    assert world.get("i-1").reboot_count == 1  # type: ignore[union-attr]


def test_status_switches(world: World, clock: Clock) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    world.reboot(
        "i-1", force_stop=False, dry_run=False, behaviour=Behaviour(status_stays_running=True)
    )
    assert world.get("i-1").status == RUNNING  # type: ignore[union-attr]
    world.put(InstanceSnapshot("i-2", RUNNING))
    world.reboot("i-2", force_stop=False, dry_run=False, behaviour=Behaviour(never_settles=True))
    clock.now += 10 * REBOOT_SECONDS
    assert world.get("i-2").status == STARTING  # type: ignore[union-attr]


def test_concurrent_reboots_pass_the_precondition_once(world: World) -> None:
    world.put(InstanceSnapshot("i-1", RUNNING))
    barrier = threading.Barrier(16)
    results: list[RebootResult] = []

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            results.append(world.reboot("i-1", force_stop=False, dry_run=False))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(RebootResult.REBOOTED) == 1
    assert world.get("i-1").reboot_count == 1  # type: ignore[union-attr]


def test_ten_thousand_instances_fit_in_a_few_megabytes(world: World) -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(10_000):
            world.put(InstanceSnapshot(f"i-bp1{n:017d}", RUNNING, ()))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(world) == 10_000
    assert used < 8 * 1024 * 1024, f"{used / 1e6:.1f} MB for 10,000 instances"
