"""The scripted loopback HTTP server: real sockets, for clients in any language.

A tiny threaded `http.server` on `127.0.0.1`, started once per session in a background thread.
`play(responder)` installs the answer of one scenario and collects the requests that arrive
while it is installed. A `HANG` reply holds the connection until the scenario ends (or
`hang_limit_s` passes), then drops it without an answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from conformance.limits import MAX_BODY_BYTES
from conformance.suite.client.recording import HANG, RecordedRequest, Reply, Responder

__all__ = ["LoopbackServer"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30.0  # per socket read: a client that stops sending cannot hold a thread forever

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY, delayed ACKs add ~40 ms
        # to every exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        declared = self.headers.get("content-length") or "0"
        length = int(declared) if declared.isdigit() else 0
        # A client's body is read up to the suite's cap; the rest is never read (the connection
        # is closed after the answer), so a client cannot make the suite hold what it sends.
        body = self.rfile.read(min(length, MAX_BODY_BYTES)) if length > 0 else b""
        if length > MAX_BODY_BYTES:
            self.close_connection = True
        target = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=target.path or "/",
            raw_query=target.query.encode("latin-1", errors="replace"),
            header_pairs=tuple((k.lower(), v) for k, v in self.headers.items()),
            body=body,
        )
        reply = self.server.owner.dispatch(request)
        if reply is HANG or not isinstance(reply, Reply):
            self.server.owner.wait_released()
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the suite records requests itself."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: LoopbackServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class LoopbackServer:
    """Plays the server on a loopback port. `endpoint` is the `host:port` to give clients."""

    mode = "loopback"

    def __init__(self, *, hang_limit_s: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._responder: Responder | None = None
        self._requests: list[RecordedRequest] = []
        self._released = threading.Event()
        self._hang_limit_s = hang_limit_s
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            name="client-suite-loopback",
            daemon=True,
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """`127.0.0.1:<port>`."""
        port = self._server.server_address[1]
        return f"127.0.0.1:{port}"

    def dispatch(self, request: RecordedRequest) -> Reply | object:
        """Record `request` and compute its reply (called from handler threads)."""
        with self._lock:
            self._requests.append(request)
            responder = self._responder
        if responder is None:
            return Reply(503, (("content-type", "text/plain"),), b"no scenario is playing")
        return responder(request)

    def wait_released(self) -> None:
        """Block a hanging handler until the scenario ends."""
        self._released.wait(self._hang_limit_s)

    @contextlib.contextmanager
    def play(self, responder: Responder) -> Iterator[list[RecordedRequest]]:
        """Answer with `responder` inside the block; yield the list requests are added to."""
        with self._lock:
            self._responder = responder
            self._requests = []
            self._released.clear()
            requests = self._requests
        try:
            yield requests
        finally:
            with self._lock:
                self._responder = None
            self._released.set()

    def close(self) -> None:
        """Stop serving and release any hanging handler."""
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
