"""schemathesis on the generated OpenAPI: positive and negative cases, signed by an auth hook,
judged by schemathesis' status-code, content-type, schema, server-error and negative-data checks
and by the RPC-style check that every error code is one the document gives for its status."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup

from conformance.suite import strategies as S
from conformance.suite.server.harness import ServerHarness
from conformance.suite.server.schemathesis_run import (
    CHECKS,
    call_case,
    case_strategies,
    documented_error_code,
    load_schema,
    signing_auth,
)

IDS = ("protocol.envelope.success", "protocol.envelope.error", "protocol.content-type")


@pytest.mark.requirement(*IDS)
def test_schemathesis_checks_pass(ecs: ServerHarness) -> None:
    """Generated cases (GET and POST, valid and invalid data) pass every check. Where the
    control API exists, half the valid cases first get a Running instance under their generated
    InstanceId, so that success answers are exercised too."""
    schema = load_schema(ecs.spec)
    control = ecs.context.has_control
    instance = ecs.spec.instance_parameter.name

    def arrange_for(case: Any) -> None:
        """Give a valid case's InstanceId a Running instance (a negative case must stay refused,
        and only ids a control API path can carry: printable, untrimmed text)."""
        if not case.meta.generation.mode.is_positive:
            return
        iid = (case.query or {}).get(instance)
        if iid is None and isinstance(case.body, dict):
            iid = case.body.get(instance)
        if isinstance(iid, str) and iid and iid.isprintable() and iid.strip() == iid:
            ecs.provisioner.arrange(S.passing_condition(ecs.spec), iid)

    auth = signing_auth(
        ecs.spec, ecs.target.credentials, safe_ids=not ecs.context.destructive_allowed
    )
    methods = [m for m in ("GET", "POST") if m in ecs.context.options.methods]
    strategies = case_strategies(schema, methods, auth)
    checks = [*CHECKS, documented_error_code(ecs.spec)]

    @ecs.given(data=st.data(), arrange=st.booleans(), scale=0.5)
    def run(data: st.DataObject, arrange: bool) -> None:
        case = data.draw(st.one_of(strategies), label="case")
        if arrange and control:
            arrange_for(case)
        response, exchange = call_case(case, ecs.target)
        if response is None:  # the target gave no answer (or one too large to read)
            raise ecs.fail(
                IDS, expected="an HTTP answer", received=exchange.summary(), exchange=exchange
            )
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, FailureGroup) as exc:  # how schemathesis reports failed checks
            raise ecs.fail(
                IDS,
                expected="every schemathesis check passes",
                received=str(exc)[:1500],
                note=ecs.target.credentials.redact(case.as_curl_command()),
            ) from None

    run()
