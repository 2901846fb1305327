"""Request checks of the client suite: a registry of pure functions from recorded requests to
problems, each registered with `@check("<requirement id>")` (as schemathesis registers its
checks), run by one parametrised test (`test_requests.py`) over the baseline calls.

A check takes a `CheckContext` (the spec, the session's credentials, the exchanges it judges
and their requests read the way a server reads them) plus the parameters its requirement id
names, and returns the `Problem`s it found; when it cannot judge (the client never sends what
the requirement is about) it raises `NotJudged(reason)`, which the test reports as
`not_verified`. Problems come first: a check that finds one reports it.

    @check("protocol.version.value")
    def version_is_the_api_version(ctx: CheckContext) -> list[Problem]: ...

    @check("protocol.method.{method}", over=lambda spec: [{"method": "GET"}, ...])
    def method_is_allowed(ctx: CheckContext, method: str) -> list[Problem]: ...

A check judges each request by itself unless it says otherwise: one that compares requests
with each other names the key it compares on (`across=`, e.g. the nonce), so that a judge that
sees requests one at a time (the checking proxy) hands it, with each request, the earlier one
that had the same key; one that verifies with the session's secret says so (`keyed=True`):
a request signed with another AccessKeyId cannot be judged by it.

Parsing and signature verification reuse the shared protocol code (`conformance.protocol.wire`,
`.gateway`): no canonicalisation or HMAC is written here (protocol code exists once).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from conformance.config import Credentials
from conformance.protocol.envelopes import ApiError
from conformance.protocol.gateway import Gateway
from conformance.protocol.signing import (
    SignatureFormatError,
    parse_authorization_v3,
    unsigned_headers_v3,
)
from conformance.protocol.wire import WireError, parse_timestamp, parse_urlencoded
from conformance.spec.model import Spec
from conformance.suite.client.recording import RecordedRequest

if TYPE_CHECKING:
    from conformance.client.contract import RebootCall
    from conformance.suite.client.harness import ClientExchange

__all__ = [
    "CHECKS",
    "CheckCase",
    "CheckContext",
    "NotJudged",
    "Problem",
    "RequestCheck",
    "RequestView",
    "access_key_id",
    "call_field",
    "cases",
    "check",
    "instance_id_problems",
    "nonce_of",
    "view",
]

_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Problem:
    """One way a request breaks the check's requirement: what was expected and what arrived."""

    expected: str
    received: str
    request: RecordedRequest | None = None


class NotJudged(Exception):
    """A check could not judge its requirement here; `reason` says why (`not_verified`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RequestView:
    """A recorded request read the way a server reads it (docs/protocol.md: transport, common
    parameters, signature V3)."""

    request: RecordedRequest
    query: tuple[tuple[str, str], ...]
    body: tuple[tuple[str, str], ...]
    parse_error: str | None
    v3: bool
    headers: Mapping[str, str] = field(repr=False)

    def values(self, name: str) -> list[str]:
        """Every value given for parameter `name`, query first, then body."""
        return list(self._by_name.get(name, ()))

    @cached_property
    def _by_name(self) -> Mapping[str, tuple[str, ...]]:
        # Every check asks for a few names: one pass over the parameters, not one per name.
        out: dict[str, list[str]] = {}
        for k, v in (*self.query, *self.body):
            out.setdefault(k, []).append(v)
        return {k: tuple(v) for k, v in out.items()}

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
    v3 = headers.get("authorization", "").startswith(spec.profile.signatures.v3_algorithm)
    return RequestView(request, tuple(query), tuple(body), error, v3, headers)


@dataclass(frozen=True)
class CheckContext:
    """What a check judges: the spec, the session's credentials, the exchanges it judges and
    every request they carried, read as a server reads it (`views`, in arrival order)."""

    spec: Spec
    credentials: Credentials
    exchanges: tuple[ClientExchange, ...]
    views: tuple[RequestView, ...]

    @classmethod
    def of(
        cls, spec: Spec, credentials: Credentials, exchanges: Iterable[ClientExchange]
    ) -> CheckContext:
        """The context of `exchanges`, each of their requests parsed once."""
        chosen = tuple(exchanges)
        views = tuple(view(r, spec) for e in chosen for r in e.requests)
        return cls(spec, credentials, chosen, views)


CheckFunction = Callable[..., list[Problem]]
Params = Callable[[Spec], Iterable[Mapping[str, str]]]
Judges = Callable[["RebootCall", Mapping[str, str]], bool]
Key = Callable[[RequestView], str | None]


@dataclass(frozen=True)
class RequestCheck:
    """A registered check: the requirement id it verifies (a template over the parameters
    `over` draws from the spec), the function, which calls it judges (default: all: `judges`
    reads what the call asked for, which only the client suite knows), the key it compares
    requests on (`across`, None: each request is judged alone) and whether it verifies with
    the session's secret (`keyed`)."""

    requirement: str
    function: CheckFunction
    over: Params | None = None
    judges: Judges | None = None
    across: Key | None = None
    keyed: bool = False

    def cases(self, spec: Spec) -> list[CheckCase]:
        """One case per parameter set (one case when the check takes none)."""
        params: Iterable[Mapping[str, str]] = self.over(spec) if self.over else ({},)
        return [CheckCase(self, dict(p), self.requirement.format(**p)) for p in params]


