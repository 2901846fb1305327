"""envelopes.py: bodies render from the profile and parse back; garbage never raises."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.protocol.envelopes import (
    ApiError,
    Envelopes,
    ResponseFormat,
    WireResponse,
    new_request_id,
    parse_response,
)
from conformance.spec.facts import Profile
from conformance.spec.model import ErrorVariant

FORMATS = list(ResponseFormat)
# XML 1.0 cannot carry most control characters; keep to printable text for the round trip.
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"), max_size=40
)


@pytest.fixture(scope="module")
def envelopes(typed_profile: Profile) -> Envelopes:
    return Envelopes.from_profile(typed_profile)


def test_from_profile_reads_the_profile(envelopes: Envelopes, profile: dict[str, Any]) -> None:
    error = profile["envelopes"]["error"]
    assert envelopes.error_fields == tuple(error["fields"])
    assert envelopes.host_id == error["host_id"]
    for fmt in FORMATS:
        assert envelopes.content_type(fmt) == profile["formats"]["content_types"][fmt.value]


def test_the_spec_gives_the_same_envelopes(typed_profile: Profile) -> None:
    # load_spec() builds its profile from the OpenAPI's x-protocol: the same facts.
    from conformance.spec import load_spec

    assert Envelopes.from_profile(load_spec().profile) == Envelopes.from_profile(typed_profile)


@pytest.mark.parametrize("fmt", FORMATS)
def test_success_round_trip(envelopes: Envelopes, fmt: ResponseFormat) -> None:
    rid = new_request_id()
    body, ctype = envelopes.render_success("RebootInstance", {"RequestId": rid}, fmt)
    response = parse_response(200, {"Content-Type": ctype}, body)
    assert response.format is fmt and response.parse_error is None
    assert response.data == {"RequestId": rid}
    assert response.request_id == rid
    if fmt is ResponseFormat.XML:
        root = envelopes.success_xml_root.replace("{Action}", "RebootInstance")
        assert response.xml_root == root
        assert f"<{root}><RequestId>{rid}</RequestId></{root}>".encode() in body
    else:
        assert body == json.dumps({"RequestId": rid}, separators=(",", ":")).encode()


def test_xml_nesting_and_lists(envelopes: Envelopes) -> None:
    fields = {
        "RequestId": "R",
        "Instances": {
            "Instance": [{"InstanceId": "i-a", "Status": "Running"}, {"InstanceId": "i-b"}]
        },
        "TotalCount": 2,
        "Flag": True,
        "Nothing": None,
    }
    body, _ = envelopes.render_success("DescribeInstances", fields, ResponseFormat.XML)
    text = body.decode()
    assert (
        "<Instances><Instance><InstanceId>i-a</InstanceId><Status>Running</Status></Instance>"
        in text
    )
    assert "<Instance><InstanceId>i-b</InstanceId></Instance></Instances>" in text
    assert "<TotalCount>2</TotalCount><Flag>true</Flag><Nothing></Nothing>" in text
    data = parse_response(200, {}, body).data
    assert data is not None
    assert data["Instances"]["Instance"] == [
        {"InstanceId": "i-a", "Status": "Running"},
        {"InstanceId": "i-b"},
    ]


@given(st.sampled_from(FORMATS), XML_TEXT, XML_TEXT)
def test_error_round_trip(
    envelopes: Envelopes, fmt: ResponseFormat, code: str, message: str
) -> None:
    rid = new_request_id()
    body, ctype = envelopes.render_error(ApiError(400, code, message), fmt, rid)
    response = parse_response(400, {"content-type": ctype}, body)
    assert response.parse_error is None
    assert (response.code or "", response.message or "") == (code, message)
    assert response.request_id == rid
    assert response.host_id == envelopes.host_id
    assert list(response.data or {}) == list(envelopes.error_fields)


def test_error_envelope_fields(envelopes: Envelopes, profile: dict[str, Any]) -> None:
    raw = profile["gateway_errors"]["nonce_used"]["variants"][0]
    variant = ErrorVariant(raw["code"], raw["http_status"], raw["emulator_message"])
    error = ApiError.from_variant(variant, headers={"Retry-After": "1"})
    assert (error.http_status, error.code, error.message) == (
        variant.http_status,
        variant.code,
        variant.emulator_message,
    )
    body, ctype = envelopes.render_error(error, ResponseFormat.JSON, "RID-1")
    data = json.loads(body)
    template = profile["envelopes"]["error"]["recommend"]
    assert data["Recommend"] == template.replace("{Code}", variant.code).replace(
        "{RequestId}", "RID-1"
    )
    assert all(not isinstance(v, dict | list) for v in data.values())  # flat
    xml, xml_type = envelopes.render_error(error, ResponseFormat.XML, "RID-1")
    assert xml_type != ctype
    assert parse_response(400, {"content-type": xml_type}, xml).xml_root == envelopes.error_xml_root


def test_request_id_shape() -> None:
    rid = new_request_id()
    parts = rid.split("-")
    assert [len(p) for p in parts] == [8, 4, 4, 4, 12] and rid == rid.upper()
    assert new_request_id() != rid


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/html", b"<html><body><h1>502 Bad Gateway</h1><br></body></html>"),
        ("application/json", b""),
        ("application/json", b'{"RequestId": "abc", "Code": '),
        ("application/json", b"[1, 2]"),
        ("application/json", b"\xff\xfe garbage"),
        ("text/xml", b"<Error><Code>X</Code>"),
        (None, b"plain text"),
        (None, b"   "),
        ("application/json", b"[" * 100_000),
    ],
)
def test_wire_response_never_raises_on_garbage(ctype: str | None, body: bytes) -> None:
    headers = {"content-type": ctype} if ctype else {}
    response = parse_response(502, headers, body)
    assert response.data is None
    assert response.parse_error
    assert response.code is None and response.message is None and response.host_id is None


def test_request_id_falls_back_to_the_header(envelopes: Envelopes) -> None:
    headers = [(envelopes.request_id_header.title(), "HDR"), ("Content-Type", "text/html")]
    response = parse_response(
        500, headers, b"<p>oops", request_id_header=envelopes.request_id_header
    )
    assert response.request_id == "HDR"
    assert parse_response(500, headers, b"<p>oops").request_id is None  # no header named
    assert response.headers["content-type"] == "text/html"
    assert WireResponse(200, {}, b'{"RequestId": 5}').request_id is None  # not a string


def test_xml_error_with_forbidden_characters_still_parses() -> None:
    import xml.etree.ElementTree as ET

    from conformance.protocol.envelopes import ApiError, Envelopes, ResponseFormat
    from conformance.spec import load_spec

    envelopes = Envelopes.from_profile(load_spec().profile)
    error = ApiError(400, "InvalidParameter", "bad \x01 value \ud800 here")
    body, _ = envelopes.render_error(error, ResponseFormat.XML, "RID")
    root = ET.fromstring(body)
    assert root.find("Code") is not None


def test_nonce_store_is_bounded() -> None:
    from conformance.protocol.gateway import NonceStore

    store = NonceStore(900, max_entries=100)
    for i in range(1000):
        assert store.use("id", f"n{i}", 1000.0, 1000.0)
    assert len(store) <= 100
    assert not store.use("id", "n999", 1000.0, 1000.0)


@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),  # nonce
            st.floats(min_value=-30, max_value=30),  # timestamp, relative to now
            st.floats(min_value=0, max_value=40),  # how far the clock moved before the call
        ),
        max_size=40,
    )
)
def test_nonce_store_answers_as_a_plain_dict_of_expiries(
    calls: list[tuple[str, float, float]],
) -> None:
    """Below its bound the store refuses a nonce exactly while the plain model (every nonce
    with its expiry, nothing forgotten) still holds it, whatever the timestamps and the clock."""
    from conformance.protocol.gateway import NonceStore

    window = 20.0
    store = NonceStore(window)
    model: dict[str, float] = {}
    now = 1_000.5
    for nonce, offset, elapsed in calls:
        now += elapsed
        stamp = now + offset
        fresh = model.get(nonce, -1.0) < now
        if fresh:
            model[nonce] = max(stamp, now) + window
        assert store.use("id", nonce, stamp, now) is fresh
        assert len(store) <= len(model)


def test_nonce_store_at_its_bound_forgets_the_soonest_expiring_first() -> None:
    from conformance.protocol.gateway import NonceStore

    store = NonceStore(900, max_entries=3)
    assert store.use("id", "late", 1050.0, 1000.0)  # expires last
    for i in range(5):
        assert store.use("id", f"n{i}", 1000.0 + i, 1000.0 + i)
    assert len(store) == 3
    assert not store.use("id", "late", 1050.0, 1004.0)
    assert not store.use("id", "n4", 1004.0, 1004.0)
    assert store.use("id", "n0", 1004.0, 1004.0)  # dropped for room, so taken again


@given(
    code=st.text(min_size=1, max_size=20),
    message=st.text(max_size=60),
    request_id=st.one_of(st.uuids().map(lambda u: str(u).upper()), st.text(max_size=20)),
)
def test_cached_error_bodies_equal_freshly_rendered_ones(
    code: str, message: str, request_id: str
) -> None:
    """The emulator's template cache renders exactly what a fresh encoding would."""
    from conformance.protocol.envelopes import ApiError, Envelopes, ResponseFormat
    from conformance.spec import load_spec

    envelopes = Envelopes.from_profile(load_spec().profile)
    error = ApiError(400, code, message)
    for fmt in ResponseFormat:
        fresh = envelopes._render(
            envelopes.error_xml_root, envelopes.error_fields_for(error, request_id), fmt
        )
        first, _ = envelopes.render_error(error, fmt, request_id)
        again, _ = envelopes.render_error(error, fmt, request_id)
        assert first == fresh == again
