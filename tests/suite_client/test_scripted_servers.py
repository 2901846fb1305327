"""One scenario, both servers: respx and the loopback HTTP server answer and record alike."""

from __future__ import annotations

import pytest

from conformance.client.adapters import CallableAdapter
from conformance.client.reference import ReferenceClient
from conformance.config import Credentials
from conformance.spec import load_spec
from conformance.suite.client.harness import Harness
from conformance.suite.client.respx_server import RespxServer
from conformance.suite.client.scenarios import (
    MALFORMED_KINDS,
    error_row_scenarios,
    malformed_scenario,
    success_scenario,
)
from conformance.suite.client.scripted_server import LoopbackServer


@pytest.fixture(params=["respx", "loopback"])
def harness(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    server = RespxServer() if request.param == "respx" else LoopbackServer()
    client = ReferenceClient(timeout_s=1.0)
    adapter = CallableAdapter(client.reboot_instance, name="reference", httpx_based=True)
    yield Harness(adapter, server, load_spec(), Credentials("testid", "testsecret"))
    client.close()
    server.close()


def test_success_is_recorded_and_answered(harness: Harness) -> None:
    scenario = success_scenario(instance_id="i-a b")
    exchange = harness.run(scenario)
    assert scenario.check(exchange.outcome) is None, exchange.describe()
    assert len(exchange.requests) == 1
    assert exchange.requests[0].method == "POST"


def test_every_error_row_round_trips(harness: Harness) -> None:
    for _, scenario in error_row_scenarios(harness.spec):
        exchange = harness.run(scenario)
        assert scenario.check(exchange.outcome) is None, exchange.describe()


@pytest.mark.parametrize("kind", sorted(MALFORMED_KINDS))
def test_malformed_answers_are_not_successes(harness: Harness, kind: str) -> None:
    scenario = malformed_scenario(harness.spec, kind)
    exchange = harness.run(scenario)
    assert exchange.failure is None
    assert exchange.outcome is not None and not exchange.outcome.ok
    assert scenario.check(exchange.outcome) is None


def test_a_swallowed_code_is_detected(harness: Harness) -> None:
    from conformance.client.contract import Outcome

    _, scenario = error_row_scenarios(harness.spec)[0]
    wrong = Outcome.error("Other", scenario.expect.message, scenario.request_id, 404)
    assert scenario.check(wrong) is not None
