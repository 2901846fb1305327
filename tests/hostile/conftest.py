"""Fixtures of the hostile-peer tests: hostile servers on loopback, hostile `--command`
adapters, and a measured run of the command line (wall time and peak RSS, via os.wait4)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers import HostileServer, adapter_command

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

from measure import Measured, run_measured  # noqa: E402

CLI = str(Path(sys.executable).with_name("ecs-conformance"))


@pytest.fixture
def hostile_server() -> Iterator[Any]:
    """`hostile_server(mode, **options) -> HostileServer` (closed after the test)."""
    servers: list[HostileServer] = []

    def make(mode: str, **options: Any) -> HostileServer:
        server = HostileServer(mode, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def hostile_adapter() -> Any:
    """`hostile_adapter(mode, **options) -> str`: the `--command` line of a hostile adapter."""
    return adapter_command


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    """`cli(*args, timeout=...) -> Measured`: `ecs-conformance ARGS`, measured, in `tmp_path`."""

    def run(*args: str, timeout: float = 170.0) -> Measured:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return run_measured([CLI, *args], cwd=tmp_path, env=env, timeout=timeout)

    return run
