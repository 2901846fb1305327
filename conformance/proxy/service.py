"""`CheckingProxy`: the forwarder served on a loopback port from a background thread,
with its judge in a worker thread of its own, and the report of all the traffic at the end.

    with CheckingProxy(ProxySettings(upstream="http://127.0.0.1:8080")) as proxy:
        ...  # point clients at proxy.host_port
    report = proxy.report(started_at=...)   # conformance.reports.RunReport

`upstream="embedded"` serves the reference emulator in-process (on its own loopback port) and
forwards to it: what the `ecs_endpoint` pytest fixture and `ecs-conformance proxy --upstream
embedded` use. The forwarding path only records; the worker builds the parsed views and judges
(`judge.py`), and only while the forwarding path is quiet (no request in flight, none for
`_QUIET_S`): judging shares the process's GIL, so judging while clients wait would slow every
answer. Under sustained load the exchanges queue up (the backlog) and are judged when the
traffic pauses, when a report is asked for, or at the end; when the backlog reaches
`_MAX_QUEUED` exchanges or `_MAX_QUEUED_BYTES`, new requests wait while the judge catches up
(back-pressure: no exchange is ever dropped).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from conformance.config import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Credentials,
    EmulatorSettings,
)
from conformance.emulator.control import CONTROL_PREFIX
from conformance.errors import ConfigError, TargetUnreachable
from conformance.network import is_loopback
from conformance.protocol.envelopes import parse_response
from conformance.proxy.forwarding import Forwarder, RawExchange, Upstream
from conformance.proxy.judge import TrafficJudge
from conformance.proxy.listener import Listener
from conformance.proxy.traffic import TrafficExchange
from conformance.suite.client.recording import RecordedRequest

if TYPE_CHECKING:
    from conformance.emulator.behaviour import Behaviour
    from conformance.emulator.server import EmbeddedEmulator
    from conformance.reports.model import RunReport
    from conformance.spec.model import Spec
    from conformance.waivers import Waiver

__all__ = ["EMBEDDED", "CheckingProxy", "ProxySettings"]

EMBEDDED = "embedded"
_START_TIMEOUT_S = 10.0
_MAX_QUEUED = 20_000
_MAX_QUEUED_BYTES = 64 * 1024 * 1024  # of the recorded requests and answers
_BATCH_WAIT_S = 0.02  # how long the worker sleeps when nothing is queued
_QUIET_S = 0.002  # the forwarding path counts as quiet after this long without a request
_BUSY_WAIT_S = 0.005  # how long the worker waits before looking again while it is not


@dataclass(frozen=True)
class ProxySettings:
    """How the checking proxy runs.

    `upstream`: a base URL, or `embedded`. `host`/`port`: where it listens (port 0: a free
    one); a host that is not loopback is refused unless `listen_any`. `credentials`: the
    AccessKey the client's signatures are verified with. `timeout_s`: the total time one
    forwarded exchange may take. `reboot_seconds`: the embedded emulator's reboot time.
    """

    upstream: str = EMBEDDED
    host: str = "127.0.0.1"
    port: int = 0
    credentials: Credentials = field(
        default=Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
    )
    timeout_s: float = 30.0
    listen_any: bool = False
    reboot_seconds: float = EmulatorSettings().reboot_seconds
    request_timeout_s: float = 10.0  # the client must deliver a whole request within this
    keep_alive_s: int = 30


def check_listen(settings: ProxySettings) -> None:
    """Refuse an address that is not loopback unless told (`ConfigError`, exit 2)."""
    if not is_loopback(settings.host) and not settings.listen_any:
        raise ConfigError(
            f"refusing to listen on {settings.host}: the proxy would forward anyone's requests "
            "to the upstream, signed with whatever they carry, and its reports would hold them",
            hint="pass --listen-any to listen off loopback on purpose (or bind 127.0.0.1)",
        )


class CheckingProxy:
    """The proxy, its upstream (or embedded emulator) and its judge. `start()` / `stop()`, or
    use it as a context manager; `report()` afterwards (or at any time)."""

    def __init__(
        self,
        settings: ProxySettings | None = None,
        *,
        spec: Spec | None = None,
        live: Callable[[str], None] | None = None,
        reproduce: Callable[[TrafficExchange], str] | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        if spec is None:
            from conformance.spec import load_spec

            spec = load_spec()
        self.settings = settings or ProxySettings()
        check_listen(self.settings)
        self.spec = spec
        self.live = live
        self.judge = (
            TrafficJudge(spec, self.settings.credentials)
            if reproduce is None
            else TrafficJudge(spec, self.settings.credentials, reproduce=reproduce)
        )
        self.origin: str | None = None  # what sends requests now (the fixture: a test's id)
        self._behaviour = behaviour
        self._emulator: EmbeddedEmulator | None = None
        self._listener: Listener | None = None
        self._worker: threading.Thread | None = None
        self._socket: socket.socket | None = None
        # The hot path appends and counts; the worker takes batches and counts what it judged.
        # Each counter has one writer, so neither side takes a lock or wakes the other per
        # exchange (a wake-up per exchange hands the GIL back and forth: half the throughput).
        self._queue: deque[tuple[RawExchange, str | None]] = deque()
        self._queued = self._queued_bytes = 0
        self._done = self._done_bytes = 0
        self._forwarder: Forwarder | None = None  # its in_flight and last_activity
        self._hurry = 0  # drain() calls waiting: judge even while the traffic goes on
        self._hurry_lock = threading.Lock()
        self._stopping = threading.Event()
        self.upstream_url = ""
        self.port = 0
        self.started_at = datetime.now(UTC)
        self._started = time.monotonic()
        self.control_exchanges = 0

    # -- addresses ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The proxy's base URL, e.g. `http://127.0.0.1:41234`."""
        host = self.settings.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def host_port(self) -> str:
        """`host:port`, what SDK configurations take as their endpoint."""
        return self.url.removeprefix("http://")

    @property
    def emulator(self) -> EmbeddedEmulator | None:
        """The embedded emulator, when the upstream is `embedded`."""
        return self._emulator

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> CheckingProxy:
        """Start the upstream (embedded), the judge's worker and the server; wait until they
        serve. `ConfigError` when the address cannot be bound."""
        if self._listener is not None:
            return self
        settings = self.settings
        if settings.upstream == EMBEDDED:
            from conformance.emulator.server import EmbeddedEmulator

            self._emulator = EmbeddedEmulator(
                EmulatorSettings(
                    credentials=(settings.credentials,), reboot_seconds=settings.reboot_seconds
                ),
                spec=self.spec,
                behaviour=self._behaviour,
            ).start()
            self.upstream_url = self._emulator.url.rstrip("/")
        else:
            self.upstream_url = settings.upstream.rstrip("/")
        upstream = Upstream(self.upstream_url, settings.timeout_s)
        forwarder = Forwarder(upstream, self._record, self._admit)
        self._forwarder = forwarder
        try:
            sock = _bind(settings.host, settings.port)
        except BaseException:
            self.stop()
            raise
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._worker = threading.Thread(target=self._judge_loop, name="proxy-judge", daemon=True)
        self._worker.start()
        self._listener = Listener(
            forwarder,
            request_timeout_s=settings.request_timeout_s,
            keep_alive_s=settings.keep_alive_s,
        )
        try:
            self._listener.start(sock, _START_TIMEOUT_S)
        except RuntimeError as exc:
            self.stop()
            raise TargetUnreachable("the checking proxy did not start") from exc
        self.started_at = datetime.now(UTC)
        self._started = time.monotonic()
        return self

    def stop(self) -> None:
        """Stop serving, judge what is still queued, stop the embedded emulator. Idempotent."""
        if self._listener is not None:
            self._listener.stop(grace_s=_START_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        if self._worker is not None:
            self._stopping.set()
            self._worker.join()
        if self._emulator is not None:
            self._emulator.stop()
        self._listener = self._socket = self._worker = None

    def __enter__(self) -> CheckingProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def duration_s(self) -> float:
        """Seconds since the proxy started serving."""
        return time.monotonic() - self._started

    # -- the hot path's side --------------------------------------------------------------------
    def _record(self, raw: RawExchange) -> None:
        self._queue.append((raw, self.origin))
        self._queued_bytes += _size(raw)
        self._queued += 1

    @property
    def backlog(self) -> int:
        """Exchanges recorded and not judged yet."""
        return self._queued - self._done

    async def _admit(self) -> None:
        while (
            self._queued - self._done > _MAX_QUEUED
            or self._queued_bytes - self._done_bytes > _MAX_QUEUED_BYTES
        ):
            await asyncio.sleep(0.002)  # the judge catches up meanwhile

    def _quiet(self) -> bool:
        """Nothing in flight and no request for `_QUIET_S`, or the backlog at its bound (new
        requests wait in `_admit` until the judge makes room), or a report waits."""
        hot = self._forwarder
        return (
            hot is None
            or (hot.in_flight == 0 and time.monotonic() - hot.last_activity >= _QUIET_S)
            or self._hurry > 0
            or self._stopping.is_set()
            or self._queued - self._done > _MAX_QUEUED
            or self._queued_bytes - self._done_bytes > _MAX_QUEUED_BYTES
        )

    # -- the worker -----------------------------------------------------------------------------
    def _judge_loop(self) -> None:
        queue, stopping = self._queue, self._stopping
        while True:
            if not queue:
                if stopping.is_set():
                    return
                stopping.wait(_BATCH_WAIT_S)  # woken by the clock, not by every exchange
                continue
            if not self._quiet():
                time.sleep(_BUSY_WAIT_S)
                continue
            raw, origin = queue.popleft()
            try:
                self._judge(raw, origin)
            finally:
                self._done_bytes += _size(raw)
                self._done += 1
            time.sleep(0)  # let the forwarding thread have the GIL if it waits for it

    def _judge(self, raw: RawExchange, origin: str | None) -> None:
        if raw.path.startswith(CONTROL_PREFIX):
            self.control_exchanges += 1  # the test-control API: forwarded, not RPC
            return
        answer = raw.answer
        request = RecordedRequest(
            method=raw.method,
            path=raw.path,
            raw_query=raw.query,
            header_pairs=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers),
            body=raw.body,
            received_at=raw.received_at,
        )
        response = None
        if answer.failure is None and answer.headers is not None:
            response = parse_response(
                answer.status,
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.headers],
                answer.body,
                request_id_header=self.spec.profile.envelopes.request_id_header,
            )
        exchange = TrafficExchange(
            request,
            response,
            answer.failure,
            raw.elapsed_s,
            upstream=self.upstream_url,
            origin=origin,
            refused=raw.proxy_refused,
        )
        judged = self.judge.judge(exchange)
        if self.live is not None:
            self.live(judged.line)

    def drain(self, timeout_s: float | None = 10.0) -> bool:
        """Wait until every exchange so far has been judged (judging meanwhile even if the
        traffic goes on); False on timeout. `None`: as long as it takes."""
        target = self._queued
        deadline = float("inf") if timeout_s is None else time.monotonic() + timeout_s
        with self._hurry_lock:
            self._hurry += 1
        try:
            while self._done < target:
                if time.monotonic() > deadline or (self._worker is None and self._queue):
                    return False
                time.sleep(0.002)
            return True
        finally:
            with self._hurry_lock:
                self._hurry -= 1

    # -- the report -----------------------------------------------------------------------------
    def report(self, *, name: str | None = None, waivers: Sequence[Waiver] = ()) -> RunReport:
        """The conformance report of all the traffic so far (the suites' report builder),
        once every exchange so far is judged."""
        from conformance.reports import build_report

        self.drain(timeout_s=None)
        judge = self.judge
        scope = judge.requirements
        return build_report(
            self.spec,
            judge.ledger(),
            kind="traffic",
            name=name or f"proxy to {self.settings.upstream}",
            fingerprint=self.upstream_url or self.settings.upstream,
            started_at=self.started_at,
            duration_s=self.duration_s,
            waivers=waivers,
            redact=self.settings.credentials.redact,
            scope=lambda r: r.id in scope,
        )


def _size(raw: RawExchange) -> int:
    """About what one recorded exchange holds in memory (its bytes)."""
    return len(raw.query) + len(raw.body) + len(raw.answer.body) + 64 * len(raw.headers)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (0 picks a free one)",
        ) from None
    sock.listen(1024)
    return sock
