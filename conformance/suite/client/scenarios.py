"""Client-suite scenarios: one definition each, the scripted answer plus what the client must do.

A `Scenario` says which call to make, what the server answers (an `Answer`, rendered per request in
the format the request asked for) and what `Outcome` is expected. Every code, status and message
comes from the spec (docs/architecture.md#principles); the builders below derive
scenarios from it, so a new document needs no edit here. Both scripted servers play the same
`Scenario` through `responder()`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from conformance.client.contract import NO_ANSWER_WAIT_S, Outcome, RebootCall
from conformance.config import Credentials
from conformance.protocol.envelopes import (
    ApiError,
    Envelopes,
    ResponseFormat,
    new_request_id,
)
from conformance.protocol.wire import WireError, parse_urlencoded
from conformance.spec.facts import Profile
from conformance.spec.model import ErrorRow, Spec
from conformance.suite.client.recording import HANG, RecordedRequest, Reply, Responder

__all__ = [
    "MALFORMED_KINDS",
    "Answer",
    "Expect",
    "Scenario",
    "dryrun_scenario",
    "error_row_id",
    "error_row_scenarios",
    "error_scenario",
    "gateway_scenario",
    "instance_ids",
    "malformed_scenario",
    "requested_format",
    "responder",
    "special_instance_ids",
    "success_scenario",
]

SUCCESS, ERROR, RAW, HANG_KIND = "success", "error", "raw", "hang"
# What a malformed-response scenario sends, and the requirement it tests: the responses a real
# network or a broken gateway can give (an HTML 502, an empty or truncated body, no answer at
# all); a client must not take any of them for a success, nor crash on them.
_UNUSABLE = "interop.client.unusable-response"
MALFORMED_KINDS: Mapping[str, str] = {
    "html-502": _UNUSABLE,
    "empty-200": _UNUSABLE,
    "xml-error": "interop.content-type.xml-exact",
    "truncated-json-200": _UNUSABLE,
    "truncated-json-500": _UNUSABLE,
    "no-response": _UNUSABLE,
}


@dataclass(frozen=True)
class Answer:
    """What the scripted server answers: an envelope (success or error, in the requested
    format), raw bytes, or nothing at all (`hang`)."""

    kind: str
    http_status: int = 200
    code: str | None = None
    message: str | None = None
    content_type: str | None = None
    body: bytes = b""

    @classmethod
    def success(cls) -> Answer:
        """`{"RequestId": ...}` or its XML form, HTTP 200."""
        return cls(SUCCESS)

    @classmethod
    def error(cls, code: str, message: str, http_status: int) -> Answer:
        """A documented error envelope."""
        return cls(ERROR, http_status, code, message)

    @classmethod
    def raw(cls, http_status: int, content_type: str | None, body: bytes) -> Answer:
        """Bytes as they are (malformed responses)."""
        return cls(RAW, http_status, content_type=content_type, body=body)

    @classmethod
    def hang(cls) -> Answer:
        """A response that never comes."""
        return cls(HANG_KIND)


@dataclass(frozen=True)
class Expect:
    """The expected `Outcome`: `success`, an `error` (code, message, status, request id all
    equal), or `unusable` (any `ok: false`; a status, if given, must be the one sent)."""

    kind: str
    code: str | None = None
    message: str | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class Scenario:
    """One exchange: the call, the scripted answer, the expected outcome."""

    name: str
    answer: Answer
    expect: Expect
    instance_id: str = "i-conformance0001"
    force_stop: bool | None = None
    dry_run: bool | None = None
    request_id: str = field(default_factory=new_request_id)
    # interop.retries.none (docs/protocol.md#official-sdks): a reboot is not resent after a 4xx.
    max_requests: int | None = None
    # How long to wait for the adapter (None: its usual bound); the no-answer scenario waits
    # longer than every official SDK's default timeouts (NO_ANSWER_WAIT_S).
    wait_s: float | None = None

    def call(
        self,
        endpoint: str,
        credentials: Credentials,
        protocol: str = "http",
        timeout_hint_s: float | None = None,
    ) -> RebootCall:
        """The `RebootCall` handed to the adapter (`timeout_hint_s`: `RebootCall.timeout_s`)."""
        return RebootCall(
            endpoint=endpoint,
            protocol=protocol,
            instance_id=self.instance_id,
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            force_stop=self.force_stop,
            dry_run=self.dry_run,
            timeout_s=timeout_hint_s,
        )

    def check(self, outcome: Outcome) -> str | None:
        """None when `outcome` is what this scenario expects, else what differs."""
        exp = self.expect
        if exp.kind == SUCCESS:
            if not outcome.ok:
                return "a success Outcome"
            if outcome.request_id != self.request_id:
                return f"request_id {self.request_id!r} (the body's RequestId)"
            return None
        if outcome.ok:
            return "an error Outcome (ok: false), not a success"
        if exp.kind == ERROR:
            diffs = []
            wanted = {
                "code": exp.code,
                "message": exp.message,
                "request_id": self.request_id,
                "http_status": exp.http_status,
            }
            for name, value in wanted.items():
                if getattr(outcome, name) != value:
                    diffs.append(f"{name} {value!r}")
            return ", ".join(diffs) if diffs else None
        if outcome.http_status is not None and outcome.http_status != exp.http_status:
            return f"http_status {exp.http_status} (as sent) or null"
        return None

    def describe_expectation(self) -> str:
        """The expected Outcome, as text."""
        exp = self.expect
        if exp.kind == SUCCESS:
            return Outcome.success(self.request_id).describe()
        if exp.kind == ERROR:
            return Outcome.error(exp.code, exp.message, self.request_id, exp.http_status).describe()
        return (
            '{"ok": false, ...} (no usable response; code may be null; http_status '
            f"{exp.http_status} or null)"
        )


# -- rendering ---------------------------------------------------------------------------------


def requested_format(request: RecordedRequest, profile: Profile) -> ResponseFormat:
    """The format the request asked for: its `Format`, else JSON for V3 (which sends `Accept:
    application/json`) and the profile's V2 default otherwise (docs/protocol.md#responses)."""
    pairs: list[tuple[str, str]] = []
    try:
        pairs = parse_urlencoded(request.raw_query)
        if request.body and "json" not in request.headers.get("content-type", ""):
            pairs += parse_urlencoded(request.body)
    except WireError:
        pass
    for name, value in pairs:
        if name == "Format":
            fmt = ResponseFormat.parse(value)
            if fmt is not None:
                return fmt
    formats = profile.formats
    v3 = request.headers.get("authorization", "").startswith(profile.signatures.v3_algorithm)
    return ResponseFormat((formats.default_v3 if v3 else formats.default_v2).upper())


