"""Serving the emulator: `EmbeddedEmulator` (a background thread on a loopback port, for tests
and `ecs-conformance run`) and `serve` (the `ecs-conformance emulator` command).

Both serve real HTTP with uvicorn; httptools and uvloop are used where installed
(httptools is worth ~2.5x: benchmarks/README.md, "Reference figures"). uvicorn's access log
stays off: the emulator logs its own one line per request (`conformance.emulator`) when
`log_requests` is on.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from conformance.config import EmulatorSettings
from conformance.emulator.app import LOGGER, create_app
from conformance.emulator.behaviour import Behaviour
from conformance.emulator.control import CONTROL_PREFIX
from conformance.emulator.state import World
from conformance.errors import ConfigError, TargetUnreachable
from conformance.network import is_loopback
from conformance.spec.model import Spec

__all__ = ["EmbeddedEmulator", "check_bind", "serve", "uvicorn_options"]

_START_TIMEOUT = 10.0


def _uvicorn_choices(settings: EmulatorSettings) -> dict[str, Any]:
    return uvicorn_options(settings.request_timeout_s, settings.keep_alive_s)


def uvicorn_options(request_timeout_s: float, keep_alive_s: int) -> dict[str, Any]:
    """uvicorn's loop and protocol ("auto": httptools/uvloop where importable, else
    h11/asyncio), the protocol wrapped so that a connection must deliver each request whole
    within `request_timeout_s` (slow or silent connections are closed), and idle kept-alive
    connections closed after `keep_alive_s`. Every emulator serves so (the checking proxy has
    its own listener, with the same bounds)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return {
        "loop": "auto",
        "http": _with_request_deadline(AutoHTTPProtocol, request_timeout_s),
        "timeout_keep_alive": keep_alive_s,
    }


def _with_request_deadline(base: type[Any], seconds: float) -> type[Any]:
    """`base` (a uvicorn HTTP protocol) whose connections must deliver each request whole
    within `seconds` of opening, or of its first byte: uvicorn times out only idle keep-alive
    connections, so a socket that never sends (or sends one byte now and then) would hold a
    file descriptor for ever, and enough of them deny service."""

    class RequestDeadline(base):  # type: ignore[misc]
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self._between_requests():
                self._arm()  # the first byte of the next request on a kept-alive connection
            super().data_received(data)
            cycle = self.cycle
            arrived = cycle is not None and not cycle.response_complete and not cycle.more_body
            if arrived and self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.cycle is None or bool(self.cycle.response_complete)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    RequestDeadline.__name__ = f"RequestDeadline{base.__name__}"
    return RequestDeadline


class EmbeddedEmulator:
    """The emulator served on `127.0.0.1` and a free port from a background thread.

    Example::

        with EmbeddedEmulator(EmulatorSettings()) as emu:
            httpx.put(f"{emu.control_url}/instances/i-1", json={"Status": "Running"})
            ...  # signed requests to emu.url
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        spec: Spec | None = None,
        behaviour: Behaviour | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.app: Starlette = create_app(self.settings, spec=spec, clock=clock, behaviour=behaviour)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @property
    def world(self) -> World:
        """The emulator's `World` (arrange and observe in-process)."""
        world: World = self.app.state.world
        return world

    @property
    def url(self) -> str:
        """The RPC endpoint, e.g. `http://127.0.0.1:41234/`."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def control_url(self) -> str:
        """The control API base, e.g. `http://127.0.0.1:41234/_conformance`."""
        return f"http://127.0.0.1:{self.port}{CONTROL_PREFIX}"

    @property
    def endpoint(self) -> str:
        """`host:port`, as SDKs take it."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedEmulator:
        """Bind a free loopback port, start serving, and wait until uvicorn has started."""
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,
            log_config=None,  # embedded: leave the host program's logging alone
            log_level="warning",
            **_uvicorn_choices(self.settings),
        )
        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="ecs-emulator", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise TargetUnreachable("the embedded emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread; closes the socket."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmbeddedEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def check_bind(settings: EmulatorSettings, host: str) -> None:
    """Refuse to expose an unprotected control API beyond loopback (ConfigError, exit 2)."""
    if settings.control and not settings.control_token and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host}: the test-control API (/_conformance) would let anyone "
            "who reaches this address change instances and inject faults",
            hint="pass --control-token TOKEN to protect it, or --no-control to turn it off "
            "(or bind 127.0.0.1)",
        )


def _log_config() -> dict[str, Any]:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"][LOGGER.name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(
    settings: EmulatorSettings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    spec: Spec | None = None,
    behaviour: Behaviour | None = None,
    log_level: str = "info",
) -> None:
    """Serve the emulator until interrupted (used by `ecs-conformance emulator`).

    uvicorn's access log is off; the emulator's own per-request line (`settings.log_requests`,
    on unless the CLI's `--quiet`) goes to the `conformance.emulator` logger, which is wired
    to uvicorn's default handler here.

    Raises ConfigError when `host` is not loopback while the control API is on without a token.
    """
    check_bind(settings, host)
    app = create_app(settings, spec=spec, behaviour=behaviour)
    uvicorn.run(
        app,
        host=host,
        port=port,
        lifespan="off",
        access_log=False,
        log_config=_log_config(),
        log_level=log_level,
        **_uvicorn_choices(settings),
    )
