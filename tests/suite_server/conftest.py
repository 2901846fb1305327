"""Helpers for testing the server suite: run it in a subprocess against a URL, read the ledger;
a deliberately broken HTTP peer (garbage, hang, reset, 500: tests/hostile/peers.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "hostile"))

from peers import HostileServer  # noqa: E402


@dataclass
class SuiteRun:
    """The outcome of one subprocess run of the server suite."""

    returncode: int
    output: str
    records: list[dict[str, object]]
    seconds: float

    def ids_with(self, outcome: str) -> set[str]:
        """Requirement ids declared by tests that ended with `outcome`."""
        return {
            rid
            for r in self.records
            if r["outcome"] == outcome
            for rid in r["requirements"]  # type: ignore[attr-defined]
        }

    @property
    def checks(self) -> int:
        """Requests the suite counted."""
        return sum(int(r["checks"]) for r in self.records)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def suite_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One working directory for every run (hypothesis builds its cache there once)."""
    return tmp_path_factory.mktemp("suite-runs")


@pytest.fixture(scope="session")
def run_suite(suite_workdir: Path):  # type: ignore[no-untyped-def]
    """`run_suite(target, *modules, extra=[...], timeout=...) -> SuiteRun`."""
    counter = iter(range(10**6))

    def run(
        target: str,
        *modules: str,
        extra: tuple[str, ...] = (),
        examples: int = 5,
        timeout: float = 240,
        seed: str = "--hypothesis-seed=1",
    ) -> SuiteRun:
        results = suite_workdir / f"ledger-{next(counter)}.json"
        pyargs = [f"conformance.suite.server.{m}" for m in modules] or ["conformance.suite.server"]
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            *pyargs,
            f"--ecs-target={target}",
            f"--ecs-results={results}",
            f"--ecs-examples={examples}",
            *([seed] if seed else []),
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            "-rN",
            "--tb=short",
            *extra,
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        started = time.monotonic()
        proc = subprocess.run(
            cmd, cwd=suite_workdir, env=env, capture_output=True, text=True, timeout=timeout
        )
        records = json.loads(results.read_text()) if results.exists() else []
        return SuiteRun(
            proc.returncode, proc.stdout + proc.stderr, records, time.monotonic() - started
        )

    return run


@pytest.fixture
def broken_peer():  # type: ignore[no-untyped-def]
    """`broken_peer(mode) -> HostileServer` (tests/hostile/peers.py; `hang` is its `silent`),
    closed after the test."""
    peers: list[HostileServer] = []

    def make(mode: str) -> HostileServer:
        peer = HostileServer("silent" if mode == "hang" else mode)
        peers.append(peer)
        return peer

    yield make
    for p in peers:
        p.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A URL where nothing listens."""
    yield f"http://127.0.0.1:{free_port()}"
