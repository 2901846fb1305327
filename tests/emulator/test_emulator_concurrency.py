"""Concurrent reboots over real HTTP: the precondition is checked and acted on atomically."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from conformance.protocol.envelopes import parse_response
from conformance.protocol.signing import signed_params_v2
from conformance.protocol.wire import canonical_query
from conformance.spec import load_spec

SPEC = load_spec()
CALLERS = 50


def test_fifty_simultaneous_reboots_of_one_instance_succeed_once(
    emulator: Any, control: Any
) -> None:
    control.put("i-race", Status=SPEC.precondition_status)
    cred = emulator.settings.credentials[0]
    # sign everything first so that the requests leave as close together as possible
    queries = [
        canonical_query(
            signed_params_v2(
                "GET",
                {"InstanceId": "i-race"},
                action=SPEC.action,
                version=SPEC.version,
                access_key_id=cred.access_key_id,
                access_key_secret=cred.access_key_secret,
            ).items()
        )
        for _ in range(CALLERS)
    ]
    clients = [httpx.Client(timeout=30) for _ in range(CALLERS)]
    for c in clients:  # open the connections before the race
        c.get(f"{emulator.control_url}/instances/i-race")
    barrier = threading.Barrier(CALLERS)

    def call(i: int) -> tuple[int, str | None]:
        barrier.wait()
        r = clients[i].get(f"{emulator.url}?{queries[i]}")
        w = parse_response(r.status_code, r.headers, r.content)
        return w.status, w.code

    try:
        with ThreadPoolExecutor(CALLERS) as pool:
            answers = list(pool.map(call, range(CALLERS)))
    finally:
        for c in clients:
            c.close()
    refusal = SPEC.conditions["status_not_running"]
    assert answers.count((200, None)) == 1, answers
    assert answers.count((SPEC.error_status(refusal), refusal)) == CALLERS - 1, answers
    view = control.view("i-race")
    assert (view["RebootCount"], view["Status"]) == (1, SPEC.resulting_status)
