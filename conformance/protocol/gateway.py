"""The checks made before an operation runs: raw request -> `RpcRequest`.

The checks and their errors are docs/protocol.md#gateway-errors.

`Gateway.authenticate` reads the query and form body, detects the signature version, checks
common parameters (V2: `SignatureMethod` and `SignatureVersion` are the profile's values),
timestamp, AccessKeyId, signature (V3: `SignedHeaders` covers `host` and every `x-acs-*`
header the request carries), nonce, Action and Format, in that order,
and raises `ApiError` built from the profile's gateway error variants (the first variant of each
situation is the one answered). Emulator handlers receive the verified `RpcRequest` and never
parse a signature: signature code exists once, here and in `signing.py`.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

from conformance.protocol.envelopes import ApiError, ResponseFormat
from conformance.protocol.signing import (
    V3_ALGORITHM,
    SignatureFormatError,
    V3Authorization,
    parse_authorization_v3,
    unsigned_headers_v3,
    verify_v2,
    verify_v3,
)
from conformance.protocol.wire import (
    WireError,
    merge_params,
    parse_timestamp,
    parse_urlencoded,
)
from conformance.spec.facts import Profile
from conformance.spec.model import ErrorVariant

__all__ = ["Gateway", "NonceStore", "RpcRequest"]

_FORM = "application/x-www-form-urlencoded"
# docs/protocol.md#common-parameters: the V2 parameters a request cannot do without, in the order
# they are checked.
_V2_REQUIRED = (
    "Action",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
)
# The V2 parameters that name the signature algorithm, and the profile keys of their values.
_V2_ALGORITHM = (("SignatureMethod", "method"), ("SignatureVersion", "version"))
_V2_NAMING = frozenset(name for name, _ in _V2_ALGORITHM)
# docs/protocol.md#signature-v3: V3 carries them in headers; a missing one is reported under its V2
# name.
_V3_REQUIRED = (
    ("x-acs-action", "Action"),
    ("x-acs-version", "Version"),
    ("x-acs-date", "Timestamp"),
    ("x-acs-signature-nonce", "SignatureNonce"),
)


class RpcRequest(NamedTuple):
    """A request that passed the gateway: what an operation handler needs, nothing more.

    `params` holds every merged parameter (common ones included); `api_params` leaves out the
    profile's common parameters (tolerated ones such as `RegionId` stay: the handler ignores
    them per the profile's `tolerated_parameters`). A NamedTuple, not a frozen dataclass: one
    is built per request, and this costs under half as much.
    """

    method: str
    action: str
    version: str
    params: Mapping[str, str]
    api_params: Mapping[str, str]
    fmt: ResponseFormat
    signature_version: str  # "v2" | "v3"
    access_key_id: str
    nonce: str
    timestamp: datetime | None = None


class NonceStore:
    """Remembered `(AccessKeyId, nonce)` pairs, each until its timestamp leaves the skew window.

    Bounded memory: an entry expires at `timestamp + window`, after which a replay is refused as
    expired anyway (docs/protocol.md#gateway-errors). Under sustained load (a benchmark at thousands
    of requests per second) the window alone would keep millions of entries, so at most
    `max_entries` are kept, the soonest-expiring dropped first: a replay older than that many
    requests is then accepted, which no conformance check depends on. Thread-safe.
    """

    def __init__(self, window_seconds: float, max_entries: int = 200_000) -> None:
        self._window = window_seconds
        self._max_entries = max_entries
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def use(self, access_key_id: str, nonce: str, timestamp: float, now: float) -> bool:
        """Record the nonce; False when it is still remembered (a replay)."""
        key = (access_key_id, nonce)
        expiry = max(timestamp, now) + self._window
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] < now:
                old_expiry, old_key = heapq.heappop(heap)
                if self._expiry.get(old_key) == old_expiry:
                    del self._expiry[old_key]
            known = self._expiry.get(key)
            if known is not None and known >= now:
                return False
            self._expiry[key] = expiry
            heapq.heappush(heap, (expiry, key))
            while len(heap) > self._max_entries:
                old_expiry, old_key = heapq.heappop(heap)
                if self._expiry.get(old_key) == old_expiry:
                    del self._expiry[old_key]
            return True

    def clear(self) -> None:
        """Forget every nonce."""
        with self._lock:
            self._expiry.clear()
            self._heap.clear()


def _first(variants: tuple[ErrorVariant, ...], situation: str) -> ErrorVariant:
    if not variants:
        raise KeyError(f"gateway error {situation!r} has no variant")
    return variants[0]


class Gateway:
    """Authenticates raw RPC requests against credentials, actions and the profile's errors.

    >>> # gw = Gateway({"testid": "testsecret"}, {"RebootInstance": "2014-05-26"},
    >>> #              spec.gateway_errors, spec.profile)
    >>> # request = gw.authenticate("GET", raw_query, headers, body)   # or ApiError
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        actions: Mapping[str, str],
        gateway_errors: Mapping[str, tuple[ErrorVariant, ...]],
        profile: Profile,
        clock: Callable[[], float] = time.time,
        *,
        verify_signatures: bool = True,
        check_nonces: bool = True,
        check_timestamps: bool = True,
        check_signature_method: bool = True,
        check_signed_headers: bool = True,
    ) -> None:
        self._credentials = dict(credentials)
        self._actions = dict(actions)
        self._errors = {k: _first(tuple(v), k) for k, v in gateway_errors.items()}
        self._clock = clock
        self._verify = verify_signatures
        self._check_nonces = check_nonces
        self._check_timestamps = check_timestamps
        self._check_algorithm = check_signature_method
        self._check_signed_headers = check_signed_headers
        signatures = profile.signatures
        self._v2_algorithm = {"method": signatures.v2_method, "version": signatures.v2_version}
        self._v3_required = signatures.v3_signed_required
        self._v3_prefixes = signatures.v3_signed_prefixes
        self._max_skew = float(profile.timestamp.max_skew_seconds)
        self._default_v2 = ResponseFormat(profile.formats.default_v2.upper())
        self._default_v3 = ResponseFormat(profile.formats.default_v3.upper())
        self._methods = frozenset(profile.api.methods)
        self._common = frozenset(profile.common_parameter_names)
        self._nonces = NonceStore(self._max_skew)

    def reset(self) -> None:
        """Forget every remembered nonce (the control API's `DELETE /state`)."""
        self._nonces.clear()

    @property
    def remembered_nonces(self) -> int:
        """How many nonces are remembered now (for tests of the bounded store)."""
        return len(self._nonces)

    def _error(self, situation: str, fmt: ResponseFormat | None = None, **fields: str) -> ApiError:
        return ApiError.from_variant(self._errors[situation].render(**fields), fmt=fmt)

    def authenticate(
        self, method: str, raw_query: bytes, headers: Mapping[str, str], body: bytes
    ) -> RpcRequest:
        """Check one raw request (header names lower-case); the `RpcRequest`, or `ApiError`."""
        if method not in self._methods:
            raise self._error("unsupported_method")
        try:
            query_pairs = parse_urlencoded(raw_query)
            content_type = headers.get("content-type")
            body_pairs: list[tuple[str, str]] = []
            if body and (
                content_type is None or content_type.split(";", 1)[0].strip().lower() == _FORM
            ):
                body_pairs = parse_urlencoded(body)
            params = merge_params(query_pairs, body_pairs)
        except WireError as exc:
            raise self._error("bad_request", reason=exc.reason) from None

        authorization = headers.get("authorization", "")
        v3 = authorization.startswith(V3_ALGORITHM)
        # Errors honour the requested Format as soon as it is readable (docs/protocol.md#responses).
        fmt_value = params.get("Format")
        fmt = ResponseFormat.parse(fmt_value) if fmt_value is not None else None
        if fmt is None:
            fmt = self._default_v3 if v3 else self._default_v2

        if v3:
            return self._authenticate_v3(
                method, query_pairs, params, headers, body, authorization, fmt
            )
        return self._authenticate_v2(method, params, fmt)

    # -- shared steps ----------------------------------------------------------------------

    def _timestamp(self, value: str, fmt: ResponseFormat) -> tuple[datetime | None, float]:
        now = self._clock()
        if not self._check_timestamps:
            try:
                return parse_timestamp(value), now
            except ValueError:
                return None, now
        try:
            ts = parse_timestamp(value)
        except ValueError:
            raise self._error("timestamp_format", fmt) from None
        if abs(now - ts.timestamp()) > self._max_skew:
            raise self._error("timestamp_expired", fmt)
        return ts, now

    def _secret(self, access_key_id: str, fmt: ResponseFormat) -> str:
        secret = self._credentials.get(access_key_id)
        if secret is None:
            raise self._error("access_key_not_found", fmt)
        return secret

    def _finish(
        self,
        *,
        method: str,
        action: str,
        version: str,
        params: dict[str, str],
        fmt: ResponseFormat,
        signature_version: str,
        access_key_id: str,
        nonce: str,
        ts: datetime | None,
        now: float,
    ) -> RpcRequest:
        if self._check_nonces:
            stamp = ts.timestamp() if ts is not None else now
            if not self._nonces.use(access_key_id, nonce, stamp, now):
                raise self._error("nonce_used", fmt)
        if self._actions.get(action) != version:
            raise self._error("action_not_found", fmt)
        fmt_value = params.get("Format")
        if fmt_value is not None and ResponseFormat.parse(fmt_value) is None:
            raise self._error("invalid_parameter", fmt, Name="Format")
        common = self._common
        return RpcRequest(
            method=method,
            action=action,
            version=version,
            params=params,
            api_params={k: v for k, v in params.items() if k not in common},
            fmt=fmt,
            signature_version=signature_version,
            access_key_id=access_key_id,
            nonce=nonce,
            timestamp=ts,
        )

    # -- V2 ----------------------------------------------------------------------------------

    def _authenticate_v2(
        self, method: str, params: dict[str, str], fmt: ResponseFormat
    ) -> RpcRequest:
        for name in _V2_REQUIRED:
            if not params.get(name) and (self._check_algorithm or name not in _V2_NAMING):
                raise self._error("missing_parameter", fmt, Name=name)
        if self._check_algorithm:
            # Another algorithm or version cannot be verified: refused as a malformed parameter
            # before any signature is computed.
            for name, key in _V2_ALGORITHM:
                if params[name] != self._v2_algorithm[key]:
                    raise self._error("invalid_parameter", fmt, Name=name)
        ts, now = self._timestamp(params["Timestamp"], fmt)
        access_key_id = params["AccessKeyId"]
        secret = self._secret(access_key_id, fmt)
        if self._verify:
            ok, string_to_sign = verify_v2(method, params, secret)
            if not ok:
                raise self._error("signature_mismatch", fmt, string_to_sign=string_to_sign)
        return self._finish(
            method=method,
            action=params["Action"],
            version=params["Version"],
            params=params,
            fmt=fmt,
            signature_version="v2",
            access_key_id=access_key_id,
            nonce=params["SignatureNonce"],
            ts=ts,
            now=now,
        )

    # -- V3 ----------------------------------------------------------------------------------

    def _authenticate_v3(
        self,
        method: str,
        query_pairs: list[tuple[str, str]],
        params: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
        authorization: str,
        fmt: ResponseFormat,
    ) -> RpcRequest:
        try:
            auth: V3Authorization = parse_authorization_v3(authorization)
        except SignatureFormatError as exc:
            raise self._error("bad_request", fmt, reason=str(exc)) from None
        values: dict[str, str] = {}
        for header, name in _V3_REQUIRED:
            value = headers.get(header) or params.get(name)
            if not value:
                raise self._error("missing_parameter", fmt, Name=name)
            values[name] = value
        ts, now = self._timestamp(values["Timestamp"], fmt)
        secret = self._secret(auth.access_key_id, fmt)
        if self._verify:
            # The canonical query covers the query string only; a form body is covered by its
            # SHA-256 (docs/protocol.md#signature-v3).
            ok, string_to_sign = verify_v3(auth, method, "/", query_pairs, headers, body, secret)
            if self._check_signed_headers and unsigned_headers_v3(
                auth, headers, required=self._v3_required, prefixes=self._v3_prefixes
            ):
                ok = False  # a signature over less than the protocol requires is not one
            claimed = headers.get("x-acs-content-sha256")
            if claimed is not None and not hmac.compare_digest(
                claimed.lower().encode("utf-8"), hashlib.sha256(body).hexdigest().encode()
            ):
                ok = False
            if not ok:
                raise self._error("signature_mismatch", fmt, string_to_sign=string_to_sign)
        return self._finish(
            method=method,
            action=values["Action"],
            version=values["Version"],
            params=params,
            fmt=fmt,
            signature_version="v3",
            access_key_id=auth.access_key_id,
            nonce=values["SignatureNonce"],
            ts=ts,
            now=now,
        )
