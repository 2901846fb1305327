"""`HttpServerTarget`: signs RPC calls (V2 or V3, protocol/signing.py) and sends them over one
keep-alive connection pool; whatever the server does comes back as an `Exchange`.

A misbehaving target yields a verdict, never a traceback. Timeouts, resets, closed
connections and unreadable answers are captured in `Exchange.error`; nothing here raises for
what a server does. Every request is bounded by `conformance.limits`: `timeout_s` is its total
deadline (connect, send and the whole answer), at most `MAX_BODY_BYTES` of an answer are read,
and the target's `CircuitBreaker` opens after a few failures in a row: from then on nothing is
sent (the exchange says why), and the server suite does not start another test.
`http.client` costs about a quarter of httpx's CPU per request (benchmarks/README.md,
"Reference figures"), so the pool is built on it.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import shlex
import socket
import ssl
import threading
import time
import unittest
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.config import Credentials
from conformance.limits import ALARMS, MAX_BODY_BYTES, CircuitBreaker
from conformance.protocol.envelopes import WireResponse, parse_response
from conformance.protocol.signing import signed_headers_v3, signed_params_v2
from conformance.protocol.wire import percent_encode
from conformance.spec.facts import BooleanFacts
from conformance.spec.model import Spec
from conformance.targets.base import NOT_FOUND_PREFIX

__all__ = [
    "DEFAULT_FORMAT",
    "BoundedAnswer",
    "DestructiveCallRefused",
    "Exchange",
    "HttpServerTarget",
    "PreparedRequest",
    "SafetyGuard",
    "SentRequest",
    "Tamper",
    "bounded_request",
    "corrupt_signature",
]

DEFAULT_FORMAT = "JSON"
"""The `Format` a V2 call sends unless told otherwise (`fmt=None` sends none)."""

_UNSET = "\x00unset"
_FORM = "application/x-www-form-urlencoded"
_SHOWN_BODY = 1500
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class DestructiveCallRefused(unittest.SkipTest):
    """A real (non-DryRun) call the safety rules (docs/contracts.md#safety-rules) forbid. A
    `SkipTest`, so pytest (and hypothesis, which re-raises skips at once) record the test as not
    verified, with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__("not verified: " + reason)
        self.reason = reason


@dataclass(frozen=True)
class SafetyGuard:
    """docs/contracts.md#safety-rules, enforced in one place: against a host that is not loopback,
    only `DryRun=true` calls of the operation unless destructive calls are allowed, and then only on
    the named instances (`allowed_ids`; None = any). Build it with `SafetyGuard.for_spec`."""

    operation: str
    dry_run_parameter: str
    instance_parameter: str
    booleans: BooleanFacts
    destructive_allowed: bool
    allowed_ids: frozenset[str] | None = None
    why: str = ""

    @classmethod
    def for_spec(
        cls,
        spec: Spec,
        *,
        destructive_allowed: bool,
        allowed_ids: frozenset[str] | None = None,
        why: str = "",
    ) -> SafetyGuard:
        """The guard of `spec`'s operation: its DryRun and instance parameters, its booleans."""
        return cls(
            operation=spec.action,
            dry_run_parameter=spec.dry_run_parameter.name,
            instance_parameter=spec.instance_parameter.name,
            booleans=spec.profile.booleans,
            destructive_allowed=destructive_allowed,
            allowed_ids=allowed_ids,
            why=why,
        )

    def check(self, action: str, params: Mapping[str, str]) -> None:
        """Raise `DestructiveCallRefused` for a call the rules forbid."""
        if action != self.operation:
            return
        if self.booleans.parse(params.get(self.dry_run_parameter, "")) is True:
            return
        instance = params.get(self.instance_parameter)
        if instance is not None and instance.startswith(NOT_FOUND_PREFIX):
            return  # such an id names no instance: nothing can be rebooted
        if not self.destructive_allowed:
            raise DestructiveCallRefused(
                "needs a real (non-DryRun) call, and the target is not loopback "
                f"({self.why}); pass --ecs-allow-destructive to allow it"
            )
        if self.allowed_ids is not None and instance not in self.allowed_ids:
            raise DestructiveCallRefused(
                f"{instance!r} is not in the fixtures file; only listed instances are rebooted"
            )


@dataclass
class PreparedRequest:
    """A signed request before serialisation; a `Tamper` may change any field.

    `query` and `form` are decoded pairs, encoded on the wire with the rule of
    docs/protocol.md#signature-v2 (`plus_spaces` writes a space as `+`, as the new Python SDK does).
    `body`, when set, is sent as is instead of `form`.
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] | None
    headers: dict[str, str]
    body: bytes | None = None
    plus_spaces: bool = False

    def encode_pairs(self, pairs: list[tuple[str, str]]) -> str:
        """`name=value&...` with the encoding of docs/protocol.md#signature-v2 (and `+` for spaces
        when asked)."""
        enc = percent_encode
        text = "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)
        return text.replace("%20", "+") if self.plus_spaces else text

    def wire_body(self) -> bytes:
        """The body bytes as they go on the wire."""
        if self.body is not None:
            return self.body
        if self.form is None:
            return b""
        return self.encode_pairs(self.form).encode("ascii")


Tamper = Callable[[PreparedRequest], None]
"""Changes a signed request before it is serialised (e.g. corrupts its signature)."""


def corrupt_signature(request: PreparedRequest) -> None:
    """A `Tamper` that changes one character of the signature (V2 parameter or V3 header)."""

    def flip(value: str) -> str:
        if not value:
            return "A"
        last = value[-1]
        return value[:-1] + ("A" if last != "A" else "B")

    for pairs in (request.query, request.form or []):
        for i, (k, v) in enumerate(pairs):
            if k == "Signature":
                pairs[i] = (k, flip(v))
                return
    auth = request.headers.get("authorization")
    if auth:
        request.headers["authorization"] = flip(auth)


@dataclass(frozen=True)
class SentRequest:
    """A request exactly as sent (the secret is never part of it; signatures are)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    signature: str = "v2"
    action: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One call: the request as sent and the answer, or the transport error as text."""

    request: SentRequest
    response: WireResponse | None
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def status(self) -> int | None:
        """The HTTP status, or None when no answer came."""
        return self.response.status if self.response is not None else None

    @property
    def code(self) -> str | None:
        """The body's `Code`, or None."""
        return self.response.code if self.response is not None else None

    def summary(self) -> str:
        """One line: `403 IncorrectInstanceStatus: The current ...` or the transport error."""
        if self.response is None:
            return f"no answer ({self.error})"
        r = self.response
        if r.parse_error:
            return f"HTTP {r.status}, unreadable body ({r.parse_error})"
        if r.code is not None:
            return f"HTTP {r.status} {r.code}: {r.message!r}"
        return f"HTTP {r.status} {dict(r.data or {})}"

    def describe(self) -> str:
        """The request and the answer, as text fit for a failure message."""
        req = self.request
        lines = [f"> {req.method} {req.url}   (signature {req.signature})"]
        lines += [f"> {k}: {v}" for k, v in req.headers]
        if req.body:
            lines.append("> " + req.body[:_SHOWN_BODY].decode("utf-8", "replace"))
        if self.response is None:
            lines.append(f"< no answer after {self.elapsed_s:.2f}s: {self.error}")
            return "\n".join(lines)
        r = self.response
        lines += r.describe(self.elapsed_s, shown=_SHOWN_BODY)
        return "\n".join(lines)

    def curl(self) -> str:
        """The request as sent, as a curl command. It carries its signature, nonce and time, so
        a target that checks them answers a replay with a nonce or timestamp error: reproduce a
        failure with the pytest command of the failure message instead."""
        req = self.request
        parts = ["curl", "-sS", "-X", req.method, shlex.quote(req.url)]
        for k, v in req.headers:
            if k.lower() in ("host", "content-length"):
                continue
            parts += ["-H", shlex.quote(f"{k}: {v}")]
        if req.body:
            parts += ["--data-binary", shlex.quote(req.body.decode("utf-8", "replace"))]
        return " ".join(parts)


