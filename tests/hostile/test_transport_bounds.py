"""The transport's bounds, in-process against hostile loopback servers: a total deadline per
request, a cap on every body read, a circuit breaker shared by a session, and control API
answers of the wrong shape reported as provisioning errors (issue 12, items 1 and 5)."""

from __future__ import annotations

import http.server
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from conformance.config import Credentials
from conformance.errors import TargetUnreachable
from conformance.limits import MAX_BODY_BYTES, StoppedAnswering
from conformance.spec import load_spec
from conformance.targets import Condition, ControlProvisioner, HttpServerTarget
from conformance.targets.provisioners import ControlError

CREDS = Credentials("testid", "testsecret")
VERSION = load_spec().version
PARAMS = {"InstanceId": "i-x", "DryRun": "true"}


def test_a_dripping_answer_is_cut_at_the_total_deadline(hostile_server) -> None:  # type: ignore[no-untyped-def]
    """One byte every 0.2 s never trips a per-read timeout of 0.5 s; the deadline ends it."""
    server = hostile_server("drip", interval_s=0.2)
    target = HttpServerTarget(server.url, CREDS, timeout_s=0.5, version=VERSION)
    started = time.monotonic()
    exchange = target.call("RebootInstance", PARAMS)
    assert time.monotonic() - started < 1.5
    assert exchange.response is None and "timeout" in (exchange.error or ""), exchange.error


def test_a_huge_answer_is_read_only_up_to_the_cap(hostile_server) -> None:  # type: ignore[no-untyped-def]
    server = hostile_server("big-body", size=20 * MAX_BODY_BYTES)
    target = HttpServerTarget(server.url, CREDS, timeout_s=5, version=VERSION)
    tracemalloc.start()
    try:
        exchange = target.call("RebootInstance", PARAMS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exchange.response is None and "larger than" in (exchange.error or "")
    assert peak < 4 * MAX_BODY_BYTES, f"{peak} bytes held for a {20 * MAX_BODY_BYTES}-byte body"


def test_the_breaker_stops_a_silent_target_after_three_timeouts(hostile_server) -> None:  # type: ignore[no-untyped-def]
    server = hostile_server("silent")
    target = HttpServerTarget(server.url, CREDS, timeout_s=0.3, version=VERSION)
    started = time.monotonic()
    for _ in range(3):
        assert target.call("RebootInstance", PARAMS).response is None
    later = target.call("RebootInstance", PARAMS)
    assert (later.error or "").startswith("not sent: target stopped answering: 3 requests")
    assert time.monotonic() - started < 2.0
    assert target.requests_sent == 3
    with pytest.raises(StoppedAnswering):
        target.breaker.check()  # what the server suite asks before each test


def test_control_api_answers_are_bounded(hostile_server) -> None:  # type: ignore[no-untyped-def]
    big = hostile_server("big-body", size=20 * MAX_BODY_BYTES)
    with pytest.raises(ControlError, match="more than"):
        ControlProvisioner(big.url + "/_conformance", timeout_s=5).observe("i-1")
    drip = hostile_server("drip", interval_s=0.2)
    started = time.monotonic()
    with pytest.raises(ControlError, match=r"within 0\.5s"):
        ControlProvisioner(drip.url + "/_conformance", timeout_s=0.5).observe("i-1")
    assert time.monotonic() - started < 1.5


class _WrongShapes(http.server.BaseHTTPRequestHandler):
    """A control API whose instance views have wrong JSON types."""

    view: dict[str, object] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.view).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def wrong_shapes() -> Iterator[type[_WrongShapes]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WrongShapes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _WrongShapes.url = f"http://127.0.0.1:{server.server_address[1]}/_conformance"  # type: ignore[attr-defined]
    yield _WrongShapes
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("view", "problem"),
    [
        ({"InstanceId": "i-1", "Status": "Running", "OperationLocks": 5}, "OperationLocks"),
        ({"InstanceId": "i-1", "Status": 3}, "Status must be a string"),
        ({"InstanceId": "i-1", "Status": "Running", "RebootCount": "2"}, "RebootCount"),
        ({"InstanceId": "i-1", "Status": "Running", "LastForceStop": "yes"}, "LastForceStop"),
        (["not", "an", "object"], "instead of an instance object"),
    ],
)
def test_control_answers_of_the_wrong_shape_are_provisioning_errors(  # type: ignore[no-untyped-def]
    wrong_shapes, view, problem: str
) -> None:
    wrong_shapes.view = view
    control = ControlProvisioner(wrong_shapes.url, timeout_s=2)
    control.arrange(Condition("Running"), "i-1")
    with pytest.raises(ControlError, match=problem) as caught:
        control.observe("i-1")
    assert isinstance(caught.value, TargetUnreachable) and caught.value.exit_code == 3
    assert "test-control contract" in str(caught.value)
