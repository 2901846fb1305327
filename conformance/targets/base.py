"""The seam of the server suite's arrangements: `Provisioner` (arrange, observe, settle, inject
faults, reset) and the data types it speaks in.

Seams are small Protocols: the server harness holds a `Provisioner`, whichever of the two
implementations of `targets/provisioners.py` (test-control API, fixtures file) the session chose;
suite tests never import an HTTP library. The calls themselves go through `targets/http.py`, the one
way the suite reaches a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "NOT_FOUND_PREFIX",
    "Condition",
    "InstanceView",
    "Provisioner",
    "Unsupported",
]

# docs/contracts.md#black-box-fixtures: ids that provoke InvalidInstanceId.NotFound can never name a
# real instance, whose ids are `i-` and 20 lower-case letters and digits (hyphens after `i-` never
# occur).
NOT_FOUND_PREFIX = "i-conformance-notfound-"


class Unsupported(Exception):
    """A provisioner cannot do what was asked; `reason` says why, for a `not_verified` verdict."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Condition:
    """An arranged instance in the vocabulary of the test-control API: the body of
    `PUT /instances/{id}` (docs/contracts.md#routes).

    >>> Condition("Stopped").body()["Status"]
    'Stopped'
    """

    status: str
    operation_locks: tuple[str, ...] = ()
    disk_status: str | None = None  # None: the control API's default (In_use)
    kms_key_accessible: bool = True

    def body(self) -> dict[str, object]:
        """The JSON body of `PUT /instances/{id}`."""
        out: dict[str, object] = {
            "Status": self.status,
            "OperationLocks": list(self.operation_locks),
            "KmsKeyAccessible": self.kms_key_accessible,
        }
        if self.disk_status is not None:
            out["DiskStatus"] = self.disk_status
        return out

    def describe(self) -> str:
        """A short human phrase ("Stopped, locks [security]")."""
        parts = [self.status]
        if self.operation_locks:
            parts.append(f"locks [{', '.join(self.operation_locks)}]")
        if self.disk_status is not None:
            parts.append(f"DiskStatus {self.disk_status}")
        if not self.kms_key_accessible:
            parts.append("KMS key not accessible")
        return ", ".join(parts)


@dataclass(frozen=True)
class InstanceView:
    """What a provisioner can observe of an instance. `None` fields could not be observed
    (DescribeInstances shows no `RebootCount` or `LastForceStop`)."""

    instance_id: str
    status: str
    operation_locks: tuple[str, ...] = ()
    disk_status: str | None = None
    kms_key_accessible: bool | None = None
    reboot_count: int | None = None
    last_force_stop: bool | None = None
    raw: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)


@runtime_checkable
class Provisioner(Protocol):
    """Arranges and observes instances on a target: the control API of
    docs/contracts.md#test-control, or the black-box fixtures file of
    docs/contracts.md#black-box-fixtures. Methods it cannot honour raise `Unsupported`."""

    name: str

    def arrange(self, condition: Condition, instance_id: str | None = None) -> str | None:
        """An instance id in `condition` (created, or found among fixtures), or None."""
        ...

    def observe(self, instance_id: str) -> InstanceView | None:
        """The instance as the target sees it now, or None when it does not exist."""
        ...

    def settle(self, instance_id: str) -> InstanceView | None:
        """Finish a transition in progress; the view afterwards."""
        ...

    def inject_fault(self, action: str, code: str, count: int = 1) -> None:
        """Make the next `count` calls of `action` answer the documented error `code`."""
        ...

    def reset(self) -> None:
        """Forget all instances, faults and nonces."""
        ...

    def not_found_id(self) -> str:
        """A random id that cannot name a real instance (docs/contracts.md#black-box-fixtures)."""
        ...

    def missing_reason(self, condition: Condition) -> str:
        """Why `arrange(condition)` gave None (for the `not_verified` verdict)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
