"""gateway.py: the checks of docs/protocol.md#gateway-errors, in order, answered from the profile's
variants."""

from __future__ import annotations

import threading
import timeit
from collections.abc import Callable
from typing import Any

import pytest

from conformance.protocol.envelopes import ApiError, ResponseFormat
from conformance.protocol.gateway import Gateway, RpcRequest
from conformance.protocol.signing import (
    parse_authorization_v3,
    signed_headers_v3,
    signed_params_v2,
)
from conformance.protocol.wire import canonical_query, parse_timestamp
from conformance.spec.facts import Profile
from conformance.spec.model import ErrorVariant

ACTION = "RebootInstance"
AK, SECRET = "testid", "testsecret"
NOW = "2026-11-27T14:06:15Z"
NOW_TS = parse_timestamp(NOW).timestamp()
Raw = tuple[str, bytes, dict[str, str], bytes]


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_gateway(
    profile: dict[str, Any],
    typed_profile: Profile,
    gateway_errors: dict[str, tuple[ErrorVariant, ...]],
    vectors: dict[str, Any],
) -> Callable[..., Gateway]:
    creds = vectors["recorded_credentials"]

    def make(clock: Callable[[], float] | None = None, **flags: bool) -> Gateway:
        return Gateway(
            {AK: SECRET, creds["access_key_id"]: creds["access_key_secret"]},
            {ACTION: profile["api"]["version"]},
            gateway_errors,
            typed_profile,
            clock or Clock(NOW_TS),
            **flags,
        )

    return make


@pytest.fixture
def version(profile: dict[str, Any]) -> str:
    return str(profile["api"]["version"])


def v2(
    version: str,
    *,
    method: str = "GET",
    in_body: bool = False,
    api: dict[str, str] | None = None,
    secret: str = SECRET,
    **overrides: str | None,
) -> Raw:
    """A signed V2 request; `overrides` replace (or with None, remove) parameters afterwards."""
    kwargs: dict[str, Any] = {
        "action": ACTION,
        "version": version,
        "access_key_id": AK,
        "access_key_secret": secret,
        "timestamp": NOW,
    }
    for key in ("action", "access_key_id", "timestamp", "nonce", "fmt"):
        if key in overrides:
            kwargs[key] = overrides.pop(key)
    params = signed_params_v2(method, api or {"InstanceId": "i-1"}, **kwargs)
    for name, value in overrides.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    encoded = canonical_query(params.items()).encode()
    if in_body:
        return method, b"", {"content-type": "application/x-www-form-urlencoded"}, encoded
    return method, encoded, {}, b""


def v3(version: str, *, body: bytes = b"", **kwargs: Any) -> Raw:
    query = kwargs.pop("query", {"InstanceId": "i-1"})
    headers = signed_headers_v3(
        "POST",
        "127.0.0.1:1",
        query,
        action=kwargs.pop("action", ACTION),
        version=version,
        access_key_id=kwargs.pop("access_key_id", AK),
        access_key_secret=kwargs.pop("access_key_secret", SECRET),
        timestamp=kwargs.pop("timestamp", NOW),
        body=body,
        **kwargs,
    )
    return "POST", canonical_query(query.items()).encode(), headers, body


def refused(gateway: Gateway, raw: Raw) -> ApiError:
    with pytest.raises(ApiError) as info:
        gateway.authenticate(*raw)
    return info.value


def assert_answer(
    error: ApiError,
    gateway_errors: dict[str, tuple[ErrorVariant, ...]],
    situation: str,
    **fields: str,
) -> None:
    expected = gateway_errors[situation][0].render(**fields)
    assert (error.code, error.http_status, error.message) == (
        expected.code,
        expected.http_status,
        expected.emulator_message,
    )


# -- recorded SDK requests ----------------------------------------------------------------


def _recorded_raw(vector: dict[str, Any]) -> Raw:
    request = vector["request"]
    headers = {k.lower(): v for k, v in request["headers"]}
    return (
        request["method"],
        request["raw_query"].encode(),
        headers,
        request["body"].encode(),
    )


def _recorded_time(raw: Raw) -> float:
    _, query, headers, body = raw
    for blob in (query, body):
        for part in blob.split(b"&"):
            if part.startswith(b"Timestamp="):
                return parse_timestamp(part[10:].decode().replace("%3A", ":")).timestamp()
    return parse_timestamp(headers["x-acs-date"]).timestamp()