@dataclass(frozen=True)
class CheckCase:
    """One check with its parameters: what the parametrised test runs."""

    check: RequestCheck
    params: Mapping[str, str]
    requirement: str

    @property
    def id(self) -> str:
        """The test id: the requirement id."""
        return self.requirement

    def judges(self, call: RebootCall) -> bool:
        """Whether this case judges the requests of `call`."""
        judges = self.check.judges
        return judges is None or judges(call, self.params)

    def run(self, context: CheckContext) -> list[Problem]:
        """The problems found (raises `NotJudged` when the case cannot judge)."""
        return self.check.function(context, **self.params)


CHECKS: list[RequestCheck] = []
"""Every registered check, in registration order (the order the test runs them)."""


def check(
    requirement: str,
    *,
    over: Params | None = None,
    judges: Judges | None = None,
    across: Key | None = None,
    keyed: bool = False,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check for `requirement` (an id, or a template over `over`'s parameters).
    A requirement registered twice is refused at import, like schemathesis' registry."""
    fields_named = {f for _, f, _, _ in string.Formatter().parse(requirement) if f}

    def register(function: CheckFunction) -> CheckFunction:
        if any(c.requirement == requirement for c in CHECKS):
            raise ValueError(f"a check for {requirement!r} is already registered")
        if fields_named and over is None:
            raise ValueError(f"{requirement!r} names parameters; give `over`")
        CHECKS.append(RequestCheck(requirement, function, over, judges, across, keyed))
        return function

    return register


def cases(spec: Spec) -> list[CheckCase]:
    """Every case of every registered check for `spec`, in registration order."""
    return [case for c in CHECKS for case in c.cases(spec)]


def access_key_id(v: RequestView) -> str | None:
    """The AccessKeyId a request is signed with (V2 parameter, V3 Credential), or None."""
    if v.v3:
        try:
            return parse_authorization_v3(v.headers.get("authorization", "")).access_key_id
        except SignatureFormatError:
            return None
    values = v.values("AccessKeyId")
    return values[0] if len(values) == 1 else None


def nonce_of(v: RequestView) -> str | None:
    """The request's SignatureNonce (V3: its header too), when it gives exactly one."""
    values = set(v.value("SignatureNonce", "x-acs-signature-nonce" if v.v3 else None))
    return next(iter(values)) if len(values) == 1 else None


def call_field(parameter: str) -> str:
    """The `RebootCall` field of a boolean parameter: `ForceStop` -> `force_stop`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", parameter).lower()


# -- helpers -----------------------------------------------------------------------------------


def _each_value(
    ctx: CheckContext,
    name: str,
    header: Callable[[RequestView], str | None],
    judge: Callable[[RequestView, str], Problem | None],
) -> list[Problem]:
    """The problems of every request with `name`: missing, given contradictory values (as a
    parameter and in the V3 `header`), or the one value that `judge` finds wrong."""
    problems = []
    for v in ctx.views:
        values = v.value(name, header(v))
        if not values:
            problem: Problem | None = Problem(f"{name} in the request", f"no {name}")
        elif len(set(values)) > 1:
            problem = Problem(f"one {name}", f"contradictory values {values}")
        else:
            problem = judge(v, values[0])
        if problem is not None:
            problems.append(replace(problem, request=v.request))
    return problems


def _equals(name: str, wanted: str) -> Callable[[RequestView, str], Problem | None]:
    """A judge for `_each_value`: the value is `wanted`."""
    return lambda v, got: None if got == wanted else Problem(f"{name} {wanted}", f"{name} {got}")


def _v3_header(header: str) -> Callable[[RequestView], str | None]:
    """`header` for V3 requests only (V2 carries the value as a parameter alone)."""
    return lambda v: header if v.v3 else None


def instance_id_problems(v: RequestView, expected: str, name: str) -> list[Problem]:
    """The instance id parameter `name` the server decodes is exactly the one the caller gave
    (for the generated calls of `test_instance_ids.py`)."""
    if v.parse_error:
        return [Problem(f"{name} {expected!r}", f"unreadable request: {v.parse_error}")]
    values = v.values(name)
    if values != [expected]:
        got = ", ".join(repr(x) for x in values) or f"no {name}"
        return [Problem(f"{name} {expected!r}", got, v.request)]
    return []


_GATEWAYS: dict[tuple[int, Credentials, str, str], tuple[Spec, Gateway]] = {}
_MAX_GATEWAYS = 64


def _signature_gateway(spec: Spec, credentials: Credentials, action: str, version: str) -> Gateway:
    """The shared gateway that verifies signatures only, built once per spec, key and claimed
    Action/Version (the checking proxy verifies every request it forwards)."""
    key = (id(spec), credentials, action, version)
    hit = _GATEWAYS.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    gateway = Gateway(
        {credentials.access_key_id: credentials.access_key_secret},
        {action: version},
        spec.gateway_errors,
        spec.profile,
        check_nonces=False,
        check_timestamps=False,
        check_signature_method=False,
        check_signed_headers=False,
    )
    if len(_GATEWAYS) >= _MAX_GATEWAYS:  # claimed Actions/Versions are the client's choice
        _GATEWAYS.clear()
    _GATEWAYS[key] = (spec, gateway)
    return gateway


def _signature_problems(v: RequestView, ctx: CheckContext, version: str) -> list[Problem]:
    spec, credentials = ctx.spec, ctx.credentials
    action = (v.value("Action", "x-acs-action") or [spec.action])[0]
    api_version = (v.value("Version", "x-acs-version") or [spec.version])[0]
    # Only the signature is judged here: nonces, timestamps, the Action/Version values, the V2
    # algorithm names and the V3 SignedHeaders list have their own checks (one cause, one
    # failure), so the gateway accepts whatever the client claimed about them.
    gateway = _signature_gateway(spec, credentials, action, api_version)
    r = v.request
    try:
        gateway.authenticate(r.method, r.raw_query, r.headers, r.body)
    except ApiError as exc:
        return [Problem("a valid signature", f"{exc.code}: {exc.message}", r)]
    return []


def _signature_versions(spec: Spec) -> list[dict[str, str]]:
    return [{"version": v} for v in ("v2", "v3")]


def _methods(spec: Spec) -> list[dict[str, str]]:
    return [{"method": m} for m in spec.profile.api.methods]


def _booleans(spec: Spec) -> list[dict[str, str]]:
    return [{"name": p.name} for p in spec.boolean_parameters]


def _boolean_values(spec: Spec) -> list[dict[str, str]]:
    return [{"name": p.name, "value": v} for p in spec.boolean_parameters for v in p.enum]


def _asked(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"


def _asked_in(call: RebootCall, params: Mapping[str, Any]) -> bool:
    return getattr(call, call_field(params["name"])) is _asked(params.get("value"))


# -- the checks, in the order they run ---------------------------------------------------------


@check("protocol.action.value")
def action_is_the_operation(ctx: CheckContext) -> list[Problem]:
    """`Action` (parameter or `x-acs-action`) is the operation's name."""
    return _each_value(ctx, "Action", lambda v: "x-acs-action", _equals("Action", ctx.spec.action))


@check("protocol.version.value")
def version_is_the_api_version(ctx: CheckContext) -> list[Problem]:
    """`Version` (parameter or `x-acs-version`) is the API version."""
    return _each_value(
        ctx, "Version", lambda v: "x-acs-version", _equals("Version", ctx.spec.version)
    )


@check("protocol.signature.{version}", over=_signature_versions, keyed=True)
def signature_is_valid(ctx: CheckContext, version: str) -> list[Problem]:
    """Every request is signed, and the shared gateway verifies the `version` signatures the
    client made; not judged when it never signs with `version`."""
    unsigned = [
        Problem("a V2 Signature parameter or a V3 Authorization header", "unsigned", v.request)
        for v in ctx.views
        if v.signature_version is None
    ]
    if unsigned:
        return unsigned
    used = {v.signature_version for v in ctx.views}
    if version not in used:
        raise NotJudged(f"the client signs with {', '.join(sorted(u for u in used if u))} only")
    return [
        p
        for v in ctx.views
        if v.signature_version == version
        for p in _signature_problems(v, ctx, version)
    ]


@check("protocol.timestamp.format")
def timestamp_is_well_formed(ctx: CheckContext) -> list[Problem]:
    """`YYYY-MM-DDThh:mm:ssZ`, UTC, no fractional seconds."""
    pattern = ctx.spec.profile.timestamp.format

    def judge(v: RequestView, value: str) -> Problem | None:
        try:
            parse_timestamp(value)
        except ValueError:
            return Problem(pattern, repr(value))
        return None

    return _each_value(ctx, "Timestamp", _v3_header("x-acs-date"), judge)


@check("protocol.timestamp.expired")
def timestamp_is_fresh(ctx: CheckContext) -> list[Problem]:
    """The timestamp is within the profile's skew of the request's arrival."""
    skew = float(ctx.spec.profile.timestamp.max_skew_seconds)

    readable = [0]

    def judge(v: RequestView, value: str) -> Problem | None:
        try:
            stamp = parse_timestamp(value).timestamp()
        except ValueError:
            # Unusable input for this check: protocol.timestamp.format judges the format, so
            # one malformed timestamp is one failure, not two.
            return None
        readable[0] += 1
        off = stamp - v.request.received_at
        if abs(off) > skew:
            return Problem(f"within {skew:g} s of the arrival", f"{off:+.0f} s off")
        return None

    problems = _each_value(ctx, "Timestamp", _v3_header("x-acs-date"), judge)
    if not problems and not readable[0]:
        raise NotJudged(
            "no request carries a timestamp in the documented format, so its age cannot be "
            "read (protocol.timestamp.format judges the format)"
        )
    return problems


def _signing_with(ctx: CheckContext, version: str) -> list[RequestView]:
    """The requests signed with `version`; `NotJudged` when the client never signs so."""
    views = [v for v in ctx.views if v.signature_version == version]
    if not views:
        used = sorted({str(v.signature_version) for v in ctx.views})
        raise NotJudged(f"the client signs with {', '.join(used)} only")
    return views


@check("protocol.signature.v3.signed-headers")
def v3_signs_every_required_header(ctx: CheckContext) -> list[Problem]:
    """Every V3 request's SignedHeaders covers `host` and every `x-acs-*` header it carries
    (the shared rule of `conformance.protocol.signing.unsigned_headers_v3`)."""
    signatures = ctx.spec.profile.signatures
    required, prefixes = signatures.v3_signed_required, signatures.v3_signed_prefixes
    problems = []
    for v in _signing_with(ctx, "v3"):
        try:
            auth = parse_authorization_v3(v.headers.get("authorization", ""))
        except SignatureFormatError as exc:
            problems.append(Problem("an ACS3-HMAC-SHA256 Authorization", str(exc), v.request))
            continue
        left_out = unsigned_headers_v3(auth, v.headers, required=required, prefixes=prefixes)
        if left_out:
            problems.append(
                Problem(
                    f"SignedHeaders covering {', '.join(required)} and every "
                    f"{'/'.join(p + '*' for p in prefixes)} header sent",
                    f"SignedHeaders={';'.join(auth.signed_headers)} leaves out "
                    + ", ".join(left_out),
                    v.request,
                )
            )
    return problems


@check("protocol.signature.v2.algorithm")
def v2_names_the_documented_algorithm(ctx: CheckContext) -> list[Problem]:
    """Every V2 request names the profile's SignatureMethod and SignatureVersion, once."""
    signatures = ctx.spec.profile.signatures
    wanted = {"SignatureMethod": signatures.v2_method, "SignatureVersion": signatures.v2_version}
    problems = []
    for v in _signing_with(ctx, "v2"):
        for name, value in wanted.items():
            got = v.values(name)
            if got != [value]:
                shown = ", ".join(repr(g) for g in got) or f"no {name}"
                problems.append(Problem(f"{name}={value}", shown, v.request))
    return problems


@check("protocol.nonce.unique", across=nonce_of)
def nonce_differs_across_calls(ctx: CheckContext) -> list[Problem]:
    """Every request carries a nonce no other request carried."""
    seen: set[str] = set()

    def judge(v: RequestView, value: str) -> Problem | None:
        again = value in seen
        seen.add(value)
        return Problem("a nonce never sent before", f"nonce {value!r} again") if again else None

    return _each_value(ctx, "SignatureNonce", _v3_header("x-acs-signature-nonce"), judge)


@check("protocol.method.{method}", over=_methods)
def method_is_allowed(ctx: CheckContext, method: str) -> list[Problem]:
    """Every request uses a method the profile allows; not judged when the client never uses
    `method`."""
    allowed = [m["method"] for m in _methods(ctx.spec)]
    problems = [
        Problem(" or ".join(allowed), f"method {v.request.method}", v.request)
        for v in ctx.views
        if v.request.method not in allowed
    ]
    if problems:
        return problems
    if not any(v.request.method == method for v in ctx.views):
        used = sorted({v.request.method for v in ctx.views})
        raise NotJudged(f"the client sends {', '.join(used)}, never {method}")
    return []


@check("protocol.params.merged")
def no_duplicate_or_contradictory_parameters(ctx: CheckContext) -> list[Problem]:
    """Query and body merge into one set, so no name twice (nor Action/Version disagreeing
    with their V3 headers)."""
    problems = []
    for v in ctx.views:
        if v.parse_error:
            problems.append(Problem("a readable query and body", v.parse_error, v.request))
            continue
        names = [k for k, _ in (*v.query, *v.body)]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(Problem("each parameter once", f"given twice: {twice}", v.request))
        if v.v3:
            for name, header in (("Action", "x-acs-action"), ("Version", "x-acs-version")):
                values = set(v.value(name, header))
                if len(values) > 1:
                    problems.append(
                        Problem(f"{name} agreeing with {header}", f"{sorted(values)}", v.request)
                    )
    return problems


@check("doc.param.{name}.type", over=_booleans)
def boolean_is_a_wire_boolean(ctx: CheckContext, name: str) -> list[Problem]:
    """Every value sent for the boolean parameter `name` is a wire boolean; not judged when
    no request carries `name` (no value, no evidence)."""
    parse = ctx.spec.profile.booleans.parse
    sent = [(v, value) for v in ctx.views for value in v.values(name)]
    if not sent:
        raise NotJudged(f"no request carries {name}")
    return [
        Problem("true or false (any case)", repr(value), v.request)
        for v, value in sent
        if parse(value) is None
    ]


@check("doc.param.{name}.value.{value}", over=_boolean_values, judges=_asked_in)
@check("doc.default.{name}", over=_booleans, judges=_asked_in)
def boolean_means_what_was_asked(
    ctx: CheckContext, name: str, value: str | None = None
) -> list[Problem]:
    """In the calls that asked `value` (or left `name` unset), the boolean is a valid wire
    boolean meaning what was asked; unset means absent or false (doc.default.*)."""
    asked = _asked(value)
    parse = ctx.spec.profile.booleans.parse
    problems = []
    for v in ctx.views:
        values = v.values(name)
        if len(values) > 1:
            problems.append(
                Problem(f"at most one {name}", f"{name} given {len(values)} times", v.request)
            )
        elif not values:
            if asked is True:
                problems.append(Problem(f"{name}=true (asked true)", f"no {name}", v.request))
        elif (parsed := parse(values[0])) is None:
            problems.append(
                Problem(f"{name} a boolean (true/false)", f"{name}={values[0]!r}", v.request)
            )
        elif parsed != bool(asked):  # unset: the default, false
            what = "unset (absent or false)" if asked is None else str(asked).lower()
            problems.append(Problem(f"{name} {what}", f"{name}={values[0]}", v.request))
    return problems
