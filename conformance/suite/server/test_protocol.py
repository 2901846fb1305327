"""The RPC protocol around the operation (docs/protocol.md: signatures, gateway errors): both
signature versions, signature mismatches, nonces, timestamps, unknown keys and actions. Every
request here is a DryRun (or names no instance), so the module is safe against any target."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st

from conformance.protocol.wire import format_timestamp
from conformance.spec.model import Spec
from conformance.suite import strategies as S
from conformance.suite.server.harness import ServerHarness, Variant
from conformance.targets.http import PreparedRequest, corrupt_signature


def _signature_param(version: str) -> object:
    return pytest.param(
        version, id=version, marks=pytest.mark.requirement(f"protocol.signature.{version}")
    )


@pytest.mark.parametrize("signature", [_signature_param("v2"), _signature_param("v3")])
@pytest.mark.requirement("protocol.action.value", "protocol.version.value")
def test_signature_version_is_accepted(ecs: ServerHarness, signature: str) -> None:
    """Correctly signed requests (ids with every character class) pass the gateway: the answer
    is the operation's own, for every method."""
    if signature not in ecs.context.options.signature_versions:
        ecs.skip(f"signature {signature} is not part of this run (--ecs-signature)")
    ids = (f"protocol.signature.{signature}", "protocol.action.value", "protocol.version.value")
    methods = ecs.context.options.methods

    @ecs.given(suffix=S.id_suffixes(), method=st.sampled_from(methods), scale=1.5)
    def run(suffix: str, method: str) -> None:
        iid, expected = ecs.probe(id_suffix=suffix)
        placement = "form" if (method == "POST" and signature == "v2") else "query"
        exchange = ecs.reboot(
            iid, dry_run=True, signature=signature, method=method, placement=placement
        )
        ecs.expect(ids, expected, exchange, note=f"InstanceId {iid!r}")

    run()


def _change_a_parameter(name: str) -> Callable[[PreparedRequest], None]:
    """Alter parameter `name` after signing (the signature no longer covers what is sent)."""

    def tamper(request: PreparedRequest) -> None:
        for pairs in (request.query, request.form or []):
            for i, (k, v) in enumerate(pairs):
                if k == name:
                    pairs[i] = (k, v + "x")
                    return

    return tamper


def _change_the_method(request: PreparedRequest) -> None:
    """Send with the other method than the one signed (the method is part of what is signed)."""
    request.method = "POST" if request.method == "GET" else "GET"
    if request.method == "GET" and request.form is not None:
        request.query, request.form = request.query + request.form, None
        request.headers.pop("content-type", None)


TAMPERS = ("signature", "parameter", "method")


def _tamper(name: str, spec: Spec) -> Callable[[PreparedRequest], None]:
    """The tamper called `name`; `parameter` alters the instance id."""
    if name == "signature":
        return corrupt_signature
    if name == "parameter":
        return _change_a_parameter(spec.instance_parameter.name)
    return _change_the_method


@pytest.mark.requirement("protocol.signature.mismatch", "interop.signature-mismatch.colon")
def test_wrong_signature_is_refused(ecs: ServerHarness) -> None:
    """A signature that does not cover the request: SignatureDoesNotMatch, whose message holds
    the ':' (followed by the server's string to sign) that the old Python SDK splits on."""
    ids = ("protocol.signature.mismatch", "interop.signature-mismatch.colon")
    iid, _ = ecs.probe()
    variants = ecs.spec.gateway_variants("signature_mismatch")

    @ecs.given(
        tamper=st.sampled_from(sorted(TAMPERS)),
        variant=st.sampled_from(ecs.context.variants()),
        scale=0.5,
    )
    def run(tamper: str, variant: Variant) -> None:
        exchange = ecs.reboot(iid, dry_run=True, variant=variant, tamper=_tamper(tamper, ecs.spec))
        ecs.expect_variant(ids, variants, exchange, note=f"tampered: {tamper}")
        message = exchange.response.message if exchange.response else None
        ecs.check(
            ":" in (message or ""),
            "interop.signature-mismatch.colon",
            expected="a Message containing ':'",
            received=repr(message),
            exchange=exchange,
        )

    run()


def _v3_headers_to_sign(ecs: ServerHarness) -> tuple[str, ...]:
    """What a V3 request of this suite carries and must sign: host and its x-acs-* headers."""
    request = ecs.target.prepare(ecs.spec.action, {"InstanceId": "i-x"}, signature="v3")
    return tuple(sorted(h for h in request.headers if h == "host" or h.startswith("x-acs-")))


