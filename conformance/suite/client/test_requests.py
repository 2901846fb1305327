"""What the client sends: Action, Version, signature, timestamp, nonce, method, booleans, and no
duplicate or contradictory parameters. Every check reads its expectation from the spec."""

from __future__ import annotations

import pytest

from conformance.protocol.wire import parse_bool
from conformance.spec import load_spec
from conformance.spec.model import Spec
from conformance.suite.client import checks
from conformance.suite.client.checks import Problem, RequestView
from conformance.suite.client.harness import Exchange, Harness
from conformance.suite.client.support import client_failure, problems_failure, reproduce
from conformance.suite.failures import not_verified
from conformance.suite.options import SuiteOptions
from conformance.suite.plugin import record_checks

requirement = pytest.mark.requirement


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    spec = load_spec()
    if "signature_version" in metafunc.fixturenames:
        versions = ("v2", "v3")
        metafunc.parametrize(
            "signature_version",
            [pytest.param(v, marks=requirement(f"protocol.signature.{v}"), id=v) for v in versions],
        )
    if "method" in metafunc.fixturenames:
        methods = [str(m).upper() for m in spec.protocol["api"]["methods"]]
        metafunc.parametrize(
            "method",
            [pytest.param(m, marks=requirement(f"protocol.method.{m}"), id=m) for m in methods],
        )
    if "boolean_case" in metafunc.fixturenames:
        cases = []
        for p in spec.boolean_parameters:
            cases.append(
                pytest.param(
                    (p.name, None), marks=requirement(f"doc.default.{p.name}"), id=f"{p.name}-unset"
                )
            )
            for value in p.enum:
                asked = value.lower() == "true"
                cases.append(
                    pytest.param(
                        (p.name, asked),
                        marks=requirement(f"doc.param.{p.name}.value.{value}"),
                        id=f"{p.name}-{value}",
                    )
                )
        metafunc.parametrize("boolean_case", cases)
    if "boolean_name" in metafunc.fixturenames:
        metafunc.parametrize(
            "boolean_name",
            [
                pytest.param(p.name, marks=requirement(f"doc.param.{p.name}.type"), id=p.name)
                for p in spec.boolean_parameters
            ],
        )


def _views(
    request: pytest.FixtureRequest,
    spec: Spec,
    exchanges: list[Exchange],
    requirement_id: str,
    options: SuiteOptions,
) -> list[tuple[Exchange, RequestView]]:
    """Every recorded request with its parsed view; an exchange without requests is a failure."""
    out: list[tuple[Exchange, RequestView]] = []
    for exchange in exchanges:
        if not exchange.requests:
            expected = "a request reaching the server"
            if exchange.failure is not None:
                raise client_failure(
                    spec, requirement_id, exchange, expected, reproduce(options, request.node.name)
                )
            raise problems_failure(
                spec,
                requirement_id,
                [Problem(requirement_id, expected, "no request")],
                [exchange],
                reproduce(options, request.node.name),
            )
        out.extend((exchange, checks.view(r, spec)) for r in exchange.requests)
    record_checks(request, len(out))
    return out


def _judge(
    request: pytest.FixtureRequest,
    spec: Spec,
    requirement_id: str,
    problems: list[Problem],
    exchanges: list[Exchange],
    options: SuiteOptions,
) -> None:
    if problems:
        raise problems_failure(
            spec, requirement_id, problems, exchanges, reproduce(options, request.node.name)
        )


@requirement("protocol.action.value")
def test_action_is_the_operation(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.action.value"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_action(v, spec)]
    _judge(request, spec, rid, problems, baseline, ecs_options)


@requirement("protocol.version.value")
def test_version_is_the_api_version(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.version.value"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_version(v, spec)]
    _judge(request, spec, rid, problems, baseline, ecs_options)


def test_signature_is_valid(
    request: pytest.FixtureRequest,
    baseline: list[Exchange],
    spec: Spec,
    ecs_options: SuiteOptions,
    harness: Harness,
    signature_version: str,
) -> None:
    rid = f"protocol.signature.{signature_version}"
    views = _views(request, spec, baseline, rid, ecs_options)
    used = {v.signature_version for _, v in views}
    if None in used:
        unsigned = [
            Problem(
                rid, "a V2 Signature parameter or a V3 Authorization header", "unsigned", v.request
            )
            for _, v in views
            if v.signature_version is None
        ]
        _judge(request, spec, rid, unsigned, baseline, ecs_options)
    if signature_version not in used:
        not_verified(f"the client signs with {', '.join(sorted(u for u in used if u))} only")
    problems = [
        p
        for _, v in views
        if v.signature_version == signature_version
        for p in checks.check_signature(v, spec, harness.credentials, signature_version)
    ]
    _judge(request, spec, rid, problems, baseline, ecs_options)


@requirement("protocol.timestamp.format")
def test_timestamp_is_well_formed(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.timestamp.format"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_timestamp_format(v, spec)]
    _judge(request, spec, rid, problems, baseline, ecs_options)


@requirement("protocol.timestamp.expired")
def test_timestamp_is_fresh(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.timestamp.expired"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_timestamp_fresh(v, spec)]
    _judge(request, spec, rid, problems, baseline, ecs_options)


@requirement("protocol.nonce.unique")
def test_nonce_differs_across_calls(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.nonce.unique"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = checks.check_nonces([v for _, v in views])
    _judge(request, spec, rid, problems, baseline, ecs_options)


def test_method_is_allowed(
    request: pytest.FixtureRequest,
    baseline: list[Exchange],
    spec: Spec,
    ecs_options: SuiteOptions,
    method: str,
) -> None:
    rid = f"protocol.method.{method}"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_method(v, spec, rid)]
    _judge(request, spec, rid, problems, baseline, ecs_options)
    if not any(v.request.method == method for _, v in views):
        used = sorted({v.request.method for _, v in views})
        not_verified(f"the client sends {', '.join(used)}, never {method}")


@requirement("protocol.params.merged")
def test_no_duplicate_or_contradictory_parameters(
    request: pytest.FixtureRequest, baseline: list[Exchange], spec: Spec, ecs_options: SuiteOptions
) -> None:
    rid = "protocol.params.merged"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_parameters_unique(v)]
    _judge(request, spec, rid, problems, baseline, ecs_options)


def test_boolean_is_a_wire_boolean(
    request: pytest.FixtureRequest,
    baseline: list[Exchange],
    spec: Spec,
    ecs_options: SuiteOptions,
    boolean_name: str,
) -> None:
    rid = f"doc.param.{boolean_name}.type"
    views = _views(request, spec, baseline, rid, ecs_options)
    problems = []
    for _, v in views:
        for value in v.values(boolean_name):
            if parse_bool(value) is None:
                problems.append(Problem(rid, "true or false (any case)", repr(value), v.request))
    _judge(request, spec, rid, problems, baseline, ecs_options)


def test_boolean_means_what_was_asked(
    request: pytest.FixtureRequest,
    baseline: list[Exchange],
    spec: Spec,
    ecs_options: SuiteOptions,
    boolean_case: tuple[str, bool | None],
) -> None:
    name, asked = boolean_case
    rid = f"doc.default.{name}" if asked is None else f"doc.param.{name}.value.{str(asked).lower()}"
    field = checks.call_field(name)
    chosen = [e for e in baseline if getattr(e.call, field) is asked]
    views = _views(request, spec, chosen, rid, ecs_options)
    problems = [p for _, v in views for p in checks.check_boolean(v, name, asked, rid)]
    _judge(request, spec, rid, problems, chosen, ecs_options)
