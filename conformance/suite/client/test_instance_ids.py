"""InstanceId arrives exactly as given, whatever characters it carries (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, seed, settings

from conformance.spec.model import Spec
from conformance.suite.client import checks
from conformance.suite.client.harness import Harness
from conformance.suite.client.scenarios import instance_ids, success_scenario
from conformance.suite.client.support import (
    client_failure,
    example_count,
    problems_failure,
    reproduce,
)
from conformance.suite.options import SuiteOptions
from conformance.suite.plugin import record_checks

requirement = pytest.mark.requirement
_IDS = ("doc.param.InstanceId.required", "doc.param.InstanceId.type")


@requirement(*_IDS)
def test_instance_id_arrives_exactly(
    request: pytest.FixtureRequest, harness: Harness, spec: Spec, ecs_options: SuiteOptions
) -> None:
    repro = reproduce(ecs_options, request.node.name)
    count = 0

    @given(instance_id=instance_ids())
    def check(instance_id: str) -> None:
        nonlocal count
        exchange = harness.run(success_scenario(instance_id=instance_id))
        count += 1
        if not exchange.requests:
            if exchange.failure is not None:
                raise client_failure(spec, list(_IDS), exchange, "a request", repro)
            raise AssertionError("no request reached the server:\n" + exchange.describe())
        problems = [
            p
            for r in exchange.requests
            for p in checks.instance_id_problems(
                checks.view(r, spec), instance_id, spec.instance_parameter.name
            )
        ]
        if problems:
            raise problems_failure(spec, list(_IDS), problems, [exchange], repro)

    if ecs_options.seed is not None:
        check = seed(ecs_options.seed)(check)
    # Settings after `seed`, which would turn the example database off.
    check = settings(
        max_examples=example_count(ecs_options, harness.adapter),
        deadline=None,
        database=ecs_options.example_database(),
        suppress_health_check=list(HealthCheck),
    )(check)
    try:
        check()
    finally:
        record_checks(request, count)


@requirement("interop.encoding.plus-space")
def test_plus_and_space_stay_distinct(
    request: pytest.FixtureRequest, harness: Harness, spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "interop.encoding.plus-space"
    repro = reproduce(ecs_options, request.node.name)
    for instance_id in ("i-plus+plus", "i-space space", "i-both + %2B%20"):
        exchange = harness.run(success_scenario(instance_id=instance_id))
        record_checks(request, 1)
        if not exchange.requests and exchange.failure is not None:
            raise client_failure(spec, rid, exchange, "a request", repro)
        problems = [
            p
            for r in exchange.requests
            for p in checks.instance_id_problems(
                checks.view(r, spec), instance_id, spec.instance_parameter.name
            )
        ]
        if problems:
            raise problems_failure(spec, rid, problems, [exchange], repro)
