"""What the client sends: every request check of the registry (`checks.py`: Action, Version,
signature, timestamp, nonce, method, booleans, no duplicate or contradictory parameters) over
the baseline calls, one test case per check and requirement. Every check reads its expectation
from the spec."""

from __future__ import annotations

import pytest

from conformance.spec import load_spec
from conformance.spec.model import Spec
from conformance.suite.client import checks
from conformance.suite.client.harness import ClientExchange, Harness
from conformance.suite.client.support import client_failure, problems_failure, reproduce
from conformance.suite.failures import not_verified
from conformance.suite.options import SuiteOptions
from conformance.suite.plugin import record_checks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "check_case" in metafunc.fixturenames:
        metafunc.parametrize(
            "check_case",
            [
                pytest.param(c, marks=pytest.mark.requirement(c.requirement), id=c.id)
                for c in checks.cases(load_spec())
            ],
        )


def test_request_check(
    request: pytest.FixtureRequest,
    baseline: list[ClientExchange],
    spec: Spec,
    ecs_options: SuiteOptions,
    harness: Harness,
    check_case: checks.CheckCase,
) -> None:
    rid = check_case.requirement
    repro = reproduce(ecs_options, request.node.name)
    judged = [e for e in baseline if check_case.judges(e.call)]
    for exchange in judged:
        if not exchange.requests:
            expected = "a request reaching the server"
            if exchange.failure is not None:
                raise client_failure(spec, rid, exchange, expected, repro)
            raise problems_failure(
                spec, rid, [checks.Problem(expected, "no request")], [exchange], repro
            )
    context = checks.CheckContext.of(spec, harness.credentials, judged)
    record_checks(request, len(context.views))
    try:
        problems = check_case.run(context)
    except checks.NotJudged as exc:
        not_verified(exc.reason)
    if problems:
        raise problems_failure(spec, rid, problems, judged, repro)