def test_accepts_every_recorded_request(
    recorded_vector: dict[str, Any],
    make_gateway: Callable[..., Gateway],
    profile: dict[str, Any],
    gateway_errors: dict[str, tuple[ErrorVariant, ...]],
) -> None:
    raw = _recorded_raw(recorded_vector)
    gateway = make_gateway(Clock(_recorded_time(raw)))
    request = gateway.authenticate(*raw)
    assert isinstance(request, RpcRequest)
    assert (request.action, request.version) == (ACTION, profile["api"]["version"])
    assert request.signature_version == (
        "v3" if recorded_vector["signature_version"] == "v3" else "v2"
    )
    assert request.method == raw[0]
    assert request.params["InstanceId"] == request.api_params["InstanceId"]
    common = {p["name"] for p in profile["common_parameters"]}
    assert not common & set(request.api_params)
    # Format=json/JSON asked by these clients; V3 clients ask nothing and get JSON.
    assert request.fmt is ResponseFormat.JSON
    if "OwnerAccount" in request.api_params:
        assert request.api_params["OwnerAccount"] == "test user*~/:@=&+%é中"
    assert request.timestamp is not None and request.timestamp.timestamp() == _recorded_time(raw)
    # ... and refuses the same request again: its nonce is now used.
    with pytest.raises(ApiError) as info:
        gateway.authenticate(*raw)
    assert info.value.code == gateway_errors["nonce_used"][0].code


def test_refuses_tampered_recorded_requests(
    recorded_vector: dict[str, Any],
    make_gateway: Callable[..., Gateway],
    gateway_errors: dict[str, tuple[ErrorVariant, ...]],
) -> None:
    method, query, headers, body = _recorded_raw(recorded_vector)
    if recorded_vector["signature_version"] == "v3":
        headers["authorization"] = headers["authorization"][:-4] + "0000"
    elif b"Signature=" in query:
        query = query.replace(b"Signature=", b"Signature=A")
    else:
        body = body.replace(b"Signature=", b"Signature=A")
    gateway = make_gateway(Clock(_recorded_time((method, query, headers, body))))
    error = refused(gateway, (method, query, headers, body))
    assert_answer(
        error,
        gateway_errors,
        "signature_mismatch",
        string_to_sign=recorded_vector["string_to_sign"],
    )
    # docs/protocol.md#responses: the old Python SDK needs the `:` of this suffix.
    assert " server string to sign is:" in error.message
    assert error.fmt is ResponseFormat.JSON
    # A refused request does not burn its nonce: the genuine one still passes.
    gateway.authenticate(*_recorded_raw(recorded_vector))


def test_recorded_request_with_another_method_is_refused(
    recorded_v2_vector: dict[str, Any], make_gateway: Callable[..., Gateway]
) -> None:
    method, query, headers, body = _recorded_raw(recorded_v2_vector)
    other = "GET" if method == "POST" else "POST"
    gateway = make_gateway(Clock(_recorded_time((method, query, headers, body))))
    error = refused(gateway, (other, query, headers, body))
    assert error.message.endswith(
        other + "&%2F&" + recorded_v2_vector["string_to_sign"].split("&", 2)[2]
    )


# -- built requests: every situation of docs/protocol.md#gateway-errors ----------------------------

Errors = dict[str, tuple[ErrorVariant, ...]]


def test_accepts_v2_in_query_and_in_body(
    make_gateway: Callable[..., Gateway], version: str
) -> None:
    gateway = make_gateway()
    for method in ("GET", "POST"):
        for in_body in (False, True):
            request = gateway.authenticate(*v2(version, method=method, in_body=in_body))
            assert request.api_params == {"InstanceId": "i-1"}
            assert request.access_key_id == AK and request.signature_version == "v2"


def test_query_and_body_are_merged_and_signed_together(
    make_gateway: Callable[..., Gateway], version: str
) -> None:
    method, query, _, _ = v2(version, method="POST", api={"InstanceId": "i-1", "ForceStop": "true"})
    parts = query.split(b"&")
    body = b"&".join(p for p in parts if p.startswith((b"InstanceId=", b"ForceStop=")))
    rest = b"&".join(p for p in parts if not p.startswith((b"InstanceId=", b"ForceStop=")))
    request = make_gateway().authenticate(method, rest, {}, body)  # no content-type: form
    assert request.api_params == {"InstanceId": "i-1", "ForceStop": "true"}


