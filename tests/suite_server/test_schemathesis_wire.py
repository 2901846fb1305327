"""The schemathesis harness sends only wire forms the document allows: with booleans typed as
booleans in the spec, positive cases carry the spellings of `x-wire-booleans` (True, true,
TRUE, ...) and the Format forms of `x-wire-values`; repeat lists travel as `Name.N`."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conformance.config import Credentials
from conformance.spec import load_spec
from conformance.suite.server.schemathesis_run import (
    _clean,
    case_strategies,
    load_schema,
    signing_auth,
    wire_schema,
)

SPEC = load_spec()
AUTH = signing_auth(SPEC, Credentials("testid", "testsecret"), safe_ids=True)
POSITIVE = st.one_of(
    case_strategies(load_schema(SPEC), ["GET", "POST"], AUTH, modes=(GenerationMode.POSITIVE,))
)


def _sent(case: Any) -> dict[str, Any]:
    sent = dict(_clean(case.query))
    if isinstance(case.body, dict):
        sent.update(_clean(case.body))
    return sent


@settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=POSITIVE)
def test_positive_cases_send_listed_spellings(case: Any) -> None:
    sent = _sent(case)
    booleans = SPEC.profile.booleans
    for p in SPEC.boolean_parameters:
        if p.name in sent:
            value = sent[p.name]
            assert value in booleans.accepted(True) + booleans.accepted(False), (p.name, value)
    fmt = SPEC.profile.common_parameter("Format")
    if "Format" in sent:
        assert sent["Format"].upper() in fmt.enum, sent["Format"]


def test_every_listed_spelling_is_generated() -> None:
    """The wire schema lists every accepted spelling, SDK forms first (True before true)."""
    seen: set[str] = set()
    flag = SPEC.boolean_parameters[0].name

    @settings(max_examples=200, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=POSITIVE)
    def collect(case: Any) -> None:
        value = _sent(case).get(flag)
        if isinstance(value, str):
            seen.add(value)

    collect()
    assert seen == set(SPEC.profile.booleans.all_accepted)


def test_wire_schema_of_a_boolean() -> None:
    param = next(
        p
        for p in SPEC.openapi["paths"]["/"]["get"]["parameters"]
        if p["name"] == SPEC.boolean_parameters[0].name
    )
    wire = wire_schema(param["schema"])
    assert wire["type"] == "string"
    assert wire["enum"] == list(SPEC.profile.booleans.all_accepted)
    assert wire["default"] == SPEC.boolean_parameters[0].default
    untouched = {"type": "string", "x-document-type": "String"}
    assert wire_schema(untouched) == untouched


def test_repeat_lists_travel_numbered() -> None:
    assert _clean({"InstanceId": ["i-1", "i-2"]}, frozenset({"InstanceId"})) == {
        "InstanceId.1": "i-1",
        "InstanceId.2": "i-2",
    }
    tags = [{"Key": "a", "Value": "1"}]
    assert _clean({"Tag": tags}, frozenset({"Tag"})) == {"Tag.1.Key": "a", "Tag.1.Value": "1"}
    assert _clean({"Other": ["x", "y"]}) == {"Other": ["x", "y"]}
