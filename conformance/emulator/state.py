"""The emulator's world: instances, queued faults and an injected clock. No HTTP here.

Every state change happens inside one `threading.Lock`, check and act together, so concurrent
reboots of one instance cannot both pass the `Running` precondition
(docs/contracts.md#test-control). Time comes from an injected clock, so `settle` and
`--reboot-seconds` are tested without sleeping.
"""

from __future__ import annotations

import enum
import functools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.emulator.behaviour import Behaviour

if TYPE_CHECKING:
    from conformance.spec.model import Spec

__all__ = ["Fault", "InstanceSnapshot", "Lifecycle", "RebootResult", "World"]

_REFERENCE = Behaviour()


class RebootResult(enum.StrEnum):
    """What `World.reboot` decided. Refusals are named like the profile's `conditions` keys."""

    NOT_FOUND = "not_found"
    STATUS_NOT_RUNNING = "status_not_running"
    LOCK_SECURITY = "lock_security"
    LOCK_FINANCIAL = "lock_financial"
    DISK_NOT_READY = "disk_not_ready"
    KMS_UNAUTHORIZED = "kms_unauthorized"
    REBOOTED = "rebooted"
    DRY_RUN_PASSED = "dry_run_passed"

    @property
    def refused(self) -> bool:
        """True when a documented condition refused the reboot."""
        return self not in (RebootResult.REBOOTED, RebootResult.DRY_RUN_PASSED)


# The reference order of the instance checks (the document gives none; the suite accepts any
# applicable error where several conditions hold).
_DEFAULT_ORDER = (
    RebootResult.STATUS_NOT_RUNNING,
    RebootResult.LOCK_SECURITY,
    RebootResult.LOCK_FINANCIAL,
    RebootResult.DISK_NOT_READY,
    RebootResult.KMS_UNAUTHORIZED,
)


@functools.lru_cache(maxsize=32)
def _order(names: tuple[str, ...]) -> tuple[RebootResult, ...]:
    """A `Behaviour.refusal_order` as results (empty: the reference order)."""
    return tuple(RebootResult(n) for n in names) if names else _DEFAULT_ORDER


@dataclass(frozen=True)
class Lifecycle:
    """The lifecycle facts the world needs, read from the spec (profile `lifecycle`)."""

    statuses: tuple[str, ...]
    settle: Mapping[str, str]
    precondition: str
    resulting: str
    disk_ok_status: str
    # lock reason -> refusal, in the order the profile lists the lock conditions
    lock_conditions: Mapping[str, RebootResult] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Spec) -> Lifecycle:
        """Build from `load_spec()`: statuses, settle map, lock conditions
        (docs/contracts.md#test-control); each lock reason refuses with the condition whose
        documented code it provokes."""
        life = spec.lifecycle
        by_code = {code: name for name, code in spec.conditions.items()}
        locks = {
            reason: RebootResult(by_code[code])
            for reason, code in spec.lock_errors.items()
            if code in by_code
        }
        return cls(
            statuses=life.statuses,
            settle=dict(life.settle),
            precondition=spec.precondition_status,
            resulting=spec.resulting_status,
            disk_ok_status=life.disk_ok_status,
            lock_conditions=locks,
        )


@dataclass(frozen=True, slots=True)
class InstanceSnapshot:
    """An immutable snapshot of one instance (the control API's view,
    docs/contracts.md#instance-view)."""

    instance_id: str
    status: str
    operation_locks: tuple[str, ...] = ()
    disk_status: str | None = None  # None: the lifecycle's disk_ok_status
    kms_key_accessible: bool = True
    reboot_count: int = 0
    last_force_stop: bool | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    """A queued fault: the next `count` calls of an action answer `code`."""

    code: str
    count: int