@pytest.mark.requirement("protocol.signature.v3.signed-headers")
def test_v3_signature_over_fewer_headers_is_refused(ecs: ServerHarness) -> None:
    """A V3 request correctly signed over fewer headers than the protocol requires (host
    alone, or without one x-acs-* header it carries, or over a header it does not carry) is
    refused as a wrong signature: what it leaves unsigned could have been changed."""
    if "v3" not in ecs.context.options.signature_versions:
        ecs.skip("signature v3 is not part of this run (--ecs-signature)")
    rid = "protocol.signature.v3.signed-headers"
    iid, _ = ecs.probe()
    variants = ecs.spec.gateway_variants("signature_mismatch")
    required = _v3_headers_to_sign(ecs)
    lists: dict[str, tuple[str, ...]] = {
        "host only": ("host",),
        "a header it lacks": ("x-nothing",),
    }
    for name in required:
        lists[f"all but {name}"] = tuple(h for h in required if h != name)

    @ecs.given(
        leave_out=st.sampled_from(sorted(lists)),
        method=st.sampled_from(ecs.context.options.methods),
        scale=0.3,
    )
    def run(leave_out: str, method: str) -> None:
        signed = lists[leave_out]
        exchange = ecs.reboot(
            iid, dry_run=True, signature="v3", method=method, signed_headers=signed
        )
        ecs.expect_variant(
            rid, variants, exchange, note=f"SignedHeaders={';'.join(signed)} ({leave_out})"
        )

    run()


# V2 common parameters that name another algorithm or version, or leave one out.
_OTHER_ALGORITHMS: dict[str, dict[str, str | None]] = {
    "SignatureMethod=none": {"SignatureMethod": "none"},
    "SignatureMethod=HMAC-SHA256": {"SignatureMethod": "HMAC-SHA256"},
    "no SignatureMethod": {"SignatureMethod": None},
    "SignatureVersion=9.9": {"SignatureVersion": "9.9"},
    "no SignatureVersion": {"SignatureVersion": None},
}


@pytest.mark.requirement("protocol.signature.v2.algorithm")
def test_v2_signature_naming_another_algorithm_is_refused(ecs: ServerHarness) -> None:
    """A V2 request signed (HMAC-SHA1, over what it sends) whose SignatureMethod or
    SignatureVersion is not the documented value, or absent, is refused: as a missing or
    malformed parameter, or as a wrong signature (the sources leave the code open)."""
    if "v2" not in ecs.context.options.signature_versions:
        ecs.skip("signature v2 is not part of this run (--ecs-signature)")
    rid = "protocol.signature.v2.algorithm"
    iid, _ = ecs.probe()

    @ecs.given(
        case=st.sampled_from(sorted(_OTHER_ALGORITHMS)),
        method=st.sampled_from(ecs.context.options.methods),
        scale=0.3,
    )
    def run(case: str, method: str) -> None:
        common = _OTHER_ALGORITHMS[case]
        (name,) = common
        variants = (
            *ecs.spec.gateway_variants("missing_parameter", Name=name),
            *ecs.spec.gateway_variants("invalid_parameter", Name=name),
            *ecs.spec.gateway_variants("signature_mismatch"),
        )
        placement = "form" if method == "POST" else "query"
        exchange = ecs.reboot(
            iid, dry_run=True, signature="v2", method=method, placement=placement, common=common
        )
        ecs.expect_variant(rid, variants, exchange, note=case)

    run()


@pytest.mark.requirement("protocol.nonce.replay")
def test_replayed_nonce_is_refused(ecs: ServerHarness, variant: Variant) -> None:
    """The same SignatureNonce twice: the second request is refused as a replay."""
    iid, expected = ecs.probe()
    nonce = secrets.token_hex(16)
    first = ecs.reboot(iid, dry_run=True, variant=variant, nonce=nonce)
    ecs.expect("protocol.nonce.replay", expected, first, note="first use of the nonce")
    again = ecs.reboot(iid, dry_run=True, variant=variant, nonce=nonce)
    ecs.expect_variant(
        "protocol.nonce.replay",
        ecs.spec.gateway_variants("nonce_used"),
        again,
        note=f"nonce {nonce} sent a second time",
    )


@pytest.mark.requirement("protocol.nonce.unique")
def test_fresh_nonces_of_every_client_shape_are_accepted(ecs: ServerHarness) -> None:
    """Nonces as clients make them (32 or 64 hex characters, a UUID), each new: accepted."""
    iid, expected = ecs.probe()
    # hypothesis picks the shape; the value itself is fresh randomness, since a nonce drawn
    # twice would rightly be refused as a replay
    makers = {
        "hex32": lambda: secrets.token_hex(16),
        "hex64": lambda: secrets.token_hex(32),
        "uuid": lambda: str(uuid.uuid4()),
        "UUID": lambda: str(uuid.uuid4()).upper(),
    }

    @ecs.given(
        shape=st.sampled_from(sorted(makers)), variant=st.sampled_from(ecs.context.variants())
    )
    def run(shape: str, variant: Variant) -> None:
        nonce = makers[shape]()
        exchange = ecs.reboot(iid, dry_run=True, variant=variant, nonce=nonce)
        ecs.expect("protocol.nonce.unique", expected, exchange, note=f"nonce {nonce!r}")

    run()