def test_default_and_explicit_formats(
    make_gateway: Callable[..., Gateway],
    version: str,
    profile: dict[str, Any],
    gateway_errors: Errors,
) -> None:
    gateway = make_gateway()
    default = ResponseFormat(profile["formats"]["default_v2"])
    assert gateway.authenticate(*v2(version, fmt=None)).fmt is default
    assert gateway.authenticate(*v2(version, fmt="xml")).fmt is ResponseFormat.XML
    assert gateway.authenticate(*v2(version, fmt="Json")).fmt is ResponseFormat.JSON
    error = refused(gateway, v2(version, fmt="YAML"))
    assert_answer(error, gateway_errors, "invalid_parameter", Name="Format")
    assert error.fmt is default
    assert gateway.authenticate(*v3(version)).fmt is ResponseFormat(
        profile["formats"]["default_v3"]
    )


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "get"])
def test_refuses_other_methods(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors, method: str
) -> None:
    _, query, headers, body = v2(version)
    assert_answer(
        refused(make_gateway(), (method, query, headers, body)),
        gateway_errors,
        "unsupported_method",
    )


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"a=%", b""),
        (b"a=%FF", b""),
        (b"InstanceId=i-1&InstanceId=i-1", b""),
        (b"InstanceId=i-1", b"InstanceId=i-2"),
    ],
    ids=["lone-percent", "bad-utf8", "duplicate", "duplicate-across"],
)
def test_unreadable_requests_are_bad_requests(
    make_gateway: Callable[..., Gateway], gateway_errors: Errors, query: bytes, body: bytes
) -> None:
    error = refused(make_gateway(), ("POST", query, {}, body))
    assert error.code == gateway_errors["bad_request"][0].code
    assert gateway_errors["bad_request"][0].matches(error.code, error.http_status, error.message)
    assert "{reason}" not in error.message


@pytest.mark.parametrize(
    "name", ["Action", "Version", "AccessKeyId", "Signature", "SignatureNonce", "Timestamp"]
)
def test_missing_common_parameters(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors, name: str
) -> None:
    error = refused(make_gateway(), v2(version, **{name: None}))
    assert_answer(error, gateway_errors, "missing_parameter", Name=name)


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-27 14:06:15Z",
        "2026-11-27T14:06:15.000Z",
        "2026-11-27T14:06:15+08:00",
        "1795788375",
        "x",
    ],
)
def test_malformed_timestamps(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors, timestamp: str
) -> None:
    error = refused(make_gateway(), v2(version, timestamp=timestamp))
    assert_answer(error, gateway_errors, "timestamp_format")


def test_stale_and_future_timestamps(
    make_gateway: Callable[..., Gateway],
    version: str,
    gateway_errors: Errors,
    profile: dict[str, Any],
) -> None:
    skew = profile["timestamp"]["max_skew_seconds"]
    for offset in (skew + 1, -skew - 1):
        error = refused(make_gateway(Clock(NOW_TS + offset)), v2(version))
        assert_answer(error, gateway_errors, "timestamp_expired")
    for offset in (skew, -skew):
        make_gateway(Clock(NOW_TS + offset)).authenticate(*v2(version))


