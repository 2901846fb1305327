"""Helpers for the checking-proxy tests: a proxy over the embedded emulator, a client's calls
through it, and a tampering server to put between the proxy and the emulator."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from conformance.client.contract import ClientAdapter, RebootCall
from conformance.proxy.forwarding import Forwarder, Upstream, UpstreamAnswer
from conformance.proxy.judge import CLIENT, SERVER
from conformance.proxy.listener import Listener
from conformance.proxy.service import CheckingProxy, ProxySettings

# A session's worth of calls: a reboot, a dry run, explicit flags, a refused status, an unknown
# id, and ids whose encoding is easy to get wrong (space, plus, tilde, slash).
CALLS: tuple[tuple[str, dict[str, bool]], ...] = (
    ("i-running", {}),
    ("i-running2", {"dry_run": True}),
    ("i-running3", {"force_stop": False, "dry_run": False}),
    ("i-stopped", {"force_stop": True}),
    ("i-unknown", {}),
    ("i-space space", {}),
    ("i-plus+plus", {}),
    ("i-tilde~/slash", {}),
)
INSTANCES = {
    "i-running": "Running",
    "i-running2": "Running",
    "i-running3": "Running",
    "i-stopped": "Stopped",
    "i-space space": "Running",
    "i-plus+plus": "Running",
    "i-tilde~/slash": "Running",
}


@dataclass
class Verdicts:
    client: set[str]
    server: set[str]
    proxy: CheckingProxy


def arrange(control_url: str) -> None:
    with httpx.Client(base_url=control_url) as control:
        for instance_id, status in INSTANCES.items():
            control.put(
                f"/instances/{quote(instance_id, safe='')}", json={"Status": status}
            ).raise_for_status()


def calls_through(
    adapter: ClientAdapter, proxy: CheckingProxy, calls: tuple[tuple[str, dict[str, bool]], ...]
) -> Verdicts:
    """Every call of `calls` through `proxy`, then what the judge failed on each side."""
    try:
        for instance_id, flags in calls:
            call = RebootCall(
                proxy.host_port, instance_id, "testid", "testsecret", timeout_s=5.0, **flags
            )
            # a client failure is the client suite's business, not the proxy's
            with contextlib.suppress(Exception):
                adapter.reboot(call)
    finally:
        adapter.close()
    proxy.drain()
    judge = proxy.judge
    return Verdicts(
        {rid for rid, _ in judge.failures(CLIENT)},
        {rid for rid, _ in judge.failures(SERVER)},
        proxy,
    )


@pytest.fixture
def embedded_proxy() -> Iterator[Callable[..., CheckingProxy]]:
    """Start proxies over the embedded emulator (stopped at the end of the test)."""
    started: list[CheckingProxy] = []

    def start(**settings: object) -> CheckingProxy:
        proxy = CheckingProxy(ProxySettings(reboot_seconds=60.0, **settings)).start()  # type: ignore[arg-type]
        started.append(proxy)
        assert proxy.emulator is not None
        arrange(proxy.emulator.control_url)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


class TamperingUpstream(Upstream):
    """Forwards to the emulator and rewrites its answers with `tamper`."""

    def __init__(self, base_url: str, tamper: Callable[[UpstreamAnswer], UpstreamAnswer]) -> None:
        super().__init__(base_url, timeout_s=10.0)
        self.tamper = tamper

    async def send(self, method: str, target: bytes, headers, body):  # type: ignore[no-untyped-def]
        return self.tamper(await super().send(method, target, headers, body))


@pytest.fixture
def serve_app() -> Iterator[Callable[[object], str]]:
    """Serve an ASGI app on a free loopback port from a thread; its base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: object) -> str:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)  # type: ignore[arg-type]
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = server.force_exit = True  # a hanging handler must not hold it
        thread.join(10)


Gateway = Callable[[str, Callable[[UpstreamAnswer], UpstreamAnswer]], str]


@pytest.fixture
def tampering_gateway() -> Iterator[Gateway]:
    """`gateway(upstream, tamper)`: a gateway between the proxy and `upstream` that rewrites
    every answer with `tamper` (the proxy's own forwarder and listener); its base URL."""
    listeners: list[Listener] = []

    def gateway(upstream: str, tamper: Callable[[UpstreamAnswer], UpstreamAnswer]) -> str:
        forwarder = Forwarder(TamperingUpstream(upstream, tamper), record=lambda raw: None)
        listener = Listener(forwarder, request_timeout_s=10.0, keep_alive_s=30.0)
        sock = socket.create_server(("127.0.0.1", 0))
        listener.start(sock, timeout_s=10.0)
        listeners.append(listener)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield gateway
    for listener in listeners:
        listener.stop(grace_s=1.0)
