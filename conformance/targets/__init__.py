"""Server targets and provisioners: how the suite reaches a server and arranges its state."""

from __future__ import annotations

from conformance.targets.base import (
    Condition,
    InstanceView,
    Provisioner,
    Unsupported,
)
from conformance.targets.http import Exchange, HttpServerTarget, SafetyGuard
from conformance.targets.provisioners import ControlProvisioner, FixturesProvisioner

__all__ = [
    "Condition",
    "ControlProvisioner",
    "Exchange",
    "FixturesProvisioner",
    "HttpServerTarget",
    "InstanceView",
    "Provisioner",
    "SafetyGuard",
    "Unsupported",
]
