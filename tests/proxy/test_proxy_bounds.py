"""The checking proxy against hostile peers: an upstream that never answers, one that answers
too much, a client that sends too much; the proxy answers for itself and keeps serving."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from conformance.client.contract import RebootCall
from conformance.client.registry import load_adapter
from conformance.limits import MAX_BODY_BYTES
from conformance.proxy import service
from conformance.proxy.forwarding import PROXY_HEADER
from conformance.proxy.service import CheckingProxy, ProxySettings


async def _silent(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await asyncio.sleep(3600)


async def _huge(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    chunk = b"x" * 65536
    for _ in range(MAX_BODY_BYTES // len(chunk) + 20):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_silent_upstream_gets_a_504_and_the_proxy_keeps_serving(
    serve_app: Callable[[object], str],
) -> None:
    upstream = serve_app(_silent)
    with CheckingProxy(ProxySettings(upstream=upstream, timeout_s=1.0)) as proxy:
        for _ in range(2):
            answer = httpx.get(proxy.url + "/?Action=RebootInstance", timeout=10)
            assert answer.status_code == 504
            assert answer.headers[PROXY_HEADER] == "no-answer"
        proxy.drain()
        assert proxy.judge.unanswered == 2


def test_oversized_answer_is_refused(serve_app: Callable[[object], str]) -> None:
    upstream = serve_app(_huge)
    with CheckingProxy(ProxySettings(upstream=upstream, timeout_s=10.0)) as proxy:
        answer = httpx.get(proxy.url + "/?Action=RebootInstance", timeout=20)
        assert answer.status_code == 502
        assert "larger than" in answer.text


def test_oversized_request_is_not_forwarded(embedded_proxy: Callable[..., CheckingProxy]) -> None:
    proxy = embedded_proxy()
    body = b"a=" + b"x" * (MAX_BODY_BYTES + 10)
    answer = httpx.post(proxy.url + "/", content=body, timeout=20)
    assert answer.status_code == 413
    assert answer.headers[PROXY_HEADER] == "refused"
    # and the proxy still forwards and judges an ordinary call
    call = RebootCall(proxy.host_port, "i-running", "testid", "testsecret")
    outcome = load_adapter("reference").reboot(call)
    assert outcome.ok, outcome


def test_a_call_still_waiting_when_the_proxy_stops_is_recorded(
    serve_app: Callable[[object], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "_START_TIMEOUT_S", 0.5)  # the grace the listener gives
    upstream = serve_app(_silent)
    proxy = CheckingProxy(ProxySettings(upstream=upstream, timeout_s=60.0)).start()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /?Action=RebootInstance HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # forwarded, and the upstream silent
        proxy.stop()
    assert proxy.judge.exchanges == 1
    assert proxy.judge.unanswered == 1
