"""Request checks of the client suite: pure functions from recorded requests to problems.

Each check returns `Problem`s naming the requirement they break. Parsing and signature
verification reuse the shared protocol code (`conformance.protocol.wire`, `.gateway`): no
canonicalisation or HMAC is written here (STYLE.md §3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conformance.config import Credentials
from conformance.protocol.envelopes import ApiError
from conformance.protocol.gateway import Gateway
from conformance.protocol.wire import WireError, parse_bool, parse_timestamp, parse_urlencoded
from conformance.spec.model import Spec
from conformance.suite.client.recording import RecordedRequest

__all__ = [
    "Problem",
    "RequestView",
    "call_field",
    "check_action",
    "check_boolean",
    "check_instance_id",
    "check_method",
    "check_nonces",
    "check_parameters_unique",
    "check_signature",
    "check_timestamp_format",
    "check_timestamp_fresh",
    "check_version",
    "view",
]

_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Problem:
    """One broken requirement in one request: what was expected and what arrived."""

    requirement: str
    expected: str
    received: str
    request: RecordedRequest | None = None


@dataclass(frozen=True)
class RequestView:
    """A recorded request read the way a server reads it (ALIBABA-RPC.md §1, §2, §5)."""

    request: RecordedRequest
    query: tuple[tuple[str, str], ...]
    body: tuple[tuple[str, str], ...]
    parse_error: str | None
    v3: bool
    headers: Mapping[str, str] = field(repr=False)

    def values(self, name: str) -> list[str]:
        """Every value given for parameter `name`, query first, then body."""
        return [v for k, v in (*self.query, *self.body) if k == name]

    def value(self, name: str, header: str | None = None) -> list[str]:
        """Values of `name` in the parameters, plus the V3 header carrying it, if any."""
        found = self.values(name)
        if header is not None and header in self.headers:
            found.append(self.headers[header])
        return found

    @property
    def signature_version(self) -> str | None:
        """`v3` (ACS3 Authorization header), `v2` (a `Signature` parameter) or None."""
        if self.v3:
            return "v3"
        return "v2" if self.values("Signature") else None


def view(request: RecordedRequest, spec: Spec) -> RequestView:
    """Parse the query and (form) body of `request`; never raises."""
    headers = request.headers
    error = None
    query: list[tuple[str, str]] = []
    body: list[tuple[str, str]] = []
    try:
        query = parse_urlencoded(request.raw_query)
        ctype = headers.get("content-type")
        if request.body and (ctype is None or ctype.split(";")[0].strip().lower() == _FORM):
            body = parse_urlencoded(request.body)
    except WireError as exc:
        error = exc.reason
    algorithm = str(spec.protocol["signatures"]["v3"]["algorithm"])
    v3 = headers.get("authorization", "").startswith(algorithm)
    return RequestView(request, tuple(query), tuple(body), error, v3, headers)


def call_field(parameter: str) -> str:
    """The `RebootCall` field of a boolean parameter: `ForceStop` -> `force_stop`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", parameter).lower()


def _one(
    v: RequestView, name: str, header: str | None, rid: str
) -> tuple[str | None, Problem | None]:
    values = v.value(name, header)
    if not values:
        return None, Problem(rid, f"{name} in the request", f"no {name}", v.request)
    if len(set(values)) > 1:
        return None, Problem(rid, f"one {name}", f"contradictory values {values}", v.request)
    return values[0], None


def check_action(v: RequestView, spec: Spec) -> list[Problem]:
    """protocol.action.value: `Action` (parameter or `x-acs-action`) is the operation's name."""
    rid = "protocol.action.value"
    value, problem = _one(v, "Action", "x-acs-action", rid)
    if problem:
        return [problem]
    if value != spec.action:
        return [Problem(rid, f"Action {spec.action}", f"Action {value}", v.request)]
    return []


def check_version(v: RequestView, spec: Spec) -> list[Problem]:
    """protocol.version.value: `Version` (parameter or `x-acs-version`) is the API version."""
    rid = "protocol.version.value"
    value, problem = _one(v, "Version", "x-acs-version", rid)
    if problem:
        return [problem]
    if value != spec.version:
        return [Problem(rid, f"Version {spec.version}", f"Version {value}", v.request)]
    return []


def check_instance_id(v: RequestView, expected: str, rid: str) -> list[Problem]:
    """The `InstanceId` the server decodes is exactly the one the caller gave."""
    if v.parse_error:
        return [Problem(rid, f"InstanceId {expected!r}", f"unreadable request: {v.parse_error}")]
    values = v.values("InstanceId")
    if values != [expected]:
        got = ", ".join(repr(x) for x in values) or "no InstanceId"
        return [Problem(rid, f"InstanceId {expected!r}", got, v.request)]
    return []


