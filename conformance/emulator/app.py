"""`create_app(settings)`: the reference emulator as a Starlette application.

`/` is served by a lean raw-ASGI endpoint (no Request/Response objects on the hot path): read query
and body, `Gateway.authenticate`, dispatch to `Operations`, render through `Envelopes`. Every error,
including one found before the gateway, is an error envelope with a fresh RequestId; an unexpected
exception becomes InternalError without a trace to the client. `/_conformance` is the test-control
API (docs/contracts.md#test-control), absent when `settings.control` is off.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from conformance.config import EmulatorSettings
from conformance.emulator import choices
from conformance.emulator.behaviour import Behaviour
from conformance.emulator.control import CONTROL_PREFIX, ControlApp
from conformance.emulator.handlers import Operations
from conformance.emulator.state import World
from conformance.protocol.envelopes import ApiError, Envelopes, ResponseFormat, new_request_id
from conformance.protocol.gateway import Gateway
from conformance.protocol.signing import V3_ALGORITHM
from conformance.protocol.wire import WireError, parse_urlencoded
from conformance.spec.model import Spec

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES = 1024 * 1024
LOGGER = logging.getLogger("conformance.emulator")
_AWS_ID = re.compile(r"Id(?=\.|$)")
_WRONG_MESSAGE_SUFFIX = " (emulator)"


class _RpcEndpoint:
    """The RPC endpoint at `/` as a raw ASGI callable: a lean hot path, without Starlette's
    Request and Response objects."""

    def __init__(
        self,
        *,
        spec: Spec,
        gateway: Gateway,
        operations: Operations,
        envelopes: Envelopes,
        behaviour: Behaviour,
        log_requests: bool,
    ) -> None:
        self.spec = spec
        self.gateway = gateway
        self.operations = operations
        self.envelopes = envelopes
        self.behaviour = behaviour
        self.log_requests = log_requests
        self._rid_header = envelopes.request_id_header.encode("latin-1")
        self._instance_param = spec.instance_parameter.name
        formats = spec.profile.formats
        self._default_v2 = ResponseFormat(formats.default_v2.upper())
        self._default_v3 = ResponseFormat(formats.default_v3.upper())
        internal = spec.conditions["injected_fault"]
        self._internal = (spec.error_status(internal), internal, spec.error_message(internal))
        self._plain = behaviour.is_reference
        self._new_request_id = _request_ids(behaviour.request_id_style)

    # -- ASGI --------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        start = time.perf_counter() if self.log_requests else 0.0
        method: str = scope["method"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_query: bytes = scope["query_string"]
        request_id = self._new_request_id()
        action = instance = None
        status = 200
        code = ""
        try:
            if self.behaviour.post_unsupported and method == "POST":
                raise ApiError.from_variant(self.spec.gateway_error("unsupported_method"))
            body = await _read_body(receive, headers, self._too_large)
            if body is None:  # the client went away
                return
            if self.behaviour.unreadable_format_code:
                self._check_format(raw_query, headers, body)
            request = self.gateway.authenticate(method, raw_query, headers, body)
            action = request.action
            instance = request.api_params.get(self._instance_param)
            if self.behaviour.v3_unsupported and request.signature_version == "v3":
                # a V2-only server reads Action from the query, finds none
                raise ApiError.from_variant(
                    self.spec.gateway_error("missing_parameter", Name="Action"), fmt=request.fmt
                )
            try:
                fields = self.operations.handle(request, request_id)
            except ApiError as exc:
                if exc.fmt is None:
                    exc.fmt = request.fmt
                raise
            payload, ctype = self._success(action, fields, request.fmt)
        except ApiError as exc:
            status, code = exc.http_status, exc.code
            fmt = exc.fmt or self._guess_format(raw_query, headers)
            status, payload, ctype = self._error(exc, fmt, request_id)
        except WireError as exc:  # defensive: the gateway maps these itself
            err = ApiError.from_variant(self.spec.gateway_error("bad_request", reason=exc.reason))
            status, code = err.http_status, err.code
            status, payload, ctype = self._error(
                err, self._guess_format(raw_query, headers), request_id
            )
        except Exception:  # never a stack trace to the client
            LOGGER.exception("unexpected error answering request %s", request_id)
            err = ApiError(*self._internal)
            status, code = err.http_status, err.code
            status, payload, ctype = self._error(
                err, self._guess_format(raw_query, headers), request_id
            )
        await _send_answer(send, status, ctype, payload, self._rid_header, request_id)
        if self.log_requests:
            LOGGER.info(
                "%s %s %s %s %d %.1fms",
                method,
                action or "-",
                instance or "-",
                code or "OK",
                status,
                (time.perf_counter() - start) * 1000,
            )

    def _check_format(self, raw_query: bytes, headers: Mapping[str, str], body: bytes) -> None:
        """`unreadable_format_code`: a Format that is neither JSON nor XML is refused with
        that code before anything else is checked (the document lists no code for it, and
        says its table is not the whole list)."""
        try:
            pairs = parse_urlencoded(raw_query)
            if body and "json" not in headers.get("content-type", ""):
                pairs += parse_urlencoded(body)
        except WireError:
            return  # the gateway refuses the unreadable request itself
        code = self.behaviour.unreadable_format_code
        for name, value in pairs:
            if name == "Format" and code and ResponseFormat.parse(value) is None:
                raise ApiError(400, code, "The specified parameter Format is not valid.")

    # -- rendering ---------------------------------------------------------------------------
    def _too_large(self) -> ApiError:
        reason = f"the body exceeds {MAX_BODY_BYTES} bytes"
        return ApiError.from_variant(self.spec.gateway_error("bad_request", reason=reason))

    def _guess_format(self, raw_query: bytes, headers: Mapping[str, str]) -> ResponseFormat:
        """The format of an error found before the gateway read `Format`
        (docs/protocol.md#responses)."""
        if b"Format=" in raw_query or b"format=" in raw_query:
            try:
                for name, value in parse_urlencoded(raw_query):
                    if name == "Format":
                        fmt = ResponseFormat.parse(value)
                        if fmt is not None:
                            return fmt
            except WireError:
                pass
        v3 = headers.get("authorization", "").startswith(V3_ALGORITHM) or "x-acs-action" in headers
        return self._default_v3 if v3 else self._default_v2

    def _success(
        self, action: str, fields: Mapping[str, Any], fmt: ResponseFormat
    ) -> tuple[bytes, str]:
        if self._plain:
            return self.envelopes.render_success(action, fields, fmt)
        behaviour = self.behaviour
        if behaviour.xml_ignored:
            fmt = ResponseFormat.JSON
        if behaviour.missing_request_id_on_success:
            fields = {k: v for k, v in fields.items() if k != "RequestId"}
        payload, ctype = self.envelopes.render_success(action, fields, fmt)
        return self._chosen(payload, ctype, fmt)

    def _chosen(self, payload: bytes, ctype: str, fmt: ResponseFormat) -> tuple[bytes, str]:
        """The choices of `Behaviour` on a rendered body: extra envelope fields, the JSON
        content type; then the content-type fault."""
        behaviour = self.behaviour
        if behaviour.extra_envelope_fields:
            payload = _with_fields(payload, fmt, behaviour.extra_envelope_fields)
        if fmt is ResponseFormat.JSON and behaviour.json_content_type:
            ctype = behaviour.json_content_type
        return payload, behaviour.wrong_content_type or ctype

    def _error(
        self, error: ApiError, fmt: ResponseFormat, request_id: str
    ) -> tuple[int, bytes, str]:
        if self._plain:
            return (error.http_status, *self.envelopes.render_error(error, fmt, request_id))
        behaviour = self.behaviour
        status, code, message = error.http_status, error.code, error.message
        if behaviour.aws_code_casing:
            code = _AWS_ID.sub("ID", code)
        if behaviour.wrong_message:
            message += _WRONG_MESSAGE_SUFFIX
        if behaviour.errors_http_200:
            status = 200
        if behaviour.xml_ignored:
            fmt = ResponseFormat.JSON
        error = ApiError(status, code, message)
        payload, ctype = self.envelopes.render_error(error, fmt, request_id)
        if behaviour.error_without_request_id:
            payload = _drop_request_id(payload, fmt)
        return (status, *self._chosen(payload, ctype, fmt))


class _NotFoundEndpoint:
    """Any path other than `/` (and the control API): the unknown-api error envelope."""

    def __init__(self, rpc: _RpcEndpoint) -> None:
        self.rpc = rpc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        rpc = self.rpc
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = rpc._new_request_id()
        error = ApiError.from_variant(rpc.spec.gateway_error("action_not_found"))
        fmt = rpc._guess_format(scope["query_string"], headers)
        status, payload, ctype = rpc._error(error, fmt, request_id)
        await _send_answer(send, status, ctype, payload, rpc._rid_header, request_id)


async def _send_answer(
    send: Send, status: int, ctype: str, payload: bytes, rid_header: bytes, request_id: str
) -> None:
    """One complete answer, as raw ASGI messages (the hot path skips Starlette's Response)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", ctype.encode("latin-1")),
                (b"content-length", str(len(payload)).encode("latin-1")),
                (rid_header, request_id.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _read_body(
    receive: Receive, headers: Mapping[str, str], too_large: Callable[[], ApiError]
) -> bytes | None:
    """The whole request body, at most MAX_BODY_BYTES (else the bad-request error)."""
    declared = headers.get("content-length")
    if declared is None and "transfer-encoding" not in headers:
        return b""  # a request without either has no body (RFC 9112, 6.3): nothing to await
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    message = await receive()
    if message["type"] == "http.disconnect":
        return None
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > MAX_BODY_BYTES:
            raise too_large()
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _request_ids(style: str) -> Callable[[], str]:
    """The request id maker of `Behaviour.request_id_style`."""
    if style == "uuid":
        return new_request_id
    if style == "hex":
        return lambda: uuid.uuid4().hex
    if style == "lower":
        return lambda: str(uuid.uuid4())
    raise ValueError(f"request_id_style must be uuid, hex or lower, not {style!r}")


def _with_fields(payload: bytes, fmt: ResponseFormat, extra: tuple[tuple[str, str], ...]) -> bytes:
    """`payload` (a flat JSON object, or XML with one root) with `extra` fields added."""
    if fmt is ResponseFormat.JSON:
        data = json.loads(payload)
        data.update(dict(extra))
        return json.dumps(data).encode("utf-8")
    text = payload.decode("utf-8")
    close = text.rindex("</")
    added = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in extra)
    return (text[:close] + added + text[close:]).encode("utf-8")


def _drop_request_id(payload: bytes, fmt: ResponseFormat) -> bytes:
    """The `error_without_request_id` deviation: the body loses its RequestId field."""
    if fmt is ResponseFormat.JSON:
        data = json.loads(payload)
        data.pop("RequestId", None)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return re.sub(rb"<RequestId>[^<]*</RequestId>", b"", payload)


class _EmulatorApp(Starlette):
    """Starlette with a fast path: `/` goes straight to the RPC endpoint.

    Starlette's middleware stack and router cost about as much as the whole RPC endpoint (measured:
    benchmarks/bench_emulator.py); the endpoint renders every error itself, so it needs neither.
    Everything else (the control API, other paths, lifespan) takes the normal route.
    """

    rpc: _RpcEndpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rpc = self.rpc
        if rpc is not None and scope["type"] == "http" and scope["path"] == "/":
            await rpc(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: EmulatorSettings,
    *,
    spec: Spec | None = None,
    clock: Callable[[], float] = time.time,
    behaviour: Behaviour | None = None,
) -> Starlette:
    """Build the reference emulator (or, with a mutant's `behaviour`, that mutant).

    `clock` drives both the gateway's timestamp window and the world's reboot transitions.
    The app keeps `state.world`, `state.spec`, `state.gateway`, `state.operations` and
    `state.behaviour`.

    >>> # app = create_app(EmulatorSettings(reboot_seconds=1.0))
    >>> # uvicorn.run(app)   # or conformance.emulator.server.EmbeddedEmulator
    """
    if spec is None:
        from conformance.spec import load_spec

        spec = load_spec()
    behaviour = behaviour or Behaviour()
    spec = choices.apply(spec, behaviour)
    world = World.from_spec(spec, clock=clock, reboot_seconds=settings.reboot_seconds)
    operations = Operations(spec, world, behaviour)
    gateway = Gateway(
        {c.access_key_id: c.access_key_secret for c in settings.credentials},
        operations.actions,
        spec.gateway_errors,
        spec.profile,
        clock,
        verify_signatures=not behaviour.signature_not_checked,
        check_nonces=not behaviour.nonce_replay_allowed,
        check_signature_method=not behaviour.signature_method_unchecked,
        check_signed_headers=not behaviour.signed_headers_not_enforced,
    )
    envelopes = Envelopes.from_profile(spec.profile)
    if settings.host_id:
        envelopes = dataclasses.replace(envelopes, host_id=settings.host_id)
    rpc = _RpcEndpoint(
        spec=spec,
        gateway=gateway,
        operations=operations,
        envelopes=envelopes,
        behaviour=behaviour,
        log_requests=settings.log_requests,
    )
    routes: list[BaseRoute] = [Route("/", endpoint=rpc)]
    if settings.control:
        control = ControlApp(world, gateway, operations, token=settings.control_token)
        routes.append(Mount(CONTROL_PREFIX, app=control))
    routes.append(Route("/{path:path}", endpoint=_NotFoundEndpoint(rpc)))
    app = _EmulatorApp(routes=routes)
    app.rpc = rpc
    app.state.world = world
    app.state.spec = spec
    app.state.gateway = gateway
    app.state.operations = operations
    app.state.behaviour = behaviour
    app.state.settings = settings
    return app