def responder(scenario: Scenario, spec: Spec) -> Responder:
    """The function both servers call for each request of `scenario`."""
    envelopes = Envelopes.from_profile(spec.profile)
    rid_header = envelopes.request_id_header
    answer = scenario.answer

    def respond(request: RecordedRequest) -> Reply | object:
        if answer.kind == HANG_KIND:
            return HANG
        if answer.kind == RAW:
            headers = [(rid_header, scenario.request_id)]
            if answer.content_type is not None:
                headers.append(("content-type", answer.content_type))
            return Reply(answer.http_status, tuple(headers), answer.body)
        fmt = requested_format(request, spec.profile)
        if answer.kind == SUCCESS:
            body, ctype = envelopes.render_success(
                spec.action, {"RequestId": scenario.request_id}, fmt
            )
            status = 200
        else:
            assert answer.code is not None and answer.message is not None
            error = ApiError(answer.http_status, answer.code, answer.message)
            body, ctype = envelopes.render_error(error, fmt, scenario.request_id)
            status = answer.http_status
        return Reply(status, (("content-type", ctype), (rid_header, scenario.request_id)), body)

    return respond  # type: ignore[return-value]


# -- builders ----------------------------------------------------------------------------------


def success_scenario(**call: Any) -> Scenario:
    """The call succeeds; the Outcome carries the body's RequestId (doc.response.RequestId)."""
    return Scenario("success", Answer.success(), Expect(SUCCESS), **call)


def error_scenario(code: str, message: str, http_status: int, name: str, **call: Any) -> Scenario:
    """The server answers one error; the Outcome must carry all of it."""
    return Scenario(
        name,
        Answer.error(code, message, http_status),
        Expect(ERROR, code, message, http_status),
        max_requests=1 if 400 <= http_status < 500 else None,
        **call,
    )


def _fill_placeholder(row: ErrorRow) -> str:
    # A `%s` message is a template: the server fills it; any text proves the client keeps it
    # verbatim. The filler names the row so a mixed-up message is easy to spot.
    return row.message.replace("%s", f"Conformance filler for {row.code} (line {row.line})")


