"""Signature V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256): sign and verify, pure functions.

This is the only module of the project that computes an HMAC (protocol code exists once). Gateway,
reference client, mutants, auth hooks and tests import it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from conformance.protocol.wire import (
    canonical_query,
    format_timestamp,
    new_nonce,
    percent_encode,
)

__all__ = [
    "EMPTY_BODY_SHA256",
    "V2_SIGNATURE_METHOD",
    "V2_SIGNATURE_VERSION",
    "V3_ALGORITHM",
    "SignatureFormatError",
    "V2Signer",
    "V3Authorization",
    "Verification",
    "canonical_request_v3",
    "parse_authorization_v3",
    "sign_v2",
    "sign_v3",
    "signed_headers_v3",
    "signed_params_v2",
    "string_to_sign_v2",
    "string_to_sign_v3",
    "unsigned_headers_v3",
    "verify_v2",
    "verify_v3",
]

# The algorithm identifiers as they appear on the wire (docs/protocol.md#common-parameters,
# docs/protocol.md#signature-v3).
V2_SIGNATURE_METHOD = "HMAC-SHA1"
V2_SIGNATURE_VERSION = "1.0"
V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
_SIGNATURE = "Signature"
_V3_PREFIX = V3_ALGORITHM + "\n"


class SignatureFormatError(ValueError):
    """An `Authorization` header that is not `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,
    Signature=..`."""


class Verification(NamedTuple):
    """The outcome of a verification: `ok`, and the server's string to sign (for the message)."""

    ok: bool
    string_to_sign: str


class V3Authorization(NamedTuple):
    """The parsed `Authorization` header of a V3 request."""

    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


# -- V2 --------------------------------------------------------------------------------------


def _encode_canonical(cq: str) -> str:
    # A canonical query holds only unreserved characters, `%XY`, `=` and `&`, so encoding it a
    # second time (docs/protocol.md#signature-v2, step 4) is three replacements, not a byte-table
    # pass.
    return cq.replace("%", "%25").replace("=", "%3D").replace("&", "%26")


def string_to_sign_v2(method: str, params: Mapping[str, str]) -> str:
    """docs/protocol.md#signature-v2: `METHOD&%2F&enc(canonical query of every parameter but
    Signature)`.

    >>> string_to_sign_v2("GET", {"B": "2", "A": "x y", "Signature": "ignored"})
    'GET&%2F&A%3Dx%2520y%26B%3D2'
    """
    cq = canonical_query([(k, v) for k, v in params.items() if k != _SIGNATURE])
    return f"{method.upper()}&%2F&{_encode_canonical(cq)}"


def _hmac_sha1_b64(access_key_secret: str, string_to_sign: str) -> str:
    key = (access_key_secret + "&").encode("utf-8")
    digest = hmac.digest(key, string_to_sign.encode("utf-8"), "sha1")
    return base64.b64encode(digest).decode("ascii")


