"""The shipped client adapters, one entry each, and how a session names the client it judges.

Three ways to name the client under test (docs/contracts.md#client-adapters):

* a shipped name (`reference`, `reference-v3`, `aliyun-python-sdk-ecs`, `faulty-fixed-nonce`,
  ...; see `adapter_names()`);
* `module:attr`, imported with the current directory on `sys.path`: a callable taking one
  `RebootCall` and returning an `Outcome`, or an object (or class) with a `reboot_instance`
  method;
* a command (`--command 'CMD'`): CMD reads one `RebootCall` as JSON on stdin and prints one
  `Outcome` as JSON on stdout.

A new shipped adapter is one `AdapterEntry` here and its factory beside the others in
`conformance/client/`.

    >>> "reference" in adapter_names() and "faulty-fixed-nonce" in adapter_names()
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from conformance.client import node, official, reference
from conformance.client.adapters import CommandAdapter, adapter_from_object, import_attr
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    AdapterUnavailable,
    ClientAdapter,
)
from conformance.client.faulty import ADAPTER_PREFIX, FAULTY
from conformance.client.variants import ADAPTER_PREFIX as VARIANT_PREFIX
from conformance.client.variants import VARIANTS
from conformance.errors import ConfigError, did_you_mean

__all__ = [
    "ADAPTERS",
    "DEFAULT_ADAPTER",
    "AdapterEntry",
    "adapter_names",
    "load_adapter",
    "main_job_adapters",
    "main_job_entries",
    "unavailable_reason",
]

DEFAULT_ADAPTER = "reference"


def _always() -> bool:
    return True


@dataclass(frozen=True)
class AdapterEntry:
    """One shipped adapter: its name, how to build it, and whether it can run here.

    `factory` takes the adapter timeout (seconds) and raises `AdapterUnavailable` when the
    adapter cannot run on this machine; `available` is the cheap check (no install, no
    network) that says whether it can run now. `install`, when given, fetches what the adapter
    needs on first use (slow: a network round trip; `AdapterUnavailable` when it cannot), and
    `installs` says what, for the announcement. `ecs-conformance run` judges every `main_job`
    adapter that is available or can be installed, and says why it skips the others.
    """

    name: str
    factory: Callable[[float], ClientAdapter]
    available: Callable[[], bool] = _always
    main_job: bool = False
    install: Callable[[], object] | None = None
    installs: str = ""


_ENTRIES = (
    AdapterEntry("reference", reference.reference_adapter, main_job=True),
    AdapterEntry("reference-v3", reference.reference_v3_adapter),
    AdapterEntry("reference-get", reference.reference_get_adapter),
    AdapterEntry("reference-loopback", reference.reference_loopback_adapter),
    AdapterEntry(
        "aliyun-python-sdk-ecs",
        official.aliyun_python_sdk_ecs_adapter,
        official.aliyun_python_sdk_ecs_installed,
        main_job=True,
    ),
    AdapterEntry(
        "alibabacloud-ecs20140526",
        official.ecs20140526_adapter,
        official.ecs20140526_installed,
        main_job=True,
    ),
    AdapterEntry(
        "alibabacloud-ecs20140526-v2",
        official.ecs20140526_v2_adapter,
        official.ecs20140526_installed,
        main_job=True,
    ),
    # Installed on first use (npm, a network round trip), announced by the main job.
    AdapterEntry(
        "node-ecs20140526",
        node.node_ecs20140526_adapter,
        node.is_installed,
        main_job=True,
        install=node.ensure_installed,
        installs=f"the Node SDK {node.PACKAGE} with npm into {node.install_dir()}",
    ),
    *(AdapterEntry(v.adapter_name, v.adapter) for v in FAULTY.values()),
    *(AdapterEntry(v.adapter_name, v.adapter) for v in VARIANTS.values()),
)

ADAPTERS: Mapping[str, AdapterEntry] = MappingProxyType({e.name: e for e in _ENTRIES})
"""Every shipped adapter by name, in the order `adapter_names()` lists them."""


def adapter_names() -> tuple[str, ...]:
    """The shipped adapter names (the faulty reference variants included)."""
    return tuple(ADAPTERS)


def main_job_adapters() -> tuple[str, ...]:
    """The adapters `ecs-conformance run` can judge now, without an install: the reference
    client, every official Python SDK that is importable here, and the Node SDK where it is
    already installed (`main_job_entries` lists them all, installable ones included)."""
    return tuple(e.name for e in _ENTRIES if e.main_job and e.available())


def main_job_entries() -> tuple[AdapterEntry, ...]:
    """Every adapter `ecs-conformance run` means to judge, available here or not."""
    return tuple(e for e in _ENTRIES if e.main_job)


def unavailable_reason(entry: AdapterEntry) -> str | None:
    """Why `entry` cannot run here without an install (None: it can), from its factory."""
    if entry.available():
        return None
    if entry.install is not None:
        return f"{entry.installs} is not installed yet"
    try:
        entry.factory(DEFAULT_ADAPTER_TIMEOUT_S).close()
    except AdapterUnavailable as exc:
        return str(exc)
    return None


def _names_hint() -> str:
    shipped = (n for n in ADAPTERS if not n.startswith((ADAPTER_PREFIX, VARIANT_PREFIX)))
    return "use module:attr, --command 'CMD', or one of: " + ", ".join(shipped)


def load_adapter(
    name: str | None = None,
    command: str | None = None,
    *,
    timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S,
) -> ClientAdapter:
    """The adapter a session judges: `command` if given, else `name` (default `reference`).

    Raises `ConfigError` for an unknown name or an unimportable `module:attr`, and
    `AdapterUnavailable` when a shipped adapter cannot run on this machine.
    """
    if command:
        if name:
            raise ConfigError("give an adapter name or a command, not both")
        return CommandAdapter(command, timeout_s=timeout_s)
    name = name or DEFAULT_ADAPTER
    entry = ADAPTERS.get(name)
    if entry is not None:
        return entry.factory(timeout_s)
    if name.startswith(ADAPTER_PREFIX):
        key = name.removeprefix(ADAPTER_PREFIX)
        raise ConfigError(
            f"no faulty variant {key!r}{did_you_mean(key, FAULTY)}",
            hint="known: " + ", ".join(FAULTY),
        )
    if ":" in name:
        return adapter_from_object(import_attr(name, hint=_names_hint()), name, timeout_s)
    raise ConfigError(
        f"unknown client adapter {name!r}{did_you_mean(name, ADAPTERS)}", hint=_names_hint()
    )