def error_row_id(spec: Spec, index: int) -> str:
    """The catalogue id of the error table's row `index`: `doc.error.<status>.<Code>`, with
    `.message-<n>` for the n-th row of a repeated code."""
    row = spec.errors[index]
    nth = Counter(r.code for r in spec.errors[: index + 1])[row.code]
    base = f"doc.error.{row.http_status}.{row.code}"
    return base if nth == 1 else f"{base}.message-{nth}"


def error_row_scenarios(spec: Spec) -> list[tuple[str, Scenario]]:
    """One scenario per row of the error table (both messages of repeated codes)."""
    out = []
    for index, row in enumerate(spec.errors):
        rid = error_row_id(spec, index)
        out.append((rid, error_scenario(row.code, _fill_placeholder(row), row.http_status, rid)))
    return out


def dryrun_scenario(spec: Spec) -> Scenario:
    """DryRun=true passes: the server answers DryRunOperation (doc.dryrun.passes)."""
    d = spec.dryrun
    return error_scenario(d.code, d.message, d.http_status, "dryrun-passes", dry_run=True)


def gateway_scenario(spec: Spec, situation: str, **fields: str) -> Scenario:
    """The reference variant of a gateway-level error (docs/protocol.md#gateway-errors), its
    `{Field}` placeholders filled from `fields`."""
    v = spec.gateway_error(situation, **fields)
    return error_scenario(v.code, v.emulator_message, v.http_status, f"gateway-{situation}")


def malformed_scenario(spec: Spec, kind: str) -> Scenario:
    """A response no client can use; the kinds are `MALFORMED_KINDS`."""
    envelopes = Envelopes.from_profile(spec.profile)
    json_type = envelopes.content_type(ResponseFormat.JSON)
    xml_type = envelopes.content_type(ResponseFormat.XML)
    server_error = next((r for r in spec.errors if r.http_status >= 500), spec.errors[0])
    rid = new_request_id()
    if kind == "html-502":
        body = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
        answer = Answer.raw(502, "text/html", body)
    elif kind == "empty-200":
        answer = Answer.raw(200, json_type, b"")
    elif kind == "xml-error":
        # An XML error envelope with the exact XML content type (interop.content-type.xml-exact),
        # whatever format the client asked for.
        error = ApiError(server_error.http_status, server_error.code, server_error.message)
        body, _ = envelopes.render_error(error, ResponseFormat.XML, rid)
        answer = Answer.raw(server_error.http_status, xml_type, body)
    elif kind in ("truncated-json-200", "truncated-json-500"):
        status = 200 if kind.endswith("200") else server_error.http_status
        if status == 200:
            full, _ = envelopes.render_success(spec.action, {"RequestId": rid}, ResponseFormat.JSON)
        else:
            error = ApiError(status, server_error.code, server_error.message)
            full, _ = envelopes.render_error(error, ResponseFormat.JSON, rid)
        answer = Answer.raw(status, json_type, full[: len(full) // 2])
    elif kind == "no-response":
        answer = Answer.hang()
    else:
        raise KeyError(f"unknown malformed kind {kind!r}; known: {', '.join(MALFORMED_KINDS)}")
    sent: int | None = None if answer.kind == HANG_KIND else answer.http_status
    return Scenario(
        f"malformed-{kind}",
        answer,
        Expect("unusable", http_status=sent),
        request_id=rid,
        wait_s=NO_ANSWER_WAIT_S if answer.kind == HANG_KIND else None,
    )


# -- instance ids ------------------------------------------------------------------------------

# Every character class an id may carry on the wire (the encoding is where clients differ):
# unreserved, the characters that percent-encoding rules disagree on (space, `*`, `~`, `+`), the
# separators of the query itself (`&`, `=`, `%`, `/`), and non-ASCII.
_CHARACTER_CLASSES = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "-_.~",
    " *+",
    "/%&=?#;:,@!$'()[]",
    "éü中文ßñ😀",
)
_ID_CHARS = "".join(_CHARACTER_CLASSES)


def special_instance_ids() -> tuple[str, ...]:
    """Fixed ids that carry every character class at once (for the request checks)."""
    return ("i-bp67acfmxazb4ph****", "i-a b+c*d~e/f%g&h=i?j#k", "i-é中 😀+%2B%20")


def instance_ids() -> st.SearchStrategy[str]:
    """Generated ids: an `i-` prefix and characters drawn from every class (shrinks toward
    plain ASCII), plus fully arbitrary printable text now and then."""
    tail = st.text(alphabet=st.sampled_from(_ID_CHARS), min_size=1, max_size=24)
    arbitrary = st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=16
    )
    return st.one_of(tail.map(lambda t: "i-" + t), arbitrary.map(lambda t: "i-" + t))