@pytest.mark.requirement("protocol.timestamp.expired")
def test_timestamps_outside_the_window_are_refused(ecs: ServerHarness) -> None:
    """A timestamp further off than the allowed skew (past or future) is refused as expired; one
    well inside the window is accepted."""
    iid, expected = ecs.probe()
    skew = ecs.spec.profile.timestamp.max_skew_seconds
    variants = ecs.spec.gateway_variants("timestamp_expired")
    # a margin of a minute on each side keeps the test clear of clock differences
    outside = st.integers(skew + 60, 7 * 24 * 3600).flatmap(lambda s: st.sampled_from([s, -s]))
    inside = st.integers(-(skew - 60), skew - 60)

    @ecs.given(offset=outside, ok_offset=inside, variant=st.sampled_from(ecs.context.variants()))
    def run(offset: int, ok_offset: int, variant: Variant) -> None:
        now = datetime.now(UTC)
        stale = format_timestamp(now + timedelta(seconds=offset))
        exchange = ecs.reboot(iid, dry_run=True, variant=variant, timestamp=stale)
        ecs.expect_variant(
            "protocol.timestamp.expired",
            variants,
            exchange,
            note=f"Timestamp {stale} ({offset:+d}s)",
        )
        fine = format_timestamp(now + timedelta(seconds=ok_offset))
        exchange = ecs.reboot(iid, dry_run=True, variant=variant, timestamp=fine)
        ecs.expect(
            "protocol.timestamp.expired",
            expected,
            exchange,
            note=f"Timestamp {fine} ({ok_offset:+d}s) is inside the window",
        )

    run()


def _malformed_timestamps() -> st.SearchStrategy[str]:
    now = datetime.now(UTC)
    shapes = [
        now.strftime("%Y-%m-%dT%H:%M:%S.123Z"),
        now.strftime("%Y-%m-%d %H:%M:%SZ"),
        now.strftime("%Y-%m-%dT%H:%M:%S"),
        now.strftime("%Y-%m-%d"),
        now.strftime("%d/%m/%YT%H:%M:%SZ"),
        str(int(now.timestamp())),
        now.strftime("%Y-%m-%dT%H-%M-%SZ"),
    ]
    garbage = st.text(alphabet="0123456789-:TZ .abc", min_size=1, max_size=25)
    # blank or padded values are left out: a header value is trimmed, and a blank one is a
    # missing timestamp, not a malformed one
    return st.one_of(st.sampled_from(shapes), garbage).filter(
        lambda s: s.strip() == s and s != "" and not _well_formed(s)
    )


def _well_formed(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return len(value) == 20


@pytest.mark.requirement("protocol.timestamp.format")
def test_malformed_timestamps_are_refused(ecs: ServerHarness) -> None:
    """A timestamp not in `YYYY-MM-DDThh:mm:ssZ` is refused as malformed."""
    iid, _ = ecs.probe()
    variants = ecs.spec.gateway_variants("timestamp_format")

    @ecs.given(stamp=_malformed_timestamps(), variant=st.sampled_from(ecs.context.variants()))
    def run(stamp: str, variant: Variant) -> None:
        exchange = ecs.reboot(iid, dry_run=True, variant=variant, timestamp=stamp)
        ecs.expect_variant(
            "protocol.timestamp.format", variants, exchange, note=f"Timestamp {stamp!r}"
        )

    run()


@pytest.mark.requirement("protocol.access-key.unknown")
def test_unknown_access_key_is_refused(ecs: ServerHarness, variant: Variant) -> None:
    """An AccessKeyId the target does not know: refused (either documented status)."""
    iid, _ = ecs.probe()
    exchange = ecs.reboot(
        iid,
        dry_run=True,
        variant=variant,
        access_key_id="conformance-unknown-" + secrets.token_hex(6),
    )
    ecs.expect_variant(
        "protocol.access-key.unknown", ecs.spec.gateway_variants("access_key_not_found"), exchange
    )


@pytest.mark.requirement("protocol.action.unknown")
def test_unknown_action_is_refused(ecs: ServerHarness, variant: Variant) -> None:
    """An Action the target does not have: refused (either documented form)."""
    action = ecs.spec.action + "Conformance" + secrets.token_hex(3)
    params = ecs.reboot_params(ecs.not_found_id(), dry_run=True)
    exchange = ecs.target.call(
        action,
        params,
        signature=variant.signature,
        method=variant.method,
        placement=variant.placement,
    )
    ecs.expect_variant(
        "protocol.action.unknown",
        ecs.spec.gateway_variants("action_not_found"),
        exchange,
        note=f"Action={action}",
    )
