"""The checking proxy's hot path: forward every request to the upstream over kept-alive
connections and give the client what came back, recording both for the judge (which runs
elsewhere, off this path). `listener.py` parses the client's requests and writes the answers.

* `Upstream`: HTTP/1.1 keep-alive connections to one base URL (http or https), parsed with
  httptools (uvicorn's own parser). Every exchange has one total deadline (connect, send and
  the whole answer: a dripping upstream is cut off), and at most `MAX_BODY_BYTES` of an answer
  are read (a larger one is refused, the connection dropped). A kept-alive connection the
  upstream closed meanwhile is retried once on a fresh one, only when nothing came back on it.
* `Forwarder`: takes a whole request (`IncomingRequest`; a body over `MAX_BODY_BYTES` is
  answered 413 by the proxy and never forwarded), forwards it byte for byte (method, path,
  query, headers, Host included: a V3 signature covers it), and gives back the upstream's
  status, headers and body. When no usable answer came the proxy answers itself: 504 for a
  timeout, 502 otherwise, marked with the `x-ecs-conformance-proxy` header. It then hands the
  raw exchange to `record`.

Nothing here parses RPC, judges, or logs: that is `judge.py`, in the proxy's worker thread.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

from conformance.errors import ConfigError
from conformance.limits import MAX_BODY_BYTES

__all__ = [
    "PROXY_HEADER",
    "Answer",
    "Forwarder",
    "Headers",
    "IncomingRequest",
    "RawExchange",
    "Upstream",
    "UpstreamAnswer",
    "own_answer",
]

PROXY_HEADER = "x-ecs-conformance-proxy"
"""Marks an answer the proxy made itself (the upstream gave none it could forward)."""

Headers = list[tuple[bytes, bytes]]

# RFC 9110 7.6.1: hop-by-hop fields are for one connection only; the lengths are recomputed.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
    }
)
_READ_CHUNK = 65536
_MAX_IDLE = 64


@dataclass(frozen=True)
class UpstreamAnswer:
    """What the upstream answered (status, headers, body), or why nothing usable came."""

    status: int = 0
    headers: Headers | None = None
    body: bytes = b""
    failure: str | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class RawExchange:
    """One exchange as the hot path saw it, unparsed (the judge's worker builds the rest)."""

    method: str
    path: str
    query: bytes
    headers: Headers
    body: bytes
    received_at: float  # time.time() when the request arrived
    answer: UpstreamAnswer
    elapsed_s: float
    proxy_refused: str | None = None  # the proxy answered without forwarding (body too large)


class _Response:
    """httptools callbacks for one response: status, headers and a capped body."""

    def __init__(self, head_only: bool) -> None:
        self.head_only = head_only
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.done = False
        self.head_done = False
        self.delimited = False  # a Content-Length or chunked body: its end is in the message
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in (b"content-length", b"transfer-encoding"):
            self.delimited = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_done = True
        # Asked here, as uvicorn does: once the message is complete, llhttp has reset its
        # flags and says "close" for every answer (a new upstream connection per request).
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()
        if self.head_only:
            self.done = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY_BYTES:
            self.too_large = True
        else:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class _Stale(Exception):
    """A reused connection turned out closed before anything came back on it."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection to the upstream, as a raw protocol: the bytes that arrive
    go straight into httptools (no stream buffers, no task per read)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: Any = None  # asyncio's or uvloop's transport
        self.closed = False
        self._response: _Response | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._waiter: asyncio.Future[UpstreamAnswer] | None = None
        self._received = False
        self.reused = False

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        response, parser = self._response, self._parser
        if response is None or parser is None:
            self.close()  # bytes nobody asked for: the connection cannot be trusted again
            return
        self._received = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._end(UpstreamAnswer(failure=f"an unreadable answer: {exc}"), keep=False)
            return
        if response.too_large:
            failure = f"an answer larger than {MAX_BODY_BYTES} bytes (not read)"
            self._end(UpstreamAnswer(failure=failure), keep=False)
        elif response.done:
            self._complete(keep=response.keep_alive)

    def _complete(self, *, keep: bool) -> None:
        response, parser = self._response, self._parser
        assert response is not None and parser is not None
        answer = UpstreamAnswer(
            status=parser.get_status_code(),
            headers=response.headers,
            body=b"".join(response.chunks),
        )
        self._end(answer, keep=keep)

    def eof_received(self) -> bool | None:
        response = self._response
        if response is not None and response.head_done and not response.delimited:
            response.done = True  # a body delimited by the end of the connection
            self._complete(keep=False)
        else:
            self._lost("the upstream closed the connection mid-answer")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._lost(f"{type(exc).__name__}: {exc}" if exc else "the upstream closed the connection")

    # -- one exchange -----------------------------------------------------------------------
    async def exchange(self, data: bytes, head_only: bool) -> UpstreamAnswer:
        """Send `data` (a whole request) and wait for the whole answer (`_Stale` when a reused
        connection turns out closed before anything came back)."""
        assert self.transport is not None
        self._response = _Response(head_only)
        self._parser = httptools.HttpResponseParser(self._response)
        self._response.parser = self._parser
        self._received = False
        waiter: asyncio.Future[UpstreamAnswer] = self.loop.create_future()
        self._waiter = waiter
        self.transport.write(data)
        try:
            return await waiter
        finally:
            self._waiter = None

    def _lost(self, why: str) -> None:
        if self._waiter is None or self._waiter.done():
            return
        if self.reused and not self._received:
            self._waiter.set_exception(_Stale())
        else:
            self._waiter.set_result(UpstreamAnswer(failure=why))
        self._response = self._parser = None

    def _end(self, answer: UpstreamAnswer, *, keep: bool) -> None:
        waiter = self._waiter
        self._response = self._parser = None
        if not keep:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Upstream:
    """Kept-alive connections to `base_url`, one exchange at a time each (asyncio).

    `send(...)` never raises for what the upstream does: it returns an `UpstreamAnswer`.
    """

    def __init__(self, base_url: str, timeout_s: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"--upstream is not an http(s) URL: {base_url!r}",
                hint="e.g. --upstream http://127.0.0.1:8080, or --upstream embedded",
            )
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/").encode("latin-1")
        self.timeout_s = timeout_s
        self._idle: list[_Connection] = []

    async def send(
        self, method: str, target: bytes, headers: Headers, body: bytes
    ) -> UpstreamAnswer:
        """Forward one request (`target`: path and query, as the client sent it)."""
        data = self._head(method, target, headers, body) + body
        head_only = method == "HEAD"
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                while self._idle:
                    conn = self._idle.pop()
                    if conn.closed:
                        continue
                    conn.reused = True
                    try:
                        answer = await conn.exchange(data, head_only)
                    except _Stale:
                        continue
                    return self._done(conn, answer)
                loop = asyncio.get_running_loop()
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port, ssl=self._ssl
                )
                return self._done(conn, await conn.exchange(data, head_only))
        except TimeoutError:
            if conn is not None:
                conn.close()  # mid-answer: never reused
            return UpstreamAnswer(
                failure=f"no whole answer within {self.timeout_s:g} s", timed_out=True
            )
        except _Stale:
            return UpstreamAnswer(failure="the upstream closed the connection without answering")
        except (OSError, ValueError) as exc:
            return UpstreamAnswer(failure=f"{type(exc).__name__}: {exc}")
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def _done(self, conn: _Connection, answer: UpstreamAnswer) -> UpstreamAnswer:
        if not conn.closed and len(self._idle) < _MAX_IDLE:
            self._idle.append(conn)
        elif not conn.closed:
            conn.close()
        return answer

    def _head(self, method: str, target: bytes, headers: Headers, body: bytes) -> bytes:
        lines = [method.encode("latin-1") + b" " + self._prefix + target + b" HTTP/1.1"]
        lines += [name + b": " + value for name, value in headers if name not in _HOP_BY_HOP]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"content-length: " + str(len(body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.pop().close()


@dataclass(frozen=True)
class IncomingRequest:
    """One whole request from a client, as the listener parsed it (`path` and `query` as
    sent, `headers` with lower-case names, `body` empty when it was `too_large`)."""

    method: str
    path: bytes
    query: bytes
    headers: Headers
    body: bytes
    too_large: bool
    received_at: float  # time.time() of its first byte
    started: float  # time.perf_counter() of its first byte
    keep_alive: bool = True


Answer = tuple[int, Headers, bytes]


class Forwarder:
    """Forward one request, give back the answer for the client, then `record` the exchange.

    `admit()` is awaited before each request is forwarded (the judge's back-pressure: it
    returns at once unless the judge has fallen far behind). `in_flight` (requests being
    forwarded or answered) and `last_activity` (`time.monotonic()` when one last ended) tell
    the judge when the hot path is quiet.
    """

    def __init__(
        self,
        upstream: Upstream,
        record: Callable[[RawExchange], None],
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.upstream = upstream
        self.record = record
        self.admit = admit
        self.in_flight = 0
        self.last_activity = 0.0

    async def handle(self, request: IncomingRequest) -> Answer:
        """The answer to give the client (status, headers without Content-Length, body)."""
        self.in_flight += 1
        try:
            return await self._forward(request)
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _forward(self, request: IncomingRequest) -> Answer:
        method, query, headers = request.method, request.query, request.headers
        path = request.path.decode("latin-1")
        if request.too_large:
            reason = f"the request body exceeds {MAX_BODY_BYTES} bytes (not forwarded)"
            refused = UpstreamAnswer(failure=reason)
            elapsed = time.perf_counter() - request.started
            self.record(
                RawExchange(method, path, query, headers, b"", request.received_at, refused,
                            elapsed, proxy_refused=reason)
            )  # fmt: skip
            return own_answer(413, reason, b"refused")
        if self.admit is not None:
            await self.admit()
        target = request.path + (b"?" + query if query else b"")
        try:
            answer = await self.upstream.send(method, target, headers, request.body)
        except asyncio.CancelledError:  # the proxy stopped first: recorded all the same
            gone = UpstreamAnswer(failure="the proxy stopped before the upstream answered")
            elapsed = time.perf_counter() - request.started
            self.record(
                RawExchange(method, path, query, headers, request.body, request.received_at,
                            gone, elapsed)
            )  # fmt: skip
            raise
        elapsed = time.perf_counter() - request.started
        if answer.failure is not None or answer.headers is None:
            status = 504 if answer.timed_out else 502
            text = f"ecs-conformance proxy: the upstream gave no usable answer: {answer.failure}"
            out = own_answer(status, text, b"no-answer")
        else:
            forwarded = [(k, v) for k, v in answer.headers if k not in _HOP_BY_HOP]
            out = (answer.status, forwarded, answer.body)
        self.record(
            RawExchange(method, path, query, headers, request.body, request.received_at,
                        answer, elapsed)
        )  # fmt: skip
        return out


def own_answer(status: int, text: str, marker: bytes) -> Answer:
    """An answer the proxy makes itself, marked with `PROXY_HEADER`."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (PROXY_HEADER.encode(), marker)]
    return status, headers, text.encode("utf-8")
