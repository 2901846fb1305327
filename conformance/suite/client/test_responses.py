"""What the client makes of the answers: every documented error (both messages of repeated
codes), DryRunOperation, success, and responses no client can use."""

from __future__ import annotations

import pytest

from conformance.protocol.signing import string_to_sign_v2
from conformance.spec import load_spec
from conformance.spec.model import Spec
from conformance.suite.client.harness import ClientExchange, Harness
from conformance.suite.client.scenarios import (
    MALFORMED_KINDS,
    Scenario,
    dryrun_scenario,
    error_row_id,
    error_row_scenarios,
    gateway_scenario,
    malformed_scenario,
    success_scenario,
)
from conformance.suite.client.support import client_failure, reproduce
from conformance.suite.failures import fail
from conformance.suite.options import SuiteOptions
from conformance.suite.plugin import record_checks

requirement = pytest.mark.requirement


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    spec = load_spec()
    if "error_row" in metafunc.fixturenames:
        params = []
        for index in range(len(spec.errors)):
            rid = error_row_id(spec, index)
            # interop.error.status-and-code: the Outcome keeps both status and code.
            marks = requirement(rid, "interop.error.status-and-code")
            params.append(pytest.param(index, marks=marks, id=rid.removeprefix("doc.error.")))
        metafunc.parametrize("error_row", params)
    if "malformed_kind" in metafunc.fixturenames:
        metafunc.parametrize(
            "malformed_kind",
            [pytest.param(k, marks=requirement(r), id=k) for k, r in MALFORMED_KINDS.items()],
        )


def _expect(
    request: pytest.FixtureRequest,
    spec: Spec,
    harness: Harness,
    scenario: Scenario,
    requirements: list[str],
    options: SuiteOptions,
) -> ClientExchange:
    exchange = harness.run(scenario)
    record_checks(request, 1)
    repro = reproduce(options, request.node.name)
    if exchange.failure is not None:
        raise client_failure(spec, requirements, exchange, scenario.describe_expectation(), repro)
    assert exchange.outcome is not None
    difference = scenario.check(exchange.outcome)
    if difference is not None:
        raise fail(
            spec,
            requirements,
            expected=f"{scenario.describe_expectation()} ({difference})",
            received=exchange.outcome.describe(),
            exchange=exchange.describe(),
            reproduce=repro,
        )
    return exchange


@requirement("doc.response.RequestId", "protocol.envelope.success")
def test_success_carries_the_request_id(
    request: pytest.FixtureRequest, harness: Harness, spec: Spec, ecs_options: SuiteOptions
) -> None:
    requirements = ["doc.response.RequestId", "protocol.envelope.success"]
    _expect(request, spec, harness, success_scenario(), requirements, ecs_options)


def test_documented_error_is_reported_verbatim(
    request: pytest.FixtureRequest,
    harness: Harness,
    spec: Spec,
    ecs_options: SuiteOptions,
    error_row: int,
) -> None:
    rid, scenario = error_row_scenarios(spec)[error_row]
    _expect(request, spec, harness, scenario, [rid, "interop.error.status-and-code"], ecs_options)


@requirement("doc.dryrun.passes", "protocol.dryrun.outcome")
def test_dryrun_operation_is_an_error_outcome(
    request: pytest.FixtureRequest, harness: Harness, spec: Spec, ecs_options: SuiteOptions
) -> None:
    requirements = ["doc.dryrun.passes", "protocol.dryrun.outcome"]
    _expect(request, spec, harness, dryrun_scenario(spec), requirements, ecs_options)


@requirement("interop.signature-mismatch.colon", "interop.error.status-and-code")
def test_signature_mismatch_is_reported_verbatim(
    request: pytest.FixtureRequest, harness: Harness, spec: Spec, ecs_options: SuiteOptions
) -> None:
    """SignatureDoesNotMatch as the real service words it (its message ends with
    ` server string to sign is:<StringToSign>`): an error Outcome with the code, the message
    verbatim, the request id and the status, never a client crash."""
    string_to_sign = string_to_sign_v2(
        "POST",
        {
            "Action": spec.action,
            spec.instance_parameter.name: "i-conformance",
            "Version": spec.version,
        },
    )
    scenario = gateway_scenario(spec, "signature_mismatch", string_to_sign=string_to_sign)
    requirements = ["interop.signature-mismatch.colon", "interop.error.status-and-code"]
    _expect(request, spec, harness, scenario, requirements, ecs_options)


def test_unusable_response_is_not_a_success(
    request: pytest.FixtureRequest,
    harness: Harness,
    spec: Spec,
    ecs_options: SuiteOptions,
    malformed_kind: str,
) -> None:
    scenario = malformed_scenario(spec, malformed_kind)
    _expect(request, spec, harness, scenario, [MALFORMED_KINDS[malformed_kind]], ecs_options)
