"""The command adapter for the official Node.js SDK `@alicloud/ecs20140526`
(docs/contracts.md#client-adapters).

`adapter.js` and `package.json` beside this file are copied into a cache folder
(`~/.cache/ecs-conformance/node-<hash>`), where npm installs the SDK once; `node adapter.js`
then runs there, kept for the whole run (it takes the persistent protocol,
docs/contracts.md#persistent-commands). Without `node` or `npm`, or when the install fails,
the adapter is `AdapterUnavailable` and the client suite reports every requirement
`not_verified` with why.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
from pathlib import Path

from conformance.client.adapters import CommandAdapter
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    AdapterUnavailable,
    ClientAdapter,
)

__all__ = [
    "NODE_ADAPTER_DIR",
    "PACKAGE",
    "ensure_installed",
    "install_dir",
    "is_installed",
    "node_ecs20140526_adapter",
]

NODE_ADAPTER_DIR = Path(__file__).resolve().parent
PACKAGE = "@alicloud/ecs20140526"
_FILES = ("adapter.js", "package.json")
_INSTALL_TIMEOUT_S = 600.0
_MARKER = ".installed"


def install_dir(cache_root: Path | None = None) -> Path:
    """Where the adapter and its node_modules live: one folder per version of the files."""
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update((NODE_ADAPTER_DIR / name).read_bytes())
    root = cache_root or Path.home() / ".cache" / "ecs-conformance"
    return root / f"node-{digest.hexdigest()[:16]}"


def is_installed(cache_root: Path | None = None) -> bool:
    """Has npm already installed the SDK for this version of the adapter files?"""
    return shutil.which("node") is not None and (install_dir(cache_root) / _MARKER).exists()


def _install(target: Path, npm: str) -> None:
    if (target / _MARKER).exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        shutil.copyfile(NODE_ADAPTER_DIR / name, target / name)
    try:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--omit=dev"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise AdapterUnavailable(
            f"npm install of @alicloud/ecs20140526 took more than {_INSTALL_TIMEOUT_S:g} s"
        ) from None
    if result.returncode != 0:
        raise AdapterUnavailable(
            "npm install of @alicloud/ecs20140526 failed: " + result.stderr.strip()[-800:],
            hint=f"run `npm install` in {target} by hand to see why",
        )
    (target / _MARKER).write_text("ok\n", encoding="utf-8")


def ensure_installed(cache_root: Path | None = None) -> Path:
    """The folder holding `adapter.js` and its node_modules, installing the SDK on first use;
    `AdapterUnavailable` when node or npm is missing or the install fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        raise AdapterUnavailable(
            f"the Node.js adapter needs {missing} on PATH",
            hint="install Node.js 18+ (with npm) to judge @alicloud/ecs20140526",
        )
    target = install_dir(cache_root)
    _install(target, npm)
    return target


def node_ecs20140526_adapter(
    timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S, cache_root: Path | None = None
) -> ClientAdapter:
    """`node-ecs20140526`: `node adapter.js` with the SDK installed on demand."""
    target = ensure_installed(cache_root)
    command = shlex.join([str(shutil.which("node")), str(target / "adapter.js")])
    return CommandAdapter(command, name="node-ecs20140526", timeout_s=timeout_s, cwd=target)