class _Instance:
    """Mutable record kept inside the world; slots keep 10,000 of them small."""

    __slots__ = (
        "after_reboot",
        "disk_status",
        "due",
        "instance_id",
        "kms_key_accessible",
        "last_force_stop",
        "operation_locks",
        "reboot_count",
        "status",
    )

    def __init__(
        self,
        instance_id: str,
        status: str,
        operation_locks: tuple[str, ...],
        disk_status: str,
        kms_key_accessible: bool,
        reboot_count: int,
        last_force_stop: bool | None,
    ) -> None:
        self.instance_id = instance_id
        self.status = status
        self.operation_locks = operation_locks
        self.disk_status = disk_status
        self.kms_key_accessible = kms_key_accessible
        self.reboot_count = reboot_count
        self.last_force_stop = last_force_stop
        self.due: float | None = None  # clock time when a reboot's transition ends
        # The status a reboot in progress ends in (None: no reboot in progress).
        self.after_reboot: str | None = None

    def view(self) -> InstanceSnapshot:
        return InstanceSnapshot(
            self.instance_id,
            self.status,
            self.operation_locks,
            self.disk_status,
            self.kms_key_accessible,
            self.reboot_count,
            self.last_force_stop,
        )


class _QueuedFault:
    __slots__ = ("code", "count")

    def __init__(self, code: str, count: int) -> None:
        self.code = code
        self.count = count


