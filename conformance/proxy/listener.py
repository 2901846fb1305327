"""The checking proxy's client side: HTTP/1.1 on a bound socket, served from a thread of its
own with its own event loop (uvloop where importable), the requests parsed with httptools.

An ASGI server (uvicorn) costs a task, a scope and two writes per request: as much CPU as the
forwarding itself, on the path every client waits on. This protocol parses a request with
httptools' callbacks, hands it whole to `Forwarder.handle` and writes the answer in one call.

* One request at a time per connection, in order: pipelined requests queue (reading pauses
  beyond `_MAX_PIPELINED`).
* A request must arrive whole within `request_timeout_s` of the connection opening or of its
  first byte, else the connection is closed (a silent or dripping client would hold a file
  descriptor for ever); an idle kept-alive connection is closed after `keep_alive_s`.
* A request body over `MAX_BODY_BYTES` is read and dropped (`Forwarder` answers 413);
  `Expect: 100-continue` is answered before the body is read; an unreadable request gets a 400
  (marked with `PROXY_HEADER`, never forwarded) and the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httptools

from conformance.limits import MAX_BODY_BYTES
from conformance.proxy.forwarding import (
    PROXY_HEADER,
    Forwarder,
    Headers,
    IncomingRequest,
    own_answer,
)

__all__ = ["Listener"]

_MAX_PIPELINED = 16
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + PROXY_HEADER.encode()
    + b": refused\r\ncontent-length: 27\r\nconnection: close\r\n\r\nan unreadable HTTP request\n"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("latin-1")
    except ValueError:
        return b""


_REASONS = {status.value: _reason(status.value) for status in HTTPStatus}


def response_bytes(status: int, headers: Headers, body: bytes, *, close: bool, head: bool) -> bytes:
    """One whole HTTP/1.1 answer: status line, headers, Content-Length, body."""
    reason = _REASONS.get(status, b"")
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"content-length: %d" % len(body))
    if close:
        lines.append(b"connection: close")
    head_bytes = b"\r\n".join(lines) + b"\r\n\r\n"
    return head_bytes if head else head_bytes + body


class _ClientConnection(asyncio.Protocol):
    """One client connection: parse, queue, forward one at a time, answer."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.forwarder = listener.forwarder
        self.loop = listener.loop
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.pending: deque[IncomingRequest] = deque()
        self.busy = False
        self.closing = False
        self.paused = False
        self.timer: asyncio.TimerHandle | None = None
        self.in_message = False
        self.last_request = False  # after an Upgrade the parser reads no further requests
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.keep_alive = True
        self.received_at = 0.0
        self.started = 0.0

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.listener.connections.add(self)
        with contextlib.suppress(OSError, AttributeError, TypeError):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm(self.listener.request_timeout_s)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # RFC 9110 7.8: a server may ignore Upgrade; answer the request, then close
            if self.pending or self.busy:
                self.last_request = True
            else:
                self._refuse()
        except httptools.HttpParserError:
            self._refuse()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._disarm()
        self.listener.connections.discard(self)

    # -- httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reset()
        self.in_message = True
        self.received_at = time.time()
        self.started = time.perf_counter()
        self._arm(self.listener.request_timeout_s)  # from its first byte

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # asked now: llhttp resets it later
        expects = any(k == b"expect" and v.lower() == b"100-continue" for k, v in self.headers)
        if expects and self.transport is not None:
            self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY_BYTES:
            self.too_large = True
            self.chunks = []
        elif not self.too_large:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        self._disarm()
        parsed = httptools.parse_url(self.url)
        self.pending.append(
            IncomingRequest(
                method=self.parser.get_method().decode("latin-1"),
                path=parsed.path or b"/",
                query=parsed.query or b"",
                headers=self.headers,
                body=b"".join(self.chunks),
                too_large=self.too_large,
                received_at=self.received_at,
                started=self.started,
                keep_alive=self.keep_alive,
            )
        )
        if len(self.pending) >= _MAX_PIPELINED and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        if not self.busy:
            self.busy = True
            self.listener.spawn(self._serve())

    # -- serving ---------------------------------------------------------------------------
    async def _serve(self) -> None:
        try:
            while self.pending:
                request = self.pending.popleft()
                try:
                    status, headers, body = await self.forwarder.handle(request)
                except Exception as exc:  # a bug of ours: the client still gets an answer
                    status, headers, body = own_answer(
                        502, f"ecs-conformance proxy: internal error: {exc!r}", b"error"
                    )
                    self.last_request = True
                if self.closing:
                    continue  # the client went away: still forwarded and recorded
                close = not request.keep_alive or self.listener.stopping or self.last_request
                head = request.method == "HEAD"
                self.transport.write(response_bytes(status, headers, body, close=close, head=head))
                if close:
                    self.closing = True
                    self.transport.close()
                if self.paused and len(self.pending) < _MAX_PIPELINED // 2:
                    self.paused = False
                    self.transport.resume_reading()
        finally:
            self.busy = False
        if not self.closing:  # a request under way has its deadline; an idle connection less
            self._arm(
                self.listener.request_timeout_s if self.in_message else self.listener.keep_alive_s
            )

    def _refuse(self) -> None:
        if not self.closing and self.transport is not None:
            self.closing = True
            self.transport.write(_BAD_REQUEST)
            self.transport.close()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self.timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        self.timer = None
        if not self.busy:  # else armed again once the answer is written
            self.close()

    def close(self) -> None:
        self.closing = True
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class Listener:
    """Serves `forwarder` on `sock` from a thread of its own until `stop()`.

    `stop()` stops accepting, closes idle connections, and lets requests being forwarded
    finish (within `grace_s`) before the loop ends.
    """

    def __init__(
        self,
        forwarder: Forwarder,
        *,
        request_timeout_s: float,
        keep_alive_s: float,
        new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self.forwarder = forwarder
        self.request_timeout_s = request_timeout_s
        self.keep_alive_s = keep_alive_s
        self.loop = (new_loop or _new_loop)()
        self.connections: set[_ClientConnection] = set()
        self.stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    def spawn(self, work: Any) -> None:
        task = self.loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start(self, sock: socket.socket, timeout_s: float) -> None:
        """Serve on `sock` (bound and listening); `RuntimeError` if it did not start."""
        self._thread = threading.Thread(target=self._run, args=(sock,), name="proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout_s) or self._failure is not None:
            raise RuntimeError(f"the proxy's listener did not start: {self._failure}")

    def _run(self, sock: socket.socket) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _ClientConnection(self), sock=sock, backlog=1024)
            )
        except BaseException as exc:  # reported by start()
            self._failure = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.forwarder.upstream.close())
            loop.close()

    def stop(self, grace_s: float) -> None:
        """Stop serving; requests being forwarded get `grace_s` to finish. Idempotent."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        done = asyncio.run_coroutine_threadsafe(self._shutdown(grace_s), self.loop)
        with contextlib.suppress(Exception):
            done.result(grace_s + 5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        thread.join(grace_s + 5)

    async def _shutdown(self, grace_s: float) -> None:
        self.stopping = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if not conn.busy:
                conn.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)
        for task in list(self._tasks):
            task.cancel()  # the forwarder records each as unanswered
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        for conn in list(self.connections):
            conn.close()


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
