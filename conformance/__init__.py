"""Conformance toolkit for the Alibaba Cloud ECS RebootInstance API.

The public contracts (docs/contracts.md) are re-exported here lazily, so that importing the
package (which pytest does for the plugin) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "ConformanceError",
    "Outcome",
    "RebootCall",
    "SpecError",
    "TargetUnreachable",
    "load_spec",
]

_LAZY = {
    "ConfigError": "conformance.errors",
    "ConformanceError": "conformance.errors",
    "SpecError": "conformance.errors",
    "TargetUnreachable": "conformance.errors",
    "load_spec": "conformance.spec",
    "RebootCall": "conformance.client.contract",
    "Outcome": "conformance.client.contract",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
