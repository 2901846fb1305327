"""The checking proxy's own HTTP/1.1 listener and hot path: kept-alive upstream connections,
pipelined requests in order, the request deadline, unreadable requests, and a judge that
falls behind under load without losing an exchange."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from conformance.proxy import service
from conformance.proxy.service import CheckingProxy, ProxySettings


def _recorder(seen: list[tuple[str, int]]) -> Callable[[Scope, Receive, Send], object]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        seen.append((scope["path"], scope["client"][1]))
        body = scope["path"].encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _read_all(sock: socket.socket, deadline_s: float = 5.0) -> bytes:
    sock.settimeout(deadline_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data


def test_upstream_connections_are_kept_alive(serve_app: Callable[[object], str]) -> None:
    seen: list[tuple[str, int]] = []
    upstream = serve_app(_recorder(seen))
    with CheckingProxy(ProxySettings(upstream=upstream)) as proxy, httpx.Client() as client:
        for n in range(5):
            assert client.get(f"{proxy.url}/call{n}").text == f"/call{n}"
    assert [path for path, _ in seen] == [f"/call{n}" for n in range(5)]
    assert len({port for _, port in seen}) == 1  # one upstream connection for all five


def test_pipelined_requests_are_answered_in_order(serve_app: Callable[[object], str]) -> None:
    upstream = serve_app(_recorder([]))
    with (
        CheckingProxy(ProxySettings(upstream=upstream)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        requests = [f"GET /p{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in range(3)]
        last = b"GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        sock.sendall(b"".join(requests) + last)
        answers = _read_all(sock)
    assert answers.count(b"HTTP/1.1 200 OK") == 4
    bodies = [part.rsplit(b"\r\n\r\n", 1)[-1][:3] for part in answers.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"/p0", b"/p1", b"/p2", b"/p3"]
    assert b"connection: close" in answers.rsplit(b"HTTP/1.1 ", 1)[-1]


def test_a_client_that_never_finishes_its_request_is_disconnected(
    serve_app: Callable[[object], str],
) -> None:
    upstream = serve_app(_recorder([]))
    with CheckingProxy(ProxySettings(upstream=upstream, request_timeout_s=0.5)) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
            started = time.monotonic()
            assert _read_all(sock) == b""  # closed, no answer
            assert time.monotonic() - started < 4
        assert httpx.get(proxy.url + "/after").text == "/after"  # still serving


def test_an_unreadable_request_gets_a_400(serve_app: Callable[[object], str]) -> None:
    upstream = serve_app(_recorder([]))
    with (
        CheckingProxy(ProxySettings(upstream=upstream)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"x-ecs-conformance-proxy: refused" in answer


def test_a_judge_behind_holds_requests_back_and_loses_none(
    embedded_proxy: Callable[..., CheckingProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "_MAX_QUEUED", 3)  # the backlog's bound, tiny
    monkeypatch.setattr(service, "_QUIET_S", 3600.0)  # never quiet: judged only when full
    proxy = embedded_proxy()
    with httpx.Client() as client:
        for n in range(20):
            client.get(f"{proxy.url}/?Action=RebootInstance&n={n}", timeout=10)
            assert proxy.backlog <= 4  # the bound, and the one just recorded
    proxy.drain()
    assert proxy.judge.exchanges == 20


def test_an_upgrade_request_is_answered_without_upgrading(
    serve_app: Callable[[object], str],
) -> None:
    upstream = serve_app(_recorder([]))
    with (
        CheckingProxy(ProxySettings(upstream=upstream)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        sock.sendall(b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b"/up")
    assert b"connection: close" in answer
