"""A lean HTTP/1.1 load driver for the benchmarks: raw sockets, keep-alive, precomputed requests.

An httpx client costs ~470 us of CPU per request and `http.client` ~125 us on this kind of
machine (benchmarks/README.md, "Reference figures"), so a driver built on them measures itself.
This one writes prebuilt request bytes to a socket and parses just enough of the answer (status
line, Content-Length) to find its end; it reconnects when the server closes (moto answers
`Connection: close` every time).

Closed-loop throughput: `WorkerPool` keeps N processes alive for the whole benchmark, each with
one connection; every job starts on a barrier, runs a warm-up, then counts completed requests
for a fixed duration. Open-loop latency: `paced_latency` sends at a fixed rate on one
connection and reports percentiles.

Requests come from a `RequestSource`: `FixedRequests` (the same bytes again, for servers
without replay protection) or `SignedRebootRequests` (V2-signed RebootInstance calls with fresh
nonces, signed before the clock starts, since a server refuses a reused nonce:
docs/protocol.md#gateway-errors).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import re
import socket
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

__all__ = [
    "Expect",
    "FixedRequests",
    "JobResult",
    "LatencyResult",
    "RequestSource",
    "SignedRebootRequests",
    "WorkerPool",
    "http_request",
    "median",
    "paced_latency",
    "percentile",
]

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CONNECTION_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)
_IO_TIMEOUT_S = 10.0


def http_request(
    method: str,
    target: str,
    *,
    host: str,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class RequestSource(Protocol):
    """Makes the request bytes a worker sends (built in the worker, before the clock starts)."""

    def prepare(self, worker: int, count: int) -> Callable[[int], bytes]:
        """A function giving the i-th request; `count` is how many the job may need."""
        ...


@dataclass(frozen=True)
class FixedRequests:
    """The same prebuilt requests, cycled (servers that do not refuse a replay)."""

    requests: tuple[bytes, ...]

    def prepare(self, worker: int, count: int) -> Callable[[int], bytes]:
        pool = self.requests
        size = len(pool)
        return lambda i: pool[i % size]


@dataclass(frozen=True)
class SignedRebootRequests:
    """V2-signed RebootInstance requests, each with a fresh nonce (the emulator refuses a
    reused one: SignatureNonceUsed), cycling through `instances` ids. Signed up front; if a
    job outlasts the pool, further requests are signed on the fly (`JobResult.extra_signed`).
    """

    host: str
    access_key_id: str
    access_key_secret: str
    action: str
    version: str
    instance_ids: tuple[str, ...]
    dry_run: bool
    method: str = "GET"
    fmt: str = "JSON"

    def prepare(self, worker: int, count: int) -> Callable[[int], bytes]:
        from conformance.protocol.signing import V2Signer
        from conformance.protocol.wire import format_timestamp

        signer = V2Signer(
            self.method,
            action=self.action,
            version=self.version,
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            fmt=self.fmt,
        )
        stamp = format_timestamp()  # one timestamp per job: well inside the 15-minute window
        ids = self.instance_ids
        # workers start at different ids so that concurrent reboots hit different instances
        offset = worker * (len(ids) // 4 + 1)
        extra = {"DryRun": "true"} if self.dry_run else {"ForceStop": "false"}

        def build(i: int) -> bytes:
            params = {"InstanceId": ids[(offset + i) % len(ids)], **extra}
            query = signer.signed_query(params, timestamp=stamp)
            if self.method == "GET":
                return http_request("GET", "/?" + query, host=self.host)
            return http_request(
                "POST",
                "/",
                host=self.host,
                body=query.encode("ascii"),
                headers=[("Content-Type", "application/x-www-form-urlencoded")],
            )

        pool = [build(i) for i in range(count)]
        size = len(pool)

        def get(i: int) -> bytes:
            return pool[i] if i < size else build(i)

        return get


@dataclass(frozen=True)
class Expect:
    """What a correct answer looks like: its status and a byte string in its body."""

    status: int
    body_contains: bytes = b""


class _Connection:
    """One keep-alive client connection with a minimal response parser."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buf = b""
        self.reconnects = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=_IO_TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body). Reconnects once on a stale connection."""
        for attempt in (0, 1):
            sock = self.sock or self._connect()
            try:
                sock.sendall(request)
                return self._read(sock)
            except (ConnectionError, _Closed):
                self.close()
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _read(self, sock: socket.socket) -> tuple[int, bytes]:
        buf = self.buf
        recv = sock.recv
        while True:
            end = buf.find(_HEADER_END)
            if end >= 0:
                break
            chunk = recv(65536)
            if not chunk:
                raise _Closed
            buf += chunk
        head = buf[:end]
        match = _CONTENT_LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        total = end + 4 + length
        while len(buf) < total:
            chunk = recv(65536)
            if not chunk:
                raise _Closed
            buf += chunk
        status = int(head[9:12])
        body = buf[end + 4 : total]
        self.buf = buf[total:]
        if _CONNECTION_CLOSE.search(head):
            self.close()
        return status, body


class _Closed(Exception):
    """The server closed the connection before a whole response arrived."""


@dataclass
class JobResult:
    """What one worker did during the measured window of a job."""

    completed: int = 0
    exchanges: int = 0  # every answered request, the warm-up's too (for the server's CPU)
    wrong: int = 0  # answers that were not the expected status/body
    errors: int = 0  # connection failures
    reconnects: int = 0
    extra_signed: int = 0
    elapsed: float = 0.0
    first_wrong: str = ""


@dataclass(frozen=True)
class _Job:
    host: str
    port: int
    source: RequestSource
    expect: Expect
    warmup: float
    duration: float
    pool_size: int


def _run_job(worker: int, job: _Job, barrier: Any) -> JobResult:
    get = job.source.prepare(worker, job.pool_size)
    conn = _Connection(job.host, job.port)
    expect = job.expect
    result = JobResult()
    barrier.wait()
    start = time.perf_counter()
    measure_from = start + job.warmup
    stop = measure_from + job.duration
    i = 0
    measuring = False
    counted_from = 0
    now = start
    while now < stop:
        try:
            status, body = conn.exchange(get(i))
        except (OSError, _Closed):
            result.errors += 1
            conn.close()
            now = time.perf_counter()
            continue
        i += 1
        now = time.perf_counter()
        if not measuring:
            if now >= measure_from:
                measuring = True
                counted_from = i
                measure_from = now
            continue
        if status != expect.status or (expect.body_contains not in body):
            result.wrong += 1
            if not result.first_wrong:
                result.first_wrong = f"{status} {body[:160]!r}"
    conn.close()
    result.completed = i - counted_from if measuring else 0
    result.exchanges = i
    result.elapsed = max(now - measure_from, 1e-9) if measuring else 0.0
    result.reconnects = conn.reconnects
    result.extra_signed = max(0, i - job.pool_size)
    return result


def _worker_main(worker: int, inbox: Connection, barrier: Any) -> None:
    while True:
        job = inbox.recv()
        if job is None:
            return
        try:
            inbox.send(_run_job(worker, job, barrier))
        except Exception as exc:  # report, never hang the parent
            inbox.send(exc)


class WorkerPool:
    """N persistent load processes; `run` gives each the same job and sums their results.

    Example::

        with WorkerPool(2) as pool:
            rps, results = pool.run("127.0.0.1", port, source, Expect(200), duration=5)
    """

    def __init__(self, processes: int) -> None:
        ctx = mp.get_context("spawn")  # no inherited sockets or threads
        self.processes = processes
        self._barrier = ctx.Barrier(processes)
        self._pipes: list[Connection] = []
        self._procs: list[Any] = []
        for n in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main, args=(n, child, self._barrier), name=f"loadgen-{n}"
            )
            proc.daemon = True
            proc.start()
            self._pipes.append(parent)
            self._procs.append(proc)

    def run(
        self,
        host: str,
        port: int,
        source: RequestSource,
        expect: Expect,
        *,
        duration: float,
        warmup: float = 0.5,
        max_rps: float = 20_000.0,
    ) -> tuple[float, list[JobResult]]:
        """Closed-loop run: (completed requests per second over all workers, per-worker results)."""
        pool_size = int(max_rps / self.processes * (duration + warmup)) + 100
        job = _Job(host, port, source, expect, warmup, duration, pool_size)
        for pipe in self._pipes:
            pipe.send(job)
        results: list[JobResult] = []
        for pipe in self._pipes:
            got = pipe.recv()
            if isinstance(got, Exception):
                raise RuntimeError(f"load worker failed: {got!r}") from got
            results.append(got)
        rps = sum(r.completed / r.elapsed for r in results if r.elapsed > 0)
        return rps, results

    def close(self) -> None:
        """Stop the workers (they exit on a None job)."""
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # a worker that already died
                pipe.send(None)
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class LatencyResult:
    """Open-loop latency at a fixed offered rate on one connection (seconds)."""

    offered_rps: float
    achieved_rps: float
    samples: list[float] = field(default_factory=list)  # from the actual send
    scheduled: list[float] = field(default_factory=list)  # from the intended send time
    wrong: int = 0

    def p(self, q: float, *, from_schedule: bool = False) -> float:
        return percentile(self.scheduled if from_schedule else self.samples, q)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def paced_latency(
    host: str,
    port: int,
    source: RequestSource,
    expect: Expect,
    *,
    rate: float,
    duration: float,
    warmup: float = 0.3,
) -> LatencyResult:
    """Send at `rate` requests/s on one keep-alive connection (open loop) and time each answer.

    `scheduled` latencies count from the intended send time, so a stall that delays later
    requests is charged to them too (no coordinated omission).
    """
    total = int(rate * (duration + warmup)) + 10
    get = source.prepare(0, total)
    conn = _Connection(host, port)
    interval = 1.0 / rate
    result = LatencyResult(offered_rps=rate, achieved_rps=0.0)
    start = time.perf_counter()
    measure_from = start + warmup
    i = 0
    measured = 0
    try:
        while True:
            due = start + i * interval
            if due >= measure_from + duration:
                break
            request = get(i)
            now = time.perf_counter()
            if due > now:
                _sleep_until(due)
            sent = time.perf_counter()
            status, body = conn.exchange(request)
            done = time.perf_counter()
            i += 1
            if due < measure_from:
                continue
            measured += 1
            result.samples.append(done - sent)
            result.scheduled.append(done - due)
            if status != expect.status or expect.body_contains not in body:
                result.wrong += 1
    finally:
        conn.close()
    result.achieved_rps = measured / duration
    return result


def _sleep_until(deadline: float) -> None:
    # time.sleep has ~50-100 us of overshoot; spin for the last stretch
    remaining = deadline - time.perf_counter()
    if remaining > 0.0003:
        time.sleep(remaining - 0.0002)
    while time.perf_counter() < deadline:
        pass


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")
