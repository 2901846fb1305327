"""schemathesis on the generated OpenAPI: positive and negative cases, signed by an auth hook,
judged by schemathesis' status-code, content-type, schema, server-error and negative-data checks
and by the RPC-style judgement of each error code. A failed check counts only against the
requirement it supports (`check_requirement`); what no source describes (an unlisted status, a
5xx, accepted negative data, an error code the document does not list) is an observation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup

from conformance.spec import load_spec
from conformance.suite import strategies as S
from conformance.suite.server.answers import error_code_verdict
from conformance.suite.server.harness import ServerHarness
from conformance.suite.server.schemathesis_run import (
    CHECKS,
    OBSERVED_CHECKS,
    call_case,
    case_strategies,
    check_requirement,
    load_schema,
    signing_auth,
)

IDS = ("protocol.envelope.success", "protocol.envelope.error", "protocol.content-type")
# A documented code at a status none of its rows gives fails that row's requirement.
_ROW_IDS = tuple(dict.fromkeys(f"doc.error.{r.http_status}.{r.code}" for r in load_spec().errors))


@pytest.mark.requirement(*IDS, *_ROW_IDS)
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

    @ecs.given(data=st.data(), arrange=st.booleans(), scale=0.5)
    def run(data: st.DataObject, arrange: bool) -> None:
        case = data.draw(st.one_of(strategies), label="case")
        if arrange and control:
            arrange_for(case)
        response, exchange = call_case(case, ecs.target)
        if response is None or exchange.response is None:
            # the target gave no answer (or one too large to read)
            raise ecs.fail(
                IDS, expected="an HTTP answer", received=exchange.summary(), exchange=exchange
            )
        curl = ecs.target.credentials.redact(case.as_curl_command())
        status = int(response.status_code)
        failed: dict[str, str] = {}
        for check in CHECKS:
            try:
                case.validate_response(response, checks=[check])
            except (AssertionError, FailureGroup) as exc:  # how schemathesis reports a failure
                text = str(exc)[:1500]
                rid = check_requirement(check.__name__, status)
                if rid is None:
                    ecs.observe_unsourced(
                        OBSERVED_CHECKS[check.__name__], f"HTTP {status}: {text[:300]}"
                    )
                else:
                    failed.setdefault(rid, f"{check.__name__}: {text}")
        rid, text = error_code_verdict(ecs.spec, status, exchange.response.code)
        if rid is not None:
            failed.setdefault(rid, text)
        elif text:
            ecs.observe_unsourced("undocumented-code", text)
        if failed:
            raise ecs.fail(
                [r for r in failed if r in IDS] + [r for r in failed if r not in IDS],
                expected="every check a source supports passes",
                received="; ".join(f"{r}: {t}" for r, t in failed.items())[:3000],
                note=curl,
            )

    run()
    ecs.unjudged(
        _ROW_IDS,
        "schemathesis judges an error row only when it meets the row's code at a status the "
        "document does not give it; the error tests verify the rows",
    )