def check_boolean(v: RequestView, name: str, asked: bool | None, rid: str) -> list[Problem]:
    """A boolean parameter is a valid wire boolean meaning what was asked; unset means absent
    or false (doc.default.*)."""
    values = v.values(name)
    if len(values) > 1:
        return [Problem(rid, f"at most one {name}", f"{name} given {len(values)} times", v.request)]
    if not values:
        if asked is True:
            return [Problem(rid, f"{name}=true (asked true)", f"no {name}", v.request)]
        return []
    parsed = parse_bool(values[0])
    if parsed is None:
        return [Problem(rid, f"{name} a boolean (true/false)", f"{name}={values[0]!r}", v.request)]
    wanted = bool(asked)  # unset: the default, false
    if parsed != wanted:
        what = "unset (absent or false)" if asked is None else str(asked).lower()
        return [Problem(rid, f"{name} {what}", f"{name}={values[0]}", v.request)]
    return []


def check_signature(
    v: RequestView, spec: Spec, credentials: Credentials, version: str
) -> list[Problem]:
    """protocol.signature.v2|v3: the shared gateway verifies the signature the client made."""
    rid = f"protocol.signature.{version}"
    used = v.signature_version
    if used != version:
        return [Problem(rid, f"a {version} signature", f"signature {used or 'absent'}", v.request)]
    action = (v.value("Action", "x-acs-action") or [spec.action])[0]
    api_version = (v.value("Version", "x-acs-version") or [spec.version])[0]
    # Only the signature is judged here: nonces, timestamps and the Action/Version values have
    # their own checks, so the gateway accepts whatever the client claimed.
    gateway = Gateway(
        {credentials.access_key_id: credentials.access_key_secret},
        {action: api_version},
        spec.gateway_errors,
        spec.protocol,
        check_nonces=False,
        check_timestamps=False,
    )
    r = v.request
    try:
        gateway.authenticate(r.method, r.raw_query, r.headers, r.body)
    except ApiError as exc:
        return [Problem(rid, "a valid signature", f"{exc.code}: {exc.message}", r)]
    return []


def _timestamp(v: RequestView) -> tuple[str | None, Problem | None]:
    header = "x-acs-date" if v.v3 else None
    return _one(v, "Timestamp", header, "protocol.timestamp.format")


def check_timestamp_format(v: RequestView, spec: Spec) -> list[Problem]:
    """protocol.timestamp.format: `YYYY-MM-DDThh:mm:ssZ`, UTC, no fractional seconds."""
    value, problem = _timestamp(v)
    if problem:
        return [problem]
    assert value is not None
    pattern = str(spec.protocol["timestamp"]["format"])
    try:
        parse_timestamp(value)
    except ValueError:
        return [Problem("protocol.timestamp.format", pattern, repr(value), v.request)]
    return []


def check_timestamp_fresh(v: RequestView, spec: Spec) -> list[Problem]:
    """protocol.timestamp.expired: the timestamp is within the profile's skew of the arrival."""
    rid = "protocol.timestamp.expired"
    value, problem = _timestamp(v)
    if problem:
        return [Problem(rid, problem.expected, problem.received, v.request)]
    assert value is not None
    try:
        stamp = parse_timestamp(value).timestamp()
    except ValueError:
        return [Problem(rid, "a readable timestamp", repr(value), v.request)]
    skew = float(spec.protocol["timestamp"]["max_skew_seconds"])
    off = stamp - v.request.received_at
    if abs(off) > skew:
        return [Problem(rid, f"within {skew:g} s of the arrival", f"{off:+.0f} s off", v.request)]
    return []


def check_nonces(views: Sequence[RequestView]) -> list[Problem]:
    """protocol.nonce.unique: every request carries a nonce no other request carried."""
    rid = "protocol.nonce.unique"
    seen: dict[str, RecordedRequest] = {}
    problems = []
    for v in views:
        header = "x-acs-signature-nonce" if v.v3 else None
        value, problem = _one(v, "SignatureNonce", header, rid)
        if problem:
            problems.append(problem)
            continue
        assert value is not None
        if value in seen:
            problems.append(
                Problem(rid, "a nonce never sent before", f"nonce {value!r} again", v.request)
            )
        seen[value] = v.request
    return problems


def check_method(v: RequestView, spec: Spec, rid: str) -> list[Problem]:
    """The method is one the profile allows (protocol.method.*)."""
    allowed = [str(m).upper() for m in spec.protocol["api"]["methods"]]
    if v.request.method not in allowed:
        return [Problem(rid, " or ".join(allowed), f"method {v.request.method}", v.request)]
    return []


def check_parameters_unique(v: RequestView) -> list[Problem]:
    """protocol.params.merged: query and body merge into one set, so no name twice."""
    rid = "protocol.params.merged"
    if v.parse_error:
        return [Problem(rid, "a readable query and body", v.parse_error, v.request)]
    names = [k for k, _ in (*v.query, *v.body)]
    twice = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if twice:
        problems.append(Problem(rid, "each parameter once", f"given twice: {twice}", v.request))
    if v.v3:
        for name, header in (("Action", "x-acs-action"), ("Version", "x-acs-version")):
            values = set(v.value(name, header))
            if len(values) > 1:
                problems.append(
                    Problem(rid, f"{name} agreeing with {header}", f"{sorted(values)}", v.request)
                )
    return problems
