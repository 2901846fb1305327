"""Every vector of signature-vectors.json verifies: published ones and SDK recordings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol.signing import (
    canonical_request_v3,
    parse_authorization_v3,
    sign_v2,
    sign_v3,
    signed_headers_v3,
    signed_params_v2,
    string_to_sign_v2,
    string_to_sign_v3,
    verify_v2,
    verify_v3,
)
from conformance.protocol.wire import merge_params, parse_urlencoded

# Common parameters that signed_params_v2 adds itself (docs/protocol.md#common-parameters).
_ADDED_BY_SIGNER = {
    "AccessKeyId",
    "Action",
    "Format",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
}


def _headers(vector: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in vector["request"]["headers"]}


def _recorded_params(vector: dict[str, Any]) -> dict[str, str]:
    request = vector["request"]
    return merge_params(
        parse_urlencoded(request["raw_query"]), parse_urlencoded(request["body"].encode())
    )


def test_shipped_copy_matches_shared_vectors(vector_files: tuple[Path, Path | None]) -> None:
    shipped, shared = vector_files
    if shared is None:
        pytest.skip("no upstream copy ($ECS_SHARED_DIR): the shipped copy is the only source")
    assert json.loads(shipped.read_text()) == json.loads(shared.read_text())


def test_official_vector(official_vector: dict[str, Any]) -> None:
    v = official_vector
    secret = v["access_key_secret"]
    if v["signature_version"] == "v2":
        params = v["params"]
        if "string_to_sign" in v:
            assert string_to_sign_v2(v["method"], params) == v["string_to_sign"]
        assert sign_v2(v["method"], params, secret) == v["signature"]
        assert verify_v2(v["method"], {**params, "Signature": v["signature"]}, secret).ok
        # The builder reproduces the same request from its API parameters.
        rebuilt = signed_params_v2(
            v["method"],
            {k: p for k, p in params.items() if k not in _ADDED_BY_SIGNER},
            action=params["Action"],
            version=params["Version"],
            access_key_id=params["AccessKeyId"],
            access_key_secret=secret,
            fmt=params.get("Format"),
            nonce=params["SignatureNonce"],
            timestamp=params["Timestamp"],
        )
        assert rebuilt == {**params, "Signature": v["signature"]}
        return
    query = parse_urlencoded(v["query"])
    canonical = canonical_request_v3(
        v["method"], "/", query, v["headers"], v["signed_headers"], v["body"].encode()
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == v["hashed_canonical_request"]
    assert sign_v3(string_to_sign_v3(canonical), secret) == v["signature"]
    h = v["headers"]
    built = signed_headers_v3(
        v["method"],
        v["host"],
        dict(query),
        action=h["x-acs-action"],
        version=h["x-acs-version"],
        access_key_id=v["access_key_id"],
        access_key_secret=secret,
        body=v["body"].encode(),
        nonce=h["x-acs-signature-nonce"],
        timestamp=h["x-acs-date"],
    )
    auth = parse_authorization_v3(built["authorization"])
    assert auth.signature == v["signature"]
    assert list(auth.signed_headers) == v["signed_headers"]
    assert {k: built[k] for k in h} == h


def test_recorded_v2_vector(recorded_v2_vector: dict[str, Any], vectors: dict[str, Any]) -> None:
    v = recorded_v2_vector
    secret = vectors["recorded_credentials"]["access_key_secret"]
    method = v["request"]["method"]
    params = _recorded_params(v)
    assert params["Signature"] == v["expected_signature"]
    assert string_to_sign_v2(method, params) == v["string_to_sign"]
    assert sign_v2(method, params, secret) == v["expected_signature"]
    assert verify_v2(method, params, secret) == (True, v["string_to_sign"])


def test_recorded_v3_vector(recorded_v3_vector: dict[str, Any], vectors: dict[str, Any]) -> None:
    v = recorded_v3_vector
    secret = vectors["recorded_credentials"]["access_key_secret"]
    request = v["request"]
    headers = _headers(v)
    auth = parse_authorization_v3(headers["authorization"])
    assert auth.access_key_id == vectors["recorded_credentials"]["access_key_id"]
    assert list(auth.signed_headers) == v["signed_headers"]
    query = parse_urlencoded(request["raw_query"])
    body = request["body"].encode()
    canonical = canonical_request_v3(
        request["method"], request["path"], query, headers, auth.signed_headers, body
    )
    assert canonical == v["canonical_request"]
    assert string_to_sign_v3(canonical) == v["string_to_sign"]
    assert sign_v3(v["string_to_sign"], secret) == v["expected_signature"] == auth.signature
    assert verify_v3(auth, request["method"], "/", query, headers, body, secret) == (
        True,
        v["string_to_sign"],
    )


def test_recorded_v2_vector_fails_with_another_method(
    recorded_v2_vector: dict[str, Any], vectors: dict[str, Any]
) -> None:
    # docs/protocol.md#signature-v2 step 4: the method is part of the string to sign.
    secret = vectors["recorded_credentials"]["access_key_secret"]
    other = "GET" if recorded_v2_vector["request"]["method"] == "POST" else "POST"
    assert not verify_v2(other, _recorded_params(recorded_v2_vector), secret).ok


def test_recorded_v3_vector_fails_with_a_changed_signed_header(
    recorded_v3_vector: dict[str, Any], vectors: dict[str, Any]
) -> None:
    secret = vectors["recorded_credentials"]["access_key_secret"]
    request = recorded_v3_vector["request"]
    headers = _headers(recorded_v3_vector)
    auth = parse_authorization_v3(headers["authorization"])
    headers["x-acs-date"] = headers["x-acs-date"].replace("14:", "15:")
    query = parse_urlencoded(request["raw_query"])
    assert not verify_v3(auth, request["method"], "/", query, headers, b"", secret).ok