def test_unknown_access_key(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    error = refused(make_gateway(), v2(version, access_key_id="nobody"))
    assert_answer(error, gateway_errors, "access_key_not_found")
    error = refused(make_gateway(), v3(version, access_key_id="nobody"))
    assert_answer(error, gateway_errors, "access_key_not_found")


def test_unknown_action_or_version(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    gateway = make_gateway()
    for raw in (
        v2(version, action="NoSuchAction"),
        v2("2099-01-01"),
        v3(version, action="NoSuchAction"),
    ):
        assert_answer(refused(gateway, raw), gateway_errors, "action_not_found")


def test_wrong_secret_is_a_signature_mismatch(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    error = refused(make_gateway(), v2(version, secret="wrong"))
    assert error.code == gateway_errors["signature_mismatch"][0].code
    assert " server string to sign is:GET&%2F&AccessKeyId%3D" in error.message


def test_replayed_nonce_is_refused_until_the_window_passes(
    make_gateway: Callable[..., Gateway],
    version: str,
    gateway_errors: Errors,
    profile: dict[str, Any],
) -> None:
    clock = Clock(NOW_TS)
    gateway = make_gateway(clock)
    raw = v2(version, nonce="n-1")
    gateway.authenticate(*raw)
    assert_answer(refused(gateway, raw), gateway_errors, "nonce_used")
    # Same nonce, another (valid) timestamp: still a replay.
    assert_answer(
        refused(gateway, v2(version, nonce="n-1", timestamp="2026-11-27T14:06:16Z")),
        gateway_errors,
        "nonce_used",
    )
    # Another key may use the same nonce value? No: keys are per AccessKeyId, one key here.
    gateway.reset()
    gateway.authenticate(*raw)
    assert gateway.remembered_nonces == 1
    # Bounded memory: once the window has passed, old nonces are forgotten.
    clock.now = NOW_TS + profile["timestamp"]["max_skew_seconds"] + 1
    gateway.authenticate(*v2(version, timestamp=format_ts(clock.now)))
    assert gateway.remembered_nonces == 1


def format_ts(seconds: float) -> str:
    from datetime import UTC, datetime

    from conformance.protocol.wire import format_timestamp

    return format_timestamp(datetime.fromtimestamp(seconds, UTC))


def test_nonce_is_used_once_under_concurrency(
    make_gateway: Callable[..., Gateway], version: str
) -> None:
    gateway = make_gateway()
    raw = v2(version, nonce="shared")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        try:
            gateway.authenticate(*raw)
            results.append(True)
        except ApiError:
            results.append(False)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_check_order(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    gateway = make_gateway()
    # Bad timestamp and unknown key and bad signature: the timestamp is checked first.
    raw = v2(version, timestamp="bad", access_key_id="nobody", Signature="x")
    assert_answer(refused(gateway, raw), gateway_errors, "timestamp_format")
    # Unknown key and unknown action: the key first.
    raw = v2(version, access_key_id="nobody", action="NoSuchAction")
    assert_answer(refused(gateway, raw), gateway_errors, "access_key_not_found")
    # Bad signature and unknown action: the signature first.
    raw = v2(version, action="NoSuchAction", Signature="x")
    assert refused(gateway, raw).code == gateway_errors["signature_mismatch"][0].code
    # Missing parameter and duplicated one: the unreadable request first.
    method, query, headers, body = v2(version, Timestamp=None)
    assert (
        refused(gateway, (method, query + b"&Action=x", headers, body)).code
        == gateway_errors["bad_request"][0].code
    )


def test_form_body_is_read_only_when_declared_as_form(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    method, _, _, body = v2(version, method="POST", in_body=True)
    error = refused(make_gateway(), (method, b"", {"content-type": "application/json"}, body))
    assert_answer(error, gateway_errors, "missing_parameter", Name="Action")
    ok = make_gateway().authenticate(
        method, b"", {"content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}, body
    )
    assert ok.api_params == {"InstanceId": "i-1"}


def test_v3_checks(
    make_gateway: Callable[..., Gateway], version: str, gateway_errors: Errors
) -> None:
    gateway = make_gateway()
    body = b"InstanceId=i-2"
    form = {"content_type": "application/x-www-form-urlencoded"}
    request = gateway.authenticate(*v3(version, body=body, query={"DryRun": "true"}, **form))
    assert request.api_params == {"DryRun": "true", "InstanceId": "i-2"}
    assert request.signature_version == "v3"
    # The body does not match x-acs-content-sha256.
    method, query, headers, _ = v3(version, body=body, query={}, **form)
    error = refused(gateway, (method, query, headers, b"InstanceId=i-3"))
    assert error.code == gateway_errors["signature_mismatch"][0].code
    assert " server string to sign is:ACS3-HMAC-SHA256\n" in error.message
    assert parse_authorization_v3(headers["authorization"]).access_key_id == AK
    # A tampered signed header.
    method, query, headers, body2 = v3(version)
    headers["x-acs-signature-nonce"] += "0"
    assert (
        refused(gateway, (method, query, headers, body2)).code
        == gateway_errors["signature_mismatch"][0].code
    )
    # Missing x-acs-date (unsigned here): reported under its V2 name.
    method, query, headers, body2 = v3(version)
    del headers["x-acs-date"]
    assert_answer(
        refused(gateway, (method, query, headers, body2)),
        gateway_errors,
        "missing_parameter",
        Name="Timestamp",
    )
    # Garbage Authorization.
    method, query, headers, body2 = v3(version)
    headers["authorization"] = "ACS3-HMAC-SHA256 nonsense"
    assert (
        refused(gateway, (method, query, headers, body2)).code
        == gateway_errors["bad_request"][0].code
    )
    # Replay.
    raw = v3(version, nonce="v3-nonce")
    gateway.authenticate(*raw)
    assert_answer(refused(gateway, raw), gateway_errors, "nonce_used")


def test_switches_turn_checks_off(make_gateway: Callable[..., Gateway], version: str) -> None:
    lax = make_gateway(
        Clock(NOW_TS + 10_000), verify_signatures=False, check_nonces=False, check_timestamps=False
    )
    raw = v2(version, Signature="forged")
    assert lax.authenticate(*raw).api_params == {"InstanceId": "i-1"}
    assert lax.authenticate(*raw).nonce == lax.authenticate(*raw).nonce
    assert lax.authenticate(*v2(version, timestamp="bad")).timestamp is None


def test_authenticate_cost(make_gateway: Callable[..., Gateway], version: str) -> None:
    """Cost per V2 request (report it with `-s`); a loose bound catches gross regressions."""
    gateway = make_gateway(check_nonces=False)
    raw = v2(
        version, method="POST", api={"InstanceId": "i-1", "ForceStop": "true", "DryRun": "false"}
    )
    gateway.authenticate(*raw)
    runs = 2000
    best = min(timeit.repeat(lambda: gateway.authenticate(*raw), number=runs, repeat=3)) / runs
    print(f"\nGateway.authenticate (V2, 11 params, no nonce store): {best * 1e6:.1f} us/request")
    assert best < 1e-3


# -- what a signature must cover (issue 12: no hole in the shared verifier) -----------------


def _v2_signed_over(version: str, overrides: dict[str, str | None]) -> Raw:
    """A V2 request whose common parameters are `overrides`, correctly signed over them."""
    params = signed_params_v2(
        "GET",
        {"InstanceId": "i-1"},
        action=ACTION,
        version=version,
        access_key_id=AK,
        access_key_secret=SECRET,
        timestamp=NOW,
        overrides=overrides,
    )
    return "GET", canonical_query(params.items()).encode(), {}, b""


@pytest.mark.parametrize(
    ("overrides", "situation", "name"),
    [
        ({"SignatureMethod": "none"}, "invalid_parameter", "SignatureMethod"),
        ({"SignatureMethod": "HMAC-SHA256"}, "invalid_parameter", "SignatureMethod"),
        ({"SignatureMethod": None}, "missing_parameter", "SignatureMethod"),
        ({"SignatureVersion": "9.9"}, "invalid_parameter", "SignatureVersion"),
        ({"SignatureVersion": None}, "missing_parameter", "SignatureVersion"),
    ],
)
def test_v2_algorithm_is_the_profiles(  # type: ignore[no-untyped-def]
    make_gateway, gateway_errors, version, overrides, situation, name
) -> None:
    raw = _v2_signed_over(version, overrides)
    assert_answer(refused(make_gateway(), raw), gateway_errors, situation, Name=name)
    make_gateway(check_signature_method=False).authenticate(*raw)  # the mutant's hole


@pytest.mark.parametrize(
    "signed",
    [
        ("host",),
        ("x-nothing",),
        ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-content-sha256"),
    ],
    ids=["host-only", "x-nothing", "nonce-unsigned"],
)
def test_v3_signed_headers_must_cover_host_and_every_x_acs_header(  # type: ignore[no-untyped-def]
    make_gateway, gateway_errors, version, signed
) -> None:
    raw = v3(version, sign=signed)
    error = refused(make_gateway(), raw)
    assert (error.code, error.http_status) == (
        gateway_errors["signature_mismatch"][0].code,
        gateway_errors["signature_mismatch"][0].http_status,
    )
    make_gateway(check_signed_headers=False).authenticate(*raw)  # the mutant's hole


def test_v3_an_unsigned_extra_x_acs_header_is_refused(make_gateway, version) -> None:  # type: ignore[no-untyped-def]
    method, query, headers, body = v3(version)
    headers["x-acs-added-later"] = "1"  # not in SignedHeaders
    error = refused(make_gateway(), (method, query, headers, body))
    assert error.code == "SignatureDoesNotMatch"


def test_v3_signing_more_headers_is_accepted(make_gateway, version) -> None:  # type: ignore[no-untyped-def]
    """The Python SDK signs accept and user-agent too: more than required is fine."""
    required = ("host", "x-acs-action", "x-acs-content-sha256", "x-acs-date")
    required += ("x-acs-signature-nonce", "x-acs-version")
    raw = v3(
        version,
        extra_headers={"accept": "application/json", "user-agent": "sdk"},
        sign=("accept", "user-agent", *required),
    )
    assert "SignedHeaders=accept;host;user-agent;" in raw[2]["authorization"]
    make_gateway().authenticate(*raw)


def test_published_vectors_sign_what_the_protocol_requires(  # type: ignore[no-untyped-def]
    official_vector, typed_profile
) -> None:
    from conformance.protocol.signing import V3Authorization, unsigned_headers_v3

    v, signatures = official_vector, typed_profile.signatures
    if v["signature_version"] == "v2":
        assert v["params"]["SignatureMethod"] == signatures.v2_method
        assert v["params"]["SignatureVersion"] == signatures.v2_version
        return
    auth = V3Authorization(v["access_key_id"], tuple(v["signed_headers"]), v["signature"])
    unsigned = unsigned_headers_v3(
        auth,
        v["headers"],
        required=signatures.v3_signed_required,
        prefixes=signatures.v3_signed_prefixes,
    )
    assert unsigned == ()
