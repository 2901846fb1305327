"""Precision of the server suite's judgements (issue: verdicts you can trust): what a source
words is compared, what none words is not, and what none describes is an observation."""

from __future__ import annotations

from conformance.spec import load_spec
from conformance.suite.oracle import LifecycleOracle, ModelInstance
from conformance.suite.server.answers import error_code_verdict
from conformance.suite.server.schemathesis_run import check_requirement
from conformance.targets.base import Condition

SPEC = load_spec()


def test_an_invented_gateway_message_is_not_held_against_a_server() -> None:
    """Observation 1: ForceStop=1 answered 400 InvalidParameter with a message of its own."""
    variants = SPEC.gateway_variants("invalid_parameter", Name="ForceStop")
    assert all(v.message is None and v.message_strictness == "not-held" for v in variants)
    message = "Specified parameter ForceStop is not valid."
    assert any(v.matches("InvalidParameter", 400, message) for v in variants)
    assert not any(v.matches("InvalidParameter", 403, message) for v in variants)
    assert not any(v.matches("InvalidThing", 400, message) for v in variants)


def test_a_message_a_source_words_is_still_compared() -> None:
    (mismatch,) = SPEC.gateway_variants("signature_mismatch", string_to_sign="POST&%2F&x")
    ok = "Specified signature is not matched. server string to sign is:POST&%2F&x"
    assert mismatch.matches(mismatch.code, mismatch.http_status, ok)
    assert not mismatch.matches(mismatch.code, mismatch.http_status, "Signature wrong")


def test_an_undocumented_code_for_an_undescribed_input_is_an_observation() -> None:
    """Observation 2: an empty Format= answered 400 InvalidParameter.Format."""
    rid, text = error_code_verdict(SPEC, 400, "InvalidParameter.Format")
    assert rid is None and "InvalidParameter.Format" in text
    assert error_code_verdict(SPEC, 404, "InvalidInstanceId.NotFound") == (None, "")
    rid, _ = error_code_verdict(SPEC, 400, "InvalidInstanceId.NotFound")
    assert rid == "doc.error.404.InvalidInstanceId.NotFound"
    assert error_code_verdict(SPEC, 400, None)[0] == "protocol.envelope.error"


def test_a_schemathesis_check_fails_only_the_requirement_it_supports() -> None:
    assert check_requirement("content_type_conformance", 200) == "protocol.content-type"
    assert check_requirement("response_schema_conformance", 200) == "protocol.envelope.success"
    assert check_requirement("response_schema_conformance", 404) == "protocol.envelope.error"
    for observed in ("status_code_conformance", "not_a_server_error", "negative_data_rejection"):
        assert check_requirement(observed, 502) is None


def test_stopping_is_an_accepted_transient_status_on_every_target() -> None:
    oracle = LifecycleOracle(SPEC)
    _, after = oracle.reboot(ModelInstance(Condition(SPEC.precondition_status)))
    assert after is not None
    allowed = oracle.acceptable_statuses(after, clock_may_settle=False, real_service=False)
    assert {"Starting", "Stopping"} <= allowed