class World:
    """Instances and faults of one emulator, behind one lock.

    Example::

        world = World(clock=fake_clock, reboot_seconds=5, lifecycle=Lifecycle.from_spec(spec))
        world.put(InstanceSnapshot("i-1", "Running"))
        world.reboot("i-1", force_stop=False, dry_run=False)  # RebootResult.REBOOTED
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        reboot_seconds: float,
        lifecycle: Lifecycle,
    ) -> None:
        self._clock = clock
        self.reboot_seconds = float(reboot_seconds)
        self.lifecycle = lifecycle
        self._lock = threading.Lock()
        self._instances: dict[str, _Instance] = {}
        self._faults: dict[str, deque[_QueuedFault]] = {}
        # one string object per status, so 10,000 instances share them
        self._interned = {s: s for s in lifecycle.statuses}
        self._interned[lifecycle.disk_ok_status] = lifecycle.disk_ok_status

    @classmethod
    def from_spec(cls, spec: Spec, *, clock: Callable[[], float], reboot_seconds: float) -> World:
        """A world whose lifecycle is the spec's."""
        return cls(clock=clock, reboot_seconds=reboot_seconds, lifecycle=Lifecycle.from_spec(spec))

    # -- instances ---------------------------------------------------------------------------
    def put(self, view: InstanceSnapshot) -> InstanceSnapshot:
        """Create or replace an instance whole; a status set here never changes by itself."""
        if view.status not in self.lifecycle.statuses:
            raise ValueError(f"unknown status {view.status!r}")
        disk = self.lifecycle.disk_ok_status if view.disk_status is None else view.disk_status
        record = _Instance(
            view.instance_id,
            self._interned[view.status],
            tuple(view.operation_locks),
            self._interned.get(disk, disk),
            bool(view.kms_key_accessible),
            int(view.reboot_count),
            view.last_force_stop,
        )
        with self._lock:
            self._instances[view.instance_id] = record
            return record.view()

    def get(self, instance_id: str) -> InstanceSnapshot | None:
        """The instance's view (a due reboot transition is applied first), or None."""
        with self._lock:
            record = self._instances.get(instance_id)
            if record is None:
                return None
            self._advance(record, self._clock())
            return record.view()

    def settle(self, instance_id: str) -> InstanceSnapshot | None:
        """Finish any transition (Starting, Pending -> Running; Stopping -> Stopped), or None."""
        with self._lock:
            record = self._instances.get(instance_id)
            if record is None:
                return None
            record.status = record.after_reboot or self.lifecycle.settle.get(
                record.status, record.status
            )
            record.due = None
            record.after_reboot = None
            return record.view()

    def describe(
        self, ids: Iterable[str] | None = None, page: int = 1, size: int = 10
    ) -> tuple[int, tuple[InstanceSnapshot, ...]]:
        """(total, one page of views): all instances, or the named ones that exist, in order."""
        with self._lock:
            now = self._clock()
            if ids is None:
                records = list(self._instances.values())
            else:
                seen: set[str] = set()
                records = []
                for i in ids:
                    record = self._instances.get(i)
                    if record is not None and i not in seen:
                        seen.add(i)
                        records.append(record)
            start = (max(page, 1) - 1) * size
            chosen = records[start : start + size]
            for record in chosen:
                self._advance(record, now)
            return len(records), tuple(r.view() for r in chosen)

    def __len__(self) -> int:
        return len(self._instances)

    # -- the operation -----------------------------------------------------------------------
    def reboot(
        self,
        instance_id: str,
        *,
        force_stop: bool,
        dry_run: bool,
        behaviour: Behaviour = _REFERENCE,
    ) -> RebootResult:
        """Check the document's conditions and reboot, atomically (docs/contracts.md#test-control).

        Refusals are checked in a fixed order (not found, status, locks, disk, KMS); the
        document gives none, and the suite accepts any applicable error. A DryRun that passes
        changes nothing (docs/protocol.md#dryrun) unless `behaviour.dryrun_executes`.
        """
        life = self.lifecycle
        with self._lock:
            record = self._instances.get(instance_id)
            if record is None:
                return RebootResult.NOT_FOUND
            now = self._clock()
            self._advance(record, now)
            refusal = self._refusal(record, behaviour)
            if refusal is not None:
                return refusal
            if dry_run and not behaviour.dryrun_executes:
                return RebootResult.DRY_RUN_PASSED
            record.reboot_count += 1
            record.last_force_stop = bool(force_stop)
            if behaviour.status_stays_running:
                record.due = None
            else:
                shown = behaviour.transient_status or life.resulting
                record.status = self._interned.get(shown, shown)
                record.after_reboot = life.settle.get(life.resulting, life.resulting)
                record.due = None if behaviour.never_settles else now + self.reboot_seconds
            return RebootResult.DRY_RUN_PASSED if dry_run else RebootResult.REBOOTED

    def _refusal(self, record: _Instance, behaviour: Behaviour) -> RebootResult | None:
        """The first documented condition that refuses the reboot, in the behaviour's order
        (the reference's: status, locks, disk, KMS)."""
        life = self.lifecycle
        names = behaviour.refusal_order
        for result in _order(names) if names else _DEFAULT_ORDER:
            if result is RebootResult.STATUS_NOT_RUNNING:
                if (
                    record.status != life.precondition
                    and not behaviour.skip_state_precondition
                    and not (behaviour.reboot_starting_allowed and record.status == life.resulting)
                ):
                    return result
            elif result is RebootResult.DISK_NOT_READY:
                if record.disk_status != life.disk_ok_status and not behaviour.ignore_disk_error:
                    return result
            elif result is RebootResult.KMS_UNAUTHORIZED:
                if not record.kms_key_accessible and not behaviour.ignore_kms:
                    return result
            elif record.operation_locks:  # a lock: security or financial
                for reason, refusal in life.lock_conditions.items():
                    if refusal is result and reason in record.operation_locks:
                        if result is RebootResult.LOCK_SECURITY and behaviour.ignore_security_lock:
                            break
                        return result
        return None

    def _advance(self, record: _Instance, now: float) -> None:
        # Only a reboot sets `due`; a status set by `put` never changes by itself
        # (docs/contracts.md#details-every-implementation-must-share).
        if record.due is not None and now >= record.due:
            record.status = record.after_reboot or self.lifecycle.settle.get(
                record.status, record.status
            )
            record.due = None
            record.after_reboot = None

    # -- faults ------------------------------------------------------------------------------
    def add_fault(self, action: str, code: str, count: int = 1) -> None:
        """Queue `count` answers of `code` for `action`; queued faults add up."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.setdefault(action, deque()).append(_QueuedFault(code, int(count)))

    def take_fault(self, action: str) -> str | None:
        """Consume one queued fault of `action` and return its code, or None."""
        if not self._faults:  # cheap unlocked fast path: nothing queued at all
            return None
        with self._lock:
            queue = self._faults.get(action)
            if not queue:
                return None
            head = queue[0]
            head.count -= 1
            if head.count <= 0:
                queue.popleft()
                if not queue:
                    del self._faults[action]
            return head.code

    def faults(self) -> dict[str, tuple[Fault, ...]]:
        """A snapshot of the queued faults, per action."""
        with self._lock:
            return {a: tuple(Fault(f.code, f.count) for f in q) for a, q in self._faults.items()}

    def reset(self) -> None:
        """Forget every instance and fault."""
        with self._lock:
            self._instances.clear()
            self._faults.clear()
