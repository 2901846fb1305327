"""The reference emulator of RebootInstance: `create_app`, `World`, `Behaviour`, and runners."""

from __future__ import annotations

from conformance.emulator.app import create_app
from conformance.emulator.behaviour import Behaviour
from conformance.emulator.server import EmbeddedEmulator, serve
from conformance.emulator.state import InstanceSnapshot, Lifecycle, RebootResult, World

__all__ = [
    "Behaviour",
    "EmbeddedEmulator",
    "InstanceSnapshot",
    "Lifecycle",
    "RebootResult",
    "World",
    "create_app",
    "serve",
]