def sign_v2(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Base64 HMAC-SHA1 of the V2 string to sign, keyed with `secret + "&"` (step 5)."""
    return _hmac_sha1_b64(access_key_secret, string_to_sign_v2(method, params))


def verify_v2(method: str, params: Mapping[str, str], access_key_secret: str) -> Verification:
    """Check `params["Signature"]` (constant-time); also give the server's string to sign."""
    sts = string_to_sign_v2(method, params)
    expected = _hmac_sha1_b64(access_key_secret, sts)
    given = params.get(_SIGNATURE, "")
    ok = hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8"))
    return Verification(ok, sts)


def _common_v2(
    *,
    action: str,
    version: str,
    access_key_id: str,
    fmt: str | None,
    nonce: str | None,
    timestamp: str | None,
    security_token: str | None,
) -> dict[str, str]:
    common = {
        "Action": action,
        "Version": version,
        "AccessKeyId": access_key_id,
        "SignatureMethod": V2_SIGNATURE_METHOD,
        "SignatureVersion": V2_SIGNATURE_VERSION,
        "SignatureNonce": nonce if nonce is not None else new_nonce(),
        "Timestamp": timestamp if timestamp is not None else format_timestamp(),
    }
    if fmt is not None:
        common["Format"] = fmt
    if security_token is not None:
        common["SecurityToken"] = security_token
    return common


def signed_params_v2(
    method: str,
    api_params: Mapping[str, str],
    *,
    action: str,
    version: str,
    access_key_id: str,
    access_key_secret: str,
    fmt: str | None = "JSON",
    nonce: str | None = None,
    timestamp: str | None = None,
    security_token: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """All parameters of a V2 request: `api_params`, the common ones
    (docs/protocol.md#common-parameters), and `Signature`.

    Common parameters win over same-named `api_params`. `fmt=None` leaves `Format` out.
    `overrides` replace common parameters before signing (None leaves one out), so a request
    that names another `SignatureMethod` is still signed over exactly what it sends.

    >>> p = signed_params_v2("GET", {"InstanceId": "i-1"}, action="RebootInstance",
    ...     version="2014-05-26", access_key_id="id", access_key_secret="s")
    >>> sorted(p)[:3], verify_v2("GET", p, "s").ok
    (['AccessKeyId', 'Action', 'Format'], True)
    """
    params = dict(api_params)
    params.pop(_SIGNATURE, None)
    params.update(
        _common_v2(
            action=action,
            version=version,
            access_key_id=access_key_id,
            fmt=fmt,
            nonce=nonce,
            timestamp=timestamp,
            security_token=security_token,
        )
    )
    for name, value in (overrides or {}).items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    params[_SIGNATURE] = sign_v2(method, params, access_key_secret)
    return params


class V2Signer:
    """A precomputed V2 signer for load generation: fixed parameters are encoded once.

    `signed_query()` returns a ready-to-send query string (the canonical query plus
    `Signature`), skipping the dict and the second encoding pass of `signed_params_v2`.

    >>> s = V2Signer("GET", action="RebootInstance", version="2014-05-26",
    ...              access_key_id="id", access_key_secret="s")
    >>> s.signed_query({"InstanceId": "i-1"}).count("Signature=")
    1
    """

    __slots__ = ("_fixed", "_key", "_method", "_prefix", "_stamp")

    def __init__(
        self,
        method: str,
        *,
        action: str,
        version: str,
        access_key_id: str,
        access_key_secret: str,
        fmt: str | None = "JSON",
        security_token: str | None = None,
        fixed_params: Mapping[str, str] | None = None,
    ) -> None:
        common = _common_v2(
            action=action,
            version=version,
            access_key_id=access_key_id,
            fmt=fmt,
            nonce="",
            timestamp="",
            security_token=security_token,
        )
        del common["SignatureNonce"], common["Timestamp"]
        common.update(fixed_params or {})
        self._method = method.upper()
        self._prefix = f"{self._method}&%2F&"
        self._fixed = [(percent_encode(k), percent_encode(v)) for k, v in common.items()]
        self._key = (access_key_secret + "&").encode("utf-8")
        self._stamp: tuple[int, str] = (-1, "")  # (epoch second, encoded Timestamp)

    def _now(self) -> str:
        # Load generators sign thousands of requests per second: format the time once a second.
        second = int(time.time())
        cached = self._stamp
        if cached[0] != second:
            cached = (second, percent_encode(format_timestamp(datetime.fromtimestamp(second, UTC))))
            self._stamp = cached
        return cached[1]

    def signed_query(
        self,
        api_params: Mapping[str, str] | None = None,
        *,
        nonce: str | None = None,
        timestamp: str | None = None,
    ) -> str:
        """The full query string of one signed request (fresh nonce and time by default)."""
        enc = percent_encode
        pairs = [
            *self._fixed,
            ("SignatureNonce", enc(nonce if nonce is not None else new_nonce())),
            ("Timestamp", enc(timestamp) if timestamp is not None else self._now()),
        ]
        if api_params:
            pairs.extend([(enc(k), enc(v)) for k, v in api_params.items()])
        pairs.sort()
        cq = "&".join([f"{k}={v}" for k, v in pairs])
        sts = self._prefix + _encode_canonical(cq)
        digest = hmac.digest(self._key, sts.encode("utf-8"), "sha1")
        return f"{cq}&Signature={enc(base64.b64encode(digest).decode('ascii'))}"


# -- V3 --------------------------------------------------------------------------------------


def canonical_request_v3(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes,
) -> str:
    """docs/protocol.md#signature-v3 CanonicalRequest, over the client's own `signed_headers` list.

    Header names are matched case-insensitively; a signed header that is absent counts as empty.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted({h.lower() for h in signed_headers})
    canonical_headers = "".join([f"{n}:{lowered.get(n, '').strip()}\n" for n in names])
    return "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(query),
            canonical_headers,
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )


def string_to_sign_v3(canonical_request: str) -> str:
    """`ACS3-HMAC-SHA256\\n` + hex SHA-256 of the canonical request
    (docs/protocol.md#signature-v3)."""
    return _V3_PREFIX + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()


def sign_v3(string_to_sign: str, access_key_secret: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the bare secret (no `&`, unlike V2)."""
    return hmac.digest(
        access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), "sha256"
    ).hex()


def parse_authorization_v3(value: str) -> V3Authorization:
    """Parse `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`.

    Raises `SignatureFormatError` when the scheme, a field or a value is missing.
    """
    scheme, _, rest = value.strip().partition(" ")
    if scheme != V3_ALGORITHM:
        raise SignatureFormatError(f"authorization scheme is not {V3_ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if not sep:
            raise SignatureFormatError(f"authorization field without '=': {part.strip()[:40]!r}")
        fields[name.strip()] = val.strip()
    try:
        credential = fields["Credential"]
        signed = fields["SignedHeaders"]
        signature = fields["Signature"]
    except KeyError as exc:
        raise SignatureFormatError(f"authorization lacks {exc.args[0]}") from None
    headers = tuple(h.strip().lower() for h in signed.split(";"))
    if not credential or not signature or not all(headers):
        raise SignatureFormatError("authorization has an empty Credential, header or Signature")
    return V3Authorization(credential, headers, signature)


def unsigned_headers_v3(
    authorization: V3Authorization,
    headers: Mapping[str, str],
    *,
    required: Sequence[str],
    prefixes: Sequence[str],
) -> tuple[str, ...]:
    """The headers a V3 signature must cover that `authorization`'s SignedHeaders leaves out:
    every name of `required`, and every header of the request starting with one of `prefixes`
    (the profile's `signatures.v3.signed_headers`: host and every x-acs-* header). A signature
    over less leaves `x-acs-action`, the nonce or the date open to change.

    >>> auth = V3Authorization("id", ("host",), "00")
    >>> headers = {"Host": "h", "x-acs-action": "A", "accept": "*/*"}
    >>> unsigned_headers_v3(auth, headers, required=("host",), prefixes=("x-acs-",))
    ('x-acs-action',)
    """
    signed = set(authorization.signed_headers)
    present = {k.lower() for k in headers}
    needed = {h.lower() for h in required}
    needed |= {n for n in present if n.startswith(tuple(p.lower() for p in prefixes))}
    return tuple(sorted(needed - signed))


def verify_v3(
    authorization: V3Authorization,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    access_key_secret: str,
) -> Verification:
    """Recompute the V3 signature over the client's SignedHeaders and compare (constant-time)."""
    canonical = canonical_request_v3(
        method, path, query, headers, authorization.signed_headers, body
    )
    sts = string_to_sign_v3(canonical)
    expected = sign_v3(sts, access_key_secret)
    ok = hmac.compare_digest(expected.encode("ascii"), authorization.signature.encode("utf-8"))
    return Verification(ok, sts)


def signed_headers_v3(
    method: str,
    host: str,
    query: Mapping[str, str],
    *,
    action: str,
    version: str,
    access_key_id: str,
    access_key_secret: str,
    body: bytes = b"",
    content_type: str | None = None,
    nonce: str | None = None,
    timestamp: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    sign: Sequence[str] | None = None,
    sign_also: Sequence[str] = (),
) -> dict[str, str]:
    """The headers of a V3 request (lower-case names), `authorization` included.

    Signs `host`, `content-type` (when given) and every `x-acs-*` header, as the Node SDK does,
    plus the `extra_headers` named in `sign_also` (the Python SDK signs `accept` and
    `user-agent` too); other `extra_headers` are sent but not signed. `sign` names the headers
    to sign instead (e.g. fewer than the protocol requires, to see that a server refuses it).
    """
    headers: dict[str, str] = {k.lower(): v for k, v in (extra_headers or {}).items()}
    headers.update(
        {
            "host": host,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": timestamp if timestamp is not None else format_timestamp(),
            "x-acs-signature-nonce": nonce if nonce is not None else new_nonce(),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
    )
    if content_type is not None:
        headers["content-type"] = content_type
    if sign is not None:
        signed = sorted({n.lower() for n in sign})
    else:
        also = {n.lower() for n in sign_also}
        signed = sorted(
            n
            for n in headers
            if n in ("host", "content-type") or n.startswith("x-acs-") or n in also
        )
    canonical = canonical_request_v3(method, "/", query.items(), headers, signed, body)
    signature = sign_v3(string_to_sign_v3(canonical), access_key_secret)
    headers["authorization"] = (
        f"{V3_ALGORITHM} Credential={access_key_id},"
        f"SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    return headers
