"""Helpers for testing the server suite: run it in a subprocess against a URL, read the ledger;
serve a deliberately broken HTTP peer (garbage, hang, reset, 500) on a raw socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


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


class BrokenPeer:
    """A raw TCP server that misbehaves in one way: `garbage`, `hang`, `reset` or `http500`."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if self.mode == "hang":
                    self._held.append(conn)
                    continue
                if self.mode == "garbage":
                    conn.sendall(b"\x00\x17 this is not HTTP at all \xff\r\n\r\n")
                    conn.close()
                    return
                if self.mode == "reset":
                    conn.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    conn.close()
                    return
                body = b"oops"
                conn.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 4\r\n\r\n" + body
                )
        finally:
            if self.mode != "hang":
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for c in self._held:
            c.close()


@pytest.fixture
def broken_peer():  # type: ignore[no-untyped-def]
    """`broken_peer(mode) -> BrokenPeer` (closed after the test)."""
    peers: list[BrokenPeer] = []

    def make(mode: str) -> BrokenPeer:
        peer = BrokenPeer(mode)
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