class _Pool:
    """Idle keep-alive connections to one origin; thread-safe."""

    def __init__(self, scheme: str, host: str, port: int | None, timeout_s: float) -> None:
        self._scheme, self._host, self._port, self._timeout = scheme, host, port, timeout_s
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def get(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection, and whether it was reused (a reused one may have gone stale)."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        if self._scheme == "https":
            ctx = ssl.create_default_context()
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ctx
            ), False
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout), False

    def put(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class HttpServerTarget:
    """A server under test reached over HTTP(S).

    `version` is the API version every call carries (`Spec.version`); `request_id_header`
    where an answer's request id is looked for when its body has none
    (`Spec.profile.envelopes.request_id_header`).

    >>> from conformance.config import Credentials
    >>> t = HttpServerTarget("http://127.0.0.1:1", Credentials("id", "s"), 0.5, version="v1")
    >>> t.call("SomeAction", {"Id": "i-1"}).error is not None
    True
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        timeout_s: float = 5.0,
        *,
        version: str,
        guard: SafetyGuard | None = None,
        request_id_header: str | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.credentials = credentials
        self.timeout_s = timeout_s
        self.guard = guard
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._path = (parts.path.rstrip("/") or "") + "/"
        self._pool = _Pool(parts.scheme, parts.hostname, parts.port, timeout_s)
        self._request_id_header = request_id_header
        self._lock = threading.Lock()
        self._sent = 0
        # Shared by every test (and schemathesis) of a session: a target that stopped answering
        # costs a few timeouts, then every later test is not verified.
        self.breaker = breaker or CircuitBreaker(f"requests to {self.base_url}")

    # -- public -----------------------------------------------------------------------------
    @property
    def requests_sent(self) -> int:
        """How many requests this target has sent (for the run's statistics)."""
        return self._sent

    def close(self) -> None:
        """Close the idle connections."""
        self._pool.close()

    def prepare(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        signature: str = "v2",
        method: str = "GET",
        placement: str = "query",
        fmt: str | None = _UNSET,
        nonce: str | None = None,
        timestamp: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        version: str | None = None,
        access_key_id: str | None = None,
        common: Mapping[str, str | None] | None = None,
        signed_headers: Sequence[str] | None = None,
    ) -> PreparedRequest:
        """Build and sign a request without sending it.

        placement: `query` (everything in the query string), `form` (everything in an urlencoded
        body, POST only), `split` (API parameters in the body, the rest in the query:
        docs/protocol.md#transport, the server merges them). V3 always keeps Action/Version in
        headers.
        `common` replaces V2 common parameters before signing (None leaves one out);
        `signed_headers` names the headers a V3 signature covers (default: what SDKs sign).
        """
        method = method.upper()
        if placement not in ("query", "form", "split"):
            raise ValueError(f"unknown placement {placement!r}")
        if placement != "query" and method == "GET":
            raise ValueError("GET requests carry no body: use placement='query'")
        version = version or self.version
        key_id = access_key_id or self.credentials.access_key_id
        headers = {"host": self._netloc}
        headers.update({k.lower(): v for k, v in (extra_headers or {}).items()})
        if signature == "v2":
            fmt_value = DEFAULT_FORMAT if fmt == _UNSET else fmt
            signed = signed_params_v2(
                method,
                params,
                action=action,
                version=version,
                access_key_id=key_id,
                access_key_secret=self.credentials.access_key_secret,
                fmt=fmt_value,
                nonce=nonce,
                timestamp=timestamp,
                overrides=common,
            )
            pairs = list(signed.items())
            if placement == "query":
                return PreparedRequest(method, self._path, pairs, None, headers)
            if placement == "form":
                headers["content-type"] = _FORM
                return PreparedRequest(method, self._path, [], pairs, headers)
            api = [(k, v) for k, v in pairs if k in params]
            rest = [(k, v) for k, v in pairs if k not in params]
            headers["content-type"] = _FORM
            return PreparedRequest(method, self._path, rest, api, headers)
        if signature != "v3":
            raise ValueError(f"unknown signature version {signature!r}")
        api_params = dict(params)
        if fmt not in (_UNSET, None):
            api_params["Format"] = str(fmt)
        headers.setdefault("accept", "application/json")
        query: list[tuple[str, str]] = list(api_params.items())
        form: list[tuple[str, str]] | None = None
        if placement == "form":
            query, form = [], query
        elif placement == "split":
            names = list(api_params)
            query = [(k, api_params[k]) for k in names[: len(names) // 2]]
            form = [(k, api_params[k]) for k in names[len(names) // 2 :]]
        draft = PreparedRequest(method, self._path, query, form, headers)
        body = draft.wire_body()
        content_type = _FORM if form is not None else None
        v3_headers = signed_headers_v3(
            method,
            self._netloc,
            dict(query),
            action=action,
            version=version,
            access_key_id=key_id,
            access_key_secret=self.credentials.access_key_secret,
            body=body,
            content_type=content_type,
            nonce=nonce,
            timestamp=timestamp,
            extra_headers={k: v for k, v in headers.items() if k != "host"},
            sign=signed_headers,
        )
        draft.headers = {"host": self._netloc, **v3_headers}
        draft.body = body if form is not None else None
        return draft

    def call(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        signature: str = "v2",
        method: str = "GET",
        placement: str = "query",
        fmt: str | None = _UNSET,
        tamper: Tamper | None = None,
        nonce: str | None = None,
        timestamp: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        version: str | None = None,
        access_key_id: str | None = None,
        plus_spaces: bool = False,
        common: Mapping[str, str | None] | None = None,
        signed_headers: Sequence[str] | None = None,
    ) -> Exchange:
        """Sign and send one call; never raises for what the server does.

        `fmt`: the V2 `Format` parameter (default JSON; None sends none; with V3 only a given
        value is sent). `tamper` changes the signed request before it is sent. Raises
        `DestructiveCallRefused` (a skip) when the safety guard forbids the call.
        """
        if self.guard is not None:
            self.guard.check(action, params)
        request = self.prepare(
            action,
            params,
            signature=signature,
            method=method,
            placement=placement,
            fmt=fmt,
            nonce=nonce,
            timestamp=timestamp,
            extra_headers=extra_headers,
            version=version,
            access_key_id=access_key_id,
            common=common,
            signed_headers=signed_headers,
        )
        request.plus_spaces = plus_spaces
        if tamper is not None:
            tamper(request)
        return self.send(request, signature=signature, action=action, params=params)

    def send(
        self,
        request: PreparedRequest,
        *,
        signature: str = "v2",
        action: str = "",
        params: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send a prepared request as is (used by `call` and by tests that build their own)."""
        target = request.path
        if request.query:
            target += "?" + request.encode_pairs(request.query)
        body = request.wire_body()
        headers = dict(request.headers)
        if body or request.method == "POST":
            headers["content-length"] = str(len(body))
        return self.send_raw(
            request.method,
            target,
            headers,
            body,
            signature=signature,
            action=action,
            params=params,
        )

    def send_raw(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        signature: str = "v2",
        action: str = "",
        params: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send `method target` (path and encoded query) with exactly these headers and body,
        under the target's bounds; e.g. a request another library prepared (schemathesis).
        Once the circuit breaker is open nothing is sent: the exchange's error says why."""
        sent = SentRequest(
            method=method,
            url=f"{self._scheme}://{self._netloc}{target}",
            headers=tuple(headers.items()),
            body=body,
            signature=signature,
            action=action,
            params=dict(params or {}),
        )
        if self.breaker.is_open:
            return Exchange(sent, None, "not sent: " + self.breaker.reason)
        with self._lock:
            self._sent += 1
        started = time.perf_counter()
        response, error = self._roundtrip(method, target, dict(headers), body)
        elapsed = time.perf_counter() - started
        self.breaker.record(error if response is None else None)
        return Exchange(sent, response, error, elapsed)

    def probe(self) -> str | None:
        """None when a TCP (and TLS) connection can be opened, else why not."""
        conn, _ = self._pool.get()
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        return None

    # -- transport --------------------------------------------------------------------------
    def _roundtrip(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[WireResponse | None, str | None]:
        # One deadline for the whole request, a stale keep-alive retry included.
        deadline = time.monotonic() + self.timeout_s
        for _attempt in range(2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            conn, reused = self._pool.get()
            answer = bounded_request(conn, method, target, headers, body, remaining)
            if answer.late:
                break
            if answer.failure is not None:
                if isinstance(answer.failure, _STALE) and reused:
                    continue  # an idle keep-alive connection the server had closed: retry once
                return None, _describe_error(answer.failure, self.timeout_s)
            if answer.too_large:
                return None, f"answer body larger than {MAX_BODY_BYTES} bytes (not read further)"
            if answer.keep_alive:
                self._pool.put(conn)
            wire = parse_response(
                answer.status,
                answer.headers,
                answer.body,
                request_id_header=self._request_id_header,
            )
            return wire, None
        else:
            return None, "the connection was closed twice in a row without an answer"
        return None, f"timeout: no complete answer within {self.timeout_s:g}s"


@dataclass(frozen=True)
class BoundedAnswer:
    """What `bounded_request` got: an answer (`status`, `headers`, at most `MAX_BODY_BYTES` of
    `body`), or the `failure` raised, or `late` when the deadline cut the request short."""

    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    failure: BaseException | None = None
    late: bool = False
    too_large: bool = False
    keep_alive: bool = False


def bounded_request(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | None,
    seconds: float,
) -> BoundedAnswer:
    """One request on `conn` within `seconds` in total (connect, send, the whole answer): at
    the deadline an alarm shuts the socket down, whatever call is blocked on it. The
    connection is closed unless the answer allows keeping it (`keep_alive`)."""
    conn.timeout = seconds
    if conn.sock is not None:
        conn.sock.settimeout(seconds)
    alarm = ALARMS.set(seconds, functools.partial(_abort, conn))
    try:
        conn.request(method, target, body=body or None, headers=dict(headers))
        resp = conn.getresponse()
        data = resp.read(MAX_BODY_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        late = not ALARMS.cancel(alarm)
        conn.close()
        return BoundedAnswer(failure=None if late else exc, late=late)
    if not ALARMS.cancel(alarm):
        conn.close()
        return BoundedAnswer(late=True)
    too_large = len(data) > MAX_BODY_BYTES
    keep = not (too_large or resp.will_close)
    if not keep:
        conn.close()
    return BoundedAnswer(
        resp.status,
        tuple(resp.getheaders()),
        data[:MAX_BODY_BYTES],
        too_large=too_large,
        keep_alive=keep,
    )


def _abort(conn: http.client.HTTPConnection) -> None:
    """The deadline passed: wake whatever read or write is blocked on the connection."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe_error(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"timeout: no answer within {timeout_s:g}s"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset by the server"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.BadStatusLine | http.client.LineTooLong):
        return f"not an HTTP answer ({type(exc).__name__}: {str(exc)[:200]!r})"
    if isinstance(exc, http.client.HTTPException):
        return f"unreadable HTTP answer ({type(exc).__name__}: {str(exc)[:200]})"
    return f"{type(exc).__name__}: {exc}"
