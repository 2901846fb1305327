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
from conformance.suite.failures import fail, not_verified
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
    sent = [e for e in judged if e.requests]
    if not sent and judged and check_case.check.judges is not None:
        # A check about what particular calls asked for (a flag set, or left unset): when no
        # such call reached the server, the client never conveys what was asked.
        exchange = judged[0]
        expected = "a request reaching the server for this call"
        if exchange.failure is not None:
            raise client_failure(spec, rid, exchange, expected, repro)
        raise fail(
            spec,
            rid,
            expected=expected,
            received="no request; the adapter returned "
            + (exchange.outcome.describe() if exchange.outcome else "nothing"),
            exchange=exchange.describe(),
            reproduce=repro,
        )
    if not sent:
        not_verified(
            "no call of the baseline reached the server, so no request can be judged "
            f"({_first_failure(baseline)})"
        )
    # Calls that sent nothing give a request check no input (their own requirement, or the
    # answer checks, show why): it judges the requests that came.
    judged = sent
    context = checks.CheckContext.of(spec, harness.credentials, judged)
    record_checks(request, len(context.views))
    try:
        problems = check_case.run(context)
    except checks.NotJudged as exc:
        not_verified(exc.reason)
    if problems:
        raise problems_failure(spec, rid, problems, judged, repro)


def _first_failure(exchanges: list[ClientExchange]) -> str:
    for e in exchanges:
        if e.failure is not None:
            return f"the adapter: {e.failure}"
        if e.outcome is not None:
            return f"the first call's outcome: {e.outcome.describe()}"
    return "no call was made"
