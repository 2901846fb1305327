"""The checking proxy's judge: every exchange that went through the proxy, held to the same
requirements, as strictly, as the suites hold a client and a server.

* The client side is the client suite's request-check registry (`suite/client/checks.py`),
  run on each request as it came: a check that compares requests (`across=`) gets the
  earlier request that had the same key (the nonce) beside it; one that verifies with the
  secret (`keyed=`) judges only requests signed with the configured AccessKeyId; one about
  what the caller asked for (`judges=`: "ForceStop=true when asked") cannot be judged from
  the wire and says so.
* The server side is what one answer shows, judged by the server suite's own functions
  (`suite/server/answers.py`, the lifecycle oracle's DryRun outcome, the spec's error rows):
  envelope, format and content type, the status and code pairs of the document, RequestId
  present and unique, the DryRun outcome. What no source describes (an undocumented code,
  extra envelope fields, no answer at all) is an observation.

Each requirement becomes one record of a `Ledger` (`traffic::<side>::<id>`): failed with the
first exchanges that broke it, passed when some exchange showed it held, else not_verified
with "not observed in the traffic" and what would have shown it. The reports are the suites'
(`build_report`), so the same ids, strictness and verdict rules apply.

Only requests for the spec's Action (or naming none) are judged; others are forwarded and
counted. Memory is bounded: at most `_REMEMBERED` earlier requests and RequestIds are kept for
the comparisons, a few failures and observations per requirement.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from conformance.config import Credentials
from conformance.protocol.envelopes import ResponseFormat, WireResponse
from conformance.proxy.traffic import TrafficExchange
from conformance.spec.model import Spec
from conformance.suite.client import checks
from conformance.suite.client.recording import RecordedRequest
from conformance.suite.failures import Observation, fail
from conformance.suite.ledger import FAILED, NOT_VERIFIED, PASSED, Ledger, TestRecord
from conformance.suite.oracle import Expected, LifecycleOracle
from conformance.suite.server import answers

__all__ = ["CLIENT", "NOT_OBSERVED", "SERVER", "Judged", "TrafficJudge"]

CLIENT, SERVER = "client", "server"
NOT_OBSERVED = "not observed in the traffic"
_REMEMBERED = 20_000  # earlier requests (per compared key) and RequestIds kept
_MAX_FAILURES = 3  # failure texts kept per requirement (the rest are counted)
_MAX_OBSERVATIONS = 20  # distinct observations kept per requirement
_NODE = "traffic::{side}::{id}"

_SUCCESS_IDS = ("protocol.envelope.success",)
_ERROR_ID = "protocol.envelope.error"
_CONTENT_TYPE = "protocol.content-type"
_REQUEST_ID_IDS = ("doc.response.RequestId", "protocol.request-id.unique")
_DEFAULT_DRYRUN = "doc.default.DryRun"
_DRYRUN_FALSE = "doc.param.DryRun.value.false"


@dataclass(frozen=True)
class Judged:
    """What one exchange showed: the ids it failed, per side (for the live line)."""

    judged: bool
    client_failed: tuple[str, ...] = ()
    server_failed: tuple[str, ...] = ()
    line: str = ""


@dataclass
class _Tally:
    """Everything the traffic said about one requirement on one side."""

    side: str
    requirement: str
    passed: int = 0
    failed: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # reason, text, repro
    not_judged: Counter[str] = field(default_factory=Counter)
    observations: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def record(self, hint: str) -> TestRecord:
        nodeid = _NODE.format(side=self.side, id=self.requirement)
        observed = [
            Observation(
                kind,
                text if count == 1 else f"{text} ({count} exchanges)",
                evidence,
                self.requirement,
            ).to_dict()
            for (kind, text), (count, evidence) in self.observations.items()
        ]
        if self.failed:
            reason, text, repro = self.failures[0]
            more = self.failed - 1
            if more:
                text += f"\n({more} more exchange(s) broke it; the first {_MAX_FAILURES} kept)"
                reason += f" (and {more} more)"
            return TestRecord(
                nodeid,
                [self.requirement],
                FAILED,
                reason=reason,
                evidence=text,
                reproduce=repro,
                observations=observed,
            )
        if self.passed:
            return TestRecord(nodeid, [self.requirement], PASSED, observations=observed)
        why = "; ".join(f"{r} ({n}x)" if n > 1 else r for r, n in self.not_judged.most_common(3))
        return TestRecord(
            nodeid,
            [self.requirement],
            NOT_VERIFIED,
            reason=f"{NOT_OBSERVED}: {why or hint}",
            observations=observed,
        )


def _curl(exchange: TrafficExchange) -> str:
    return exchange.curl()


class TrafficJudge:
    """Judges exchanges one at a time (thread-safe) and keeps the tallies for the report.

    `reproduce(exchange)` is the one command a failure shows (default: the request as a curl
    command to the upstream; the pytest fixture gives the test that sent it).
    """

    def __init__(
        self,
        spec: Spec,
        credentials: Credentials,
        *,
        reproduce: Callable[[TrafficExchange], str] = _curl,
    ) -> None:
        self.spec = spec
        self.credentials = credentials
        self._reproduce = reproduce
        self._lock = threading.Lock()
        self._oracle = LifecycleOracle(spec)
        self._booleans = spec.profile.booleans
        self._dry_run = spec.dry_run_parameter.name
        self._instance = spec.instance_parameter.name
        self._formats = spec.profile.formats
        self._cases = checks.cases(spec)
        self._earlier: dict[str, OrderedDict[str, checks.RequestView]] = {}
        self._request_ids: OrderedDict[str, None] = OrderedDict()
        self._row_codes = {row.code for row in spec.errors}
        self._gateway_codes = {v.code for vs in spec.gateway_errors.values() for v in vs}
        self._known_codes = {*self._row_codes, *self._gateway_codes, spec.dryrun.code}
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._hints: dict[tuple[str, str], str] = {}
        for case in self._cases:
            self._declare(CLIENT, case.requirement, _client_hint(case))
        for rid, hint in _server_hints(spec):
            self._declare(SERVER, rid, hint)
        # What no source describes and no requirement is about (no answer, a refused request).
        self._general = _Tally("traffic", "")
        self.exchanges = 0
        self.judged = 0
        self.other_actions: Counter[str] = Counter()
        self.unanswered = 0

    # -- the scope ------------------------------------------------------------------------------
    def _declare(self, side: str, requirement: str, hint: str) -> None:
        self._tallies[(side, requirement)] = _Tally(side, requirement)
        self._hints[(side, requirement)] = hint

    @property
    def requirements(self) -> frozenset[str]:
        """Every requirement id a passive judge can verify from traffic (the report's scope)."""
        return frozenset(rid for _, rid in self._tallies)

    def side_of(self, requirement: str) -> set[str]:
        """`client`, `server`, or both: which side of the traffic judges `requirement`."""
        return {side for side, rid in self._tallies if rid == requirement}

    # -- judging --------------------------------------------------------------------------------
    def judge(self, exchange: TrafficExchange) -> Judged:
        """Judge one exchange (both sides); never raises for what the peers did."""
        with self._lock:
            self.exchanges += 1
            v = checks.view(exchange.request, self.spec)
            actions = set(v.value("Action", "x-acs-action" if v.v3 else None))
            if actions and self.spec.action not in actions:
                self.other_actions[", ".join(sorted(actions))] += 1
                verdict = "forwarded, not judged (another Action)"
                return Judged(False, line=_line(exchange, v, self._instance, verdict))
            self.judged += 1
            if exchange.refused is not None:
                self._observe_general("refused-request", exchange.refused, exchange)
                return Judged(True, line=_line(exchange, v, self._instance, "refused by the proxy"))
            client = self._client_side(exchange, v)
            server = self._server_side(exchange, v)
            text = [f"client {'FAILED ' + ', '.join(client) if client else 'ok'}"]
            if exchange.response is None:
                self.unanswered += 1
                text.append(f"no answer: {exchange.failure}")
            else:
                text.append(f"server {'FAILED ' + ', '.join(server) if server else 'ok'}")
            line = _line(exchange, v, self._instance, "; ".join(text))
            return Judged(True, tuple(client), tuple(server), line)

    def _tally(self, side: str, requirement: str) -> _Tally:
        return self._tallies[(side, requirement)]

    def _fail(
        self,
        side: str,
        ids: Iterable[str],
        exchange: TrafficExchange,
        expected: str,
        received: str,
    ) -> list[str]:
        ids = [i for i in ids if (side, i) in self._tallies]
        if not ids:
            return []
        text = str(
            fail(
                self.spec,
                ids,
                expected=expected,
                received=received,
                exchange=exchange.describe(),
                reproduce=self._reproduce(exchange),
            )
        )
        reason = f"expected {expected}; received {received}"[:500]
        repro = self._reproduce(exchange)
        for rid in ids:
            tally = self._tally(side, rid)
            tally.failed += 1
            if len(tally.failures) < _MAX_FAILURES:
                tally.failures.append((reason, text, repro))
        return ids

    def _pass(self, side: str, ids: Iterable[str]) -> None:
        for rid in ids:
            if (side, rid) in self._tallies:
                self._tally(side, rid).passed += 1

    def _observe(
        self, side: str, rid: str, kind: str, text: str, exchange: TrafficExchange
    ) -> None:
        if (side, rid) in self._tallies:
            _note(self._tally(side, rid), kind, text, exchange)

    def _observe_general(self, kind: str, text: str, exchange: TrafficExchange) -> None:
        _note(self._general, kind, text, exchange)

    # -- client side ----------------------------------------------------------------------------
    def _client_side(self, exchange: TrafficExchange, v: checks.RequestView) -> list[str]:
        failed: list[str] = []
        for case in self._cases:
            check = case.check
            if check.judges is not None:
                continue  # about what the caller asked for: not on the wire (`_client_hint`)
            rid = case.requirement
            tally = self._tally(CLIENT, rid)
            if check.keyed and checks.access_key_id(v) != self.credentials.access_key_id:
                tally.not_judged[
                    f"signed with AccessKeyId {checks.access_key_id(v)!r}, not the configured "
                    f"{self.credentials.access_key_id!r} (give its secret to judge it)"
                ] += 1
                continue
            views: tuple[checks.RequestView, ...] = (v,)
            key = check.across(v) if check.across is not None else None
            if key is not None:
                remembered = self._earlier.setdefault(rid, OrderedDict())
                before = remembered.get(key)
                if before is not None:
                    views = (before, v)
                else:
                    # the parsed parameters are kept, the raw body (up to the cap) is not
                    kept = v if not v.request.body else replace(v, request=_bodiless(v.request))
                    remembered[key] = kept
                    if len(remembered) > _REMEMBERED:
                        remembered.popitem(last=False)
            context = checks.CheckContext(self.spec, self.credentials, (), views)
            try:
                problems = [p for p in case.run(context) if p.request in (None, v.request)]
            except checks.NotJudged as exc:
                tally.not_judged[exc.reason] += 1
                continue
            if problems:
                shown = problems[:3]
                failed += self._fail(
                    CLIENT,
                    [rid],
                    exchange,
                    "; ".join(dict.fromkeys(p.expected for p in shown)),
                    "; ".join(p.received for p in shown),
                )
            else:
                tally.passed += 1
        return failed

    # -- server side ----------------------------------------------------------------------------
    def _server_side(self, exchange: TrafficExchange, v: checks.RequestView) -> list[str]:
        r = exchange.response
        if r is None:
            self._observe_general(
                "no-answer", f"the upstream gave no answer: {exchange.failure}", exchange
            )
            return []
        spec = self.spec
        failed: list[str] = []
        success = r.status == spec.profile.envelopes.success_status
        if r.parse_error:
            rid = _SUCCESS_IDS[0] if r.status < 400 else _ERROR_ID
            return self._fail(
                SERVER, [rid], exchange, "a JSON or XML body", f"HTTP {r.status}, {r.parse_error}"
            )
        assert r.format is not None
        fmt = r.format.value
        failed += self._content_type(exchange, r, fmt)
        failed += self._request_id(exchange, r)
        dry = self._dry_run_value(v)
        code = r.code
        after_gateway = success or code in self._row_codes or code == spec.dryrun.code
        if after_gateway:
            failed += self._format(exchange, v, r)
        if success and code is not None and code in self._known_codes:
            failed += self._error_at_success(exchange, r, code)
        elif success:
            failed += self._success(exchange, r, fmt, dry)
        elif 400 <= r.status < 600:
            failed += self._error(exchange, r, dry)
        else:
            self._observe(
                SERVER,
                _ERROR_ID,
                "unlisted-status",
                f"HTTP {r.status}: a status no source lists",
                exchange,
            )
        return failed

    def _dry_run_value(self, v: checks.RequestView) -> bool | str | None:
        """True/False as sent, None when absent, "unreadable" when not one wire boolean."""
        values = v.values(self._dry_run)
        if not values:
            return None
        parsed = self._booleans.parse(values[0]) if len(values) == 1 else None
        return "unreadable" if parsed is None else parsed

    def _content_type(self, exchange: TrafficExchange, r: WireResponse, fmt: str) -> list[str]:
        """The Content-Type is the one of the body's format (exactly, for an XML error)."""
        wanted = self._formats.content_type(fmt)
        ids = [_CONTENT_TYPE]
        if fmt == ResponseFormat.XML.value and r.status >= 400:
            ids.append(answers.XML_EXACT_REQUIREMENT)
        failed: list[str] = []
        for rid in ids:
            ok, shown = answers.content_type_verdict(self.spec, rid, r.content_type, wanted)
            if ok:
                self._pass(SERVER, [rid])
            else:
                failed += self._fail(
                    SERVER,
                    [rid],
                    exchange,
                    f"Content-Type {shown} for a {fmt} body",
                    f"Content-Type {r.content_type}",
                )
        return failed

    def _request_id(self, exchange: TrafficExchange, r: WireResponse) -> list[str]:
        wrong = answers.request_id_mismatch(r)
        if wrong is not None:
            return self._fail(SERVER, _REQUEST_ID_IDS, exchange, wrong.expected, wrong.received)
        rid = str((r.data or {})["RequestId"])
        if rid in self._request_ids:
            return self._fail(
                SERVER, _REQUEST_ID_IDS, exchange, "a RequestId never seen before", f"{rid} again"
            )
        self._request_ids[rid] = None
        if len(self._request_ids) > _REMEMBERED:
            self._request_ids.popitem(last=False)
        self._pass(SERVER, _REQUEST_ID_IDS)
        return []

    def _format(
        self, exchange: TrafficExchange, v: checks.RequestView, r: WireResponse
    ) -> list[str]:
        """An answer past the gateway comes in the format the request asked for."""
        asked = v.values("Format")
        if len(asked) > 1:
            return []
        if asked:
            wanted = ResponseFormat.parse(asked[0])
            if wanted is None:
                return []
            rid = (
                f"protocol.format.{wanted.value.lower()}"
                if asked[0] == wanted.value
                else "protocol.format.case-insensitive"
            )
            fmt = wanted.value
        elif v.v3:
            rid, fmt = "interop.v3.json", self._formats.default_v3.upper()
        else:
            rid, fmt = "protocol.format.default", self._formats.default_v2.upper()
        wrong = answers.format_mismatch(r, fmt)
        if wrong is None:
            self._pass(SERVER, [rid])
            return []
        note = f" (Format={asked[0]})" if asked else " (no Format)"
        return self._fail(SERVER, [rid], exchange, wrong.expected + note, wrong.received)

    def _success(
        self, exchange: TrafficExchange, r: WireResponse, fmt: str, dry: bool | str | None
    ) -> list[str]:
        spec = self.spec
        failed: list[str] = []
        ids = (*_SUCCESS_IDS, f"doc.sample.response.{fmt.lower()}")
        wrong = answers.success_envelope_mismatch(spec, r, fmt)
        if wrong is None:
            self._pass(SERVER, ids)
            _, fields = answers.sample_shape(spec, fmt)
            extra = answers.extra_fields(sorted(fields), r)
            if extra:
                self._observe(
                    SERVER,
                    _SUCCESS_IDS[0],
                    "extra-field",
                    f"envelope fields no source lists: {', '.join(extra)}",
                    exchange,
                )
        else:
            failed += self._fail(SERVER, ids, exchange, wrong.expected, wrong.received)
        if dry is True:
            d = spec.dryrun
            failed += self._fail(
                SERVER,
                answers.DRYRUN_PASSES,
                exchange,
                f"HTTP {d.http_status} {d.code} (or the error the call would give) for DryRun=true",
                f"HTTP {r.status}: a success, the reboot carried out",
            )
        elif dry is None:
            self._pass(SERVER, [_DEFAULT_DRYRUN])
        elif dry is False:
            self._pass(SERVER, [_DRYRUN_FALSE])
        return failed

    def _error_at_success(self, exchange: TrafficExchange, r: WireResponse, code: str) -> list[str]:
        """A documented error code in the body of a success status: clients that read only
        the status take it for a success."""
        spec = self.spec
        ids = [answers.STATUS_AND_CODE]
        if code == spec.dryrun.code:
            ids += answers.DRYRUN_PASSES
            status = spec.dryrun.http_status
        elif code in self._row_codes:
            ids += answers.error_row_ids(spec, code)
            status = spec.error_status(code)
        else:
            status = next(
                v.http_status for vs in spec.gateway_errors.values() for v in vs if v.code == code
            )
        return self._fail(
            SERVER, ids, exchange, f"{code} with HTTP {status}", f"HTTP {r.status} with {code}"
        )

    def _error(
        self, exchange: TrafficExchange, r: WireResponse, dry: bool | str | None
    ) -> list[str]:
        spec = self.spec
        failed: list[str] = []
        wrong = answers.error_envelope_mismatch(spec, r)
        root = spec.profile.envelopes.error_xml_root
        if wrong is None and r.format is ResponseFormat.XML and r.xml_root != root:
            wrong = answers.Mismatch(f"XML root <{root}>", f"<{r.xml_root}>")
        if wrong is None:
            self._pass(SERVER, [_ERROR_ID])
            extra = answers.extra_fields(spec.profile.envelopes.error_fields, r)
            if extra:
                self._observe(
                    SERVER,
                    _ERROR_ID,
                    "extra-field",
                    f"envelope fields no source lists: {', '.join(extra)}",
                    exchange,
                )
        else:
            failed += self._fail(SERVER, [_ERROR_ID], exchange, wrong.expected, wrong.received)
        code = r.code
        rid, text = answers.error_code_verdict(spec, r.status, code)
        if rid == _ERROR_ID:
            return failed  # no Code: the envelope failed for it (one cause, one failure)
        if rid is not None:
            assert code is not None
            ids = [*answers.error_row_ids(spec, code), answers.STATUS_AND_CODE]
            return failed + self._fail(
                SERVER, ids, exchange, f"{code} at a status its rows give", text
            )
        if text:
            self._observe(SERVER, answers.STATUS_AND_CODE, "undocumented-code", text, exchange)
            return failed
        assert code is not None
        self._pass(SERVER, [answers.STATUS_AND_CODE])
        if code == spec.dryrun.code:
            return failed + self._dryrun_outcome(exchange, r, dry)
        if code in self._row_codes:
            rows = answers.error_row_ids(spec, code)
            if spec.error_matches(code, r.status, r.message):
                self._pass(SERVER, rows)
            else:
                messages = " or ".join(repr(row.message) for row in spec.error_rows(code))
                failed += self._fail(
                    SERVER, rows, exchange, f"{code} with message {messages}", repr(r.message)
                )
        return failed

    def _dryrun_outcome(
        self, exchange: TrafficExchange, r: WireResponse, dry: bool | str | None
    ) -> list[str]:
        """The DryRun outcome: its documented status and message, and only for DryRun=true."""
        spec = self.spec
        if dry is True:
            wrong = self._oracle.mismatch(Expected("dryrun"), r)
            if wrong is None:
                self._pass(SERVER, answers.DRYRUN_PASSES)
                return []
            return self._fail(
                SERVER,
                answers.DRYRUN_PASSES,
                exchange,
                Expected("dryrun").describe(spec),
                wrong,
            )
        if dry is None or dry is False:
            rid = _DEFAULT_DRYRUN if dry is None else _DRYRUN_FALSE
            asked = "no DryRun" if dry is None else "DryRun=false"
            return self._fail(
                SERVER,
                [rid],
                exchange,
                f"the call carried out for {asked}: a success or the error it meets",
                f"HTTP {r.status} {r.code}: nothing was done",
            )
        return []

    # -- the report -----------------------------------------------------------------------------
    def ledger(self) -> Ledger:
        """One record per requirement and side, in the order they were declared."""
        with self._lock:
            ledger = Ledger()
            for key, tally in self._tallies.items():
                ledger.add(tally.record(self._hints[key]))
            general = self._general.record("")
            general.requirements, general.outcome, general.reason = [], PASSED, ""
            general.nodeid = "traffic::exchanges"
            general.checks = self.judged  # the run's statistics: exchanges judged
            ledger.add(general)
            return ledger

    def failures(self, side: str) -> list[tuple[str, str]]:
        """`(requirement id, first failure's reason)` of every requirement `side` failed."""
        with self._lock:
            return [
                (t.requirement, t.failures[0][0])
                for (s, _), t in self._tallies.items()
                if s == side and t.failed
            ]

    def stats_line(self) -> str:
        """How much traffic went by, in one line."""
        with self._lock:
            other = sum(self.other_actions.values())
            parts = [f"{self.exchanges} exchange(s)", f"{self.judged} judged"]
            if other:
                parts.append(f"{other} of other Actions forwarded unjudged")
            if self.unanswered:
                parts.append(f"{self.unanswered} without an answer from the upstream")
            return ", ".join(parts)


def _bodiless(request: RecordedRequest) -> RecordedRequest:
    return RecordedRequest(
        request.method, request.path, request.raw_query, request.header_pairs, b"",
        request.received_at,
    )  # fmt: skip


def _note(tally: _Tally, kind: str, text: str, exchange: TrafficExchange) -> None:
    """Count one observation on `tally` (the first few distinct ones keep their evidence)."""
    seen = tally.observations
    key = (kind, text)
    if key in seen:
        count, evidence = seen[key]
        seen[key] = (count + 1, evidence)
    elif len(seen) < _MAX_OBSERVATIONS:
        seen[key] = (1, exchange.describe()[:4000])


def _line(exchange: TrafficExchange, v: checks.RequestView, action: str, verdict: str) -> str:
    """One live line: what went by and what the judge made of it."""
    req = exchange.request
    ids = v.values(action) if action else []
    return (
        f"{req.method} {' '.join(sorted(set(v.value('Action', 'x-acs-action')))) or '-'} "
        f"{ids[0] if ids else '-'} -> {exchange.summary()} | {verdict}"
    )


def _client_hint(case: checks.CheckCase) -> str:
    """What would show a client requirement, for its not-observed reason."""
    if case.check.judges is not None:
        return (
            "it judges a request against what its caller asked for (a flag set, or left "
            "unset), which the wire does not carry; the client suite judges it "
            "(ecs-conformance client)"
        )
    return "no RebootInstance request went through the proxy"


def _server_hints(spec: Spec) -> list[tuple[str, str]]:
    """Every requirement the server side judges, with what would show it."""
    formats = spec.profile.formats
    out = [
        (_SUCCESS_IDS[0], "no success answer went by"),
        ("doc.sample.response.json", "no JSON success answer went by"),
        ("doc.sample.response.xml", "no XML success answer went by"),
        (_ERROR_ID, "no error answer went by"),
        (_CONTENT_TYPE, "no answer went by"),
        (answers.XML_EXACT_REQUIREMENT, "no XML error answer went by"),
        ("protocol.format.json", "no answer to a request with Format=JSON went by"),
        ("protocol.format.xml", "no answer to a request with Format=XML went by"),
        (
            "protocol.format.default",
            f"no answer to a V2 request without Format went by (the default: {formats.default_v2})",
        ),
        ("protocol.format.case-insensitive", "no request spelt Format in another case"),
        ("interop.v3.json", "no answer to a V3 request without Format went by"),
        ("doc.response.RequestId", "no answer went by"),
        ("protocol.request-id.unique", "no answer went by"),
        (answers.STATUS_AND_CODE, "no error answer with a documented code went by"),
        *((rid, f"no answer carried {row.code}") for row, rid in answers.error_rows_with_ids(spec)),
        *(
            (rid, "no DryRun=true request was answered with the DryRun outcome or a success")
            for rid in answers.DRYRUN_PASSES
        ),
        (_DEFAULT_DRYRUN, "no request without DryRun was answered with a success"),
        (_DRYRUN_FALSE, "no request with DryRun=false was answered with a success"),
    ]
    known = {r.id for r in spec.requirements}
    hints: dict[str, str] = {}
    for rid, hint in out:
        if rid in known:
            hints.setdefault(rid, hint)
    return list(hints.items())
