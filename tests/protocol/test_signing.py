"""signing.py: round trips over arbitrary parameters, the fast signer, Authorization parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.protocol.signing import (
    SignatureFormatError,
    V2Signer,
    parse_authorization_v3,
    sign_v2,
    signed_headers_v3,
    signed_params_v2,
    verify_v2,
    verify_v3,
)
from conformance.protocol.wire import canonical_query, merge_params, parse_urlencoded

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
# Names the signer adds itself: an API parameter of the same name would be sent twice.
SIGNER_NAMES = {
    "Signature",
    "Action",
    "Version",
    "AccessKeyId",
    "Format",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
}
API_PARAMS = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15).filter(
        lambda n: n not in SIGNER_NAMES
    ),
    TEXT,
    max_size=6,
)
COMMON = {"action": "RebootInstance", "version": "2014-05-26", "access_key_id": "id"}


@given(API_PARAMS, TEXT.filter(bool), st.sampled_from(["GET", "POST"]))
def test_v2_sign_then_verify_over_the_wire(
    api_params: dict[str, str], secret: str, method: str
) -> None:
    params = signed_params_v2(method, api_params, access_key_secret=secret, **COMMON)
    # Through the wire: encode, parse back, verify (as the gateway would).
    received = merge_params(parse_urlencoded(canonical_query(params.items())))
    assert received == params
    assert verify_v2(method, received, secret).ok
    assert not verify_v2(method, received, secret + "x").ok


@given(API_PARAMS, st.text(min_size=1, max_size=10))
def test_v2_any_changed_value_breaks_the_signature(api_params: dict[str, str], extra: str) -> None:
    params = signed_params_v2("POST", api_params, access_key_secret="s", **COMMON)
    for name in params:
        if name == "Signature":
            continue
        tampered = {**params, name: params[name] + extra}
        assert not verify_v2("POST", tampered, "s").ok


@given(API_PARAMS)
def test_v2_signer_fast_path_matches_the_plain_path(api_params: dict[str, str]) -> None:
    signer = V2Signer("GET", access_key_secret="s", **COMMON)
    query = signer.signed_query(api_params, nonce="n-1", timestamp="2026-11-27T14:06:15Z")
    received = merge_params(parse_urlencoded(query))
    expected = signed_params_v2(
        "GET",
        api_params,
        access_key_secret="s",
        nonce="n-1",
        timestamp="2026-11-27T14:06:15Z",
        **COMMON,
    )
    assert received == expected


def test_signed_params_v2_defaults_are_fresh() -> None:
    a = signed_params_v2("GET", {}, access_key_secret="s", **COMMON)
    b = signed_params_v2("GET", {}, access_key_secret="s", **COMMON)
    assert a["SignatureNonce"] != b["SignatureNonce"]
    assert a["Signature"] == sign_v2("GET", a, "s")
    token = signed_params_v2(
        "GET", {}, access_key_secret="s", security_token="t", fmt=None, **COMMON
    )
    assert token["SecurityToken"] == "t" and "Format" not in token


@given(API_PARAMS, st.binary(max_size=64), TEXT.filter(bool))
def test_v3_sign_then_verify(api_params: dict[str, str], body: bytes, secret: str) -> None:
    headers = signed_headers_v3(
        "POST",
        "127.0.0.1:1",
        api_params,
        body=body,
        content_type="application/octet-stream",
        extra_headers={"User-Agent": "x", "x-acs-extra": " padded "},
        access_key_secret=secret,
        **COMMON,
    )
    auth = parse_authorization_v3(headers["authorization"])
    assert "content-type" in auth.signed_headers and "x-acs-extra" in auth.signed_headers
    assert "user-agent" not in auth.signed_headers
    query = parse_urlencoded(canonical_query(api_params.items()))
    assert verify_v3(auth, "POST", "/", query, headers, body, secret).ok
    assert not verify_v3(auth, "POST", "/", query, headers, body + b"!", secret).ok
    assert not verify_v3(auth, "GET", "/", query, headers, body, secret).ok


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        "ACS3-HMAC-SHA1 Credential=a,SignedHeaders=host,Signature=00",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=00",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;date,Signature=00",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=00",
    ],
)
def test_parse_authorization_v3_refuses_garbage(value: str) -> None:
    with pytest.raises(SignatureFormatError):
        parse_authorization_v3(value)


def test_parse_authorization_v3_tolerates_spacing() -> None:
    auth = parse_authorization_v3(
        "ACS3-HMAC-SHA256 Credential=ak, SignedHeaders=Host;X-Acs-Date, Signature=ab12"
    )
    assert auth == ("ak", ("host", "x-acs-date"), "ab12")
