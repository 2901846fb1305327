"""Faulty variants of the reference client: each breaks named requirements, nothing else.

The client suite must catch every one of them on the requirement ids listed (its kill matrix,
like the server mutants). Each is a shipped adapter, `--ecs-client faulty-<name>`
(`conformance.client.registry`); `selftest` iterates `FAULTY`.

    >>> FAULTY["fixed-nonce"].breaks
    ('protocol.nonce.unique',)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from conformance.client.adapters import CallableAdapter
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    ClientAdapter,
    Outcome,
    RebootCall,
)
from conformance.client.reference import ReferenceClient, reference_factory
from conformance.protocol.envelopes import WireResponse
from conformance.protocol.signing import sign_v2
from conformance.protocol.wire import format_timestamp

__all__ = ["ADAPTER_PREFIX", "FAULTY", "FaultyClient"]

ADAPTER_PREFIX = "faulty-"
"""A faulty variant's adapter name is this prefix and its own name."""


class _PlusEncoding(ReferenceClient):
    """Signs the InstanceId as form encoding writes it (`quote_plus`: space as `+`, `/` and `~`
    escaped) while the wire carries the percent-encoding of docs/protocol.md#signature-v2: plain ids
    still verify, ids with spaces, `/`, `~` or non-ASCII do not."""

    def signature_v2(self, method: str, params: Mapping[str, str], secret: str) -> str:
        from urllib.parse import quote_plus

        signed = dict(params)
        name = self.spec.instance_parameter.name
        if name in signed:
            signed[name] = quote_plus(signed[name], safe="*")
        return sign_v2(method, signed, secret)


class _FixedNonce(ReferenceClient):
    def nonce(self) -> str:
        return "0" * 32


class _WrongVersion(ReferenceClient):
    def version(self) -> str:
        return "2016-03-14"


class _StaleTimestamp(ReferenceClient):
    def timestamp(self) -> str:
        return format_timestamp(datetime.now(UTC) - timedelta(hours=1))


class _MillisecondTimestamp(ReferenceClient):
    def timestamp(self) -> str:
        return format_timestamp().replace("Z", ".123Z")


class _SwallowedCode(ReferenceClient):
    def interpret(self, response: WireResponse) -> Outcome:
        outcome = super().interpret(response)
        if outcome.ok or outcome.code is None:
            return outcome
        return Outcome.error(
            "UnknownError", outcome.message, outcome.request_id, outcome.http_status
        )


class _LostRequestId(ReferenceClient):
    def interpret(self, response: WireResponse) -> Outcome:
        outcome = super().interpret(response)
        if outcome.ok:
            return Outcome.success(None)
        return Outcome.error(outcome.code, outcome.message, None, outcome.http_status)


class _ForceStopWhenUnset(ReferenceClient):
    def api_params(self, call: RebootCall) -> dict[str, str]:
        params = super().api_params(call)
        params.setdefault(self.spec.force_parameter.name, self.wire_bool(True))
        return params


class _DryRunDropped(ReferenceClient):
    def api_params(self, call: RebootCall) -> dict[str, str]:
        params = super().api_params(call)
        params.pop(self.spec.dry_run_parameter.name, None)
        return params


class _BooleanAsNumber(ReferenceClient):
    def wire_bool(self, value: bool) -> str:
        return "1" if value else "0"


class _RetryAfter4xx(ReferenceClient):
    def resend(self, outcome: Outcome, attempt: int) -> bool:
        status = outcome.http_status or 0
        return 400 <= status < 500 and attempt < 2


class _DuplicateInstanceId(ReferenceClient):
    def encode(self, params: Mapping[str, str]) -> str:
        encoded = super().encode(params)
        name = self.spec.instance_parameter.name
        if name in params and "Signature" in params:
            return encoded + "&" + super().encode({name: params[name]})
        return encoded


class _RawPlus(ReferenceClient):
    """Leaves `+` unescaped on the wire, where form decoding makes it a space."""

    def encode(self, params: Mapping[str, str]) -> str:
        return super().encode(params).replace("%2B", "+")


class _PutMethod(ReferenceClient):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(method="PUT", **kwargs)  # type: ignore[arg-type]


class _MessageRewritten(ReferenceClient):
    def interpret(self, response: WireResponse) -> Outcome:
        outcome = super().interpret(response)
        if outcome.ok or outcome.code is None:
            return outcome
        return Outcome.error(
            outcome.code, f"Error: {outcome.message}", outcome.request_id, outcome.http_status
        )


class _SignsHostOnly(ReferenceClient):
    """A V3 client whose signature covers `host` alone (x-acs-action, the nonce and the date
    could be changed without breaking it)."""

    def v3_signed_headers(self) -> tuple[str, ...] | None:
        return ("host",)


class _NamesSha256(ReferenceClient):
    """Says `SignatureMethod=HMAC-SHA256` and signs with HMAC-SHA1 all the same."""

    def signature_method(self) -> str:
        return "HMAC-SHA256"


class _SuccessOnAnything(ReferenceClient):
    """Takes any 200 for a success, readable body or not."""

    def interpret(self, response: WireResponse) -> Outcome:
        if response.status == 200:
            return Outcome.success(response.request_id)
        return super().interpret(response)


class _RefusesDryRun(ReferenceClient):
    """Refuses DryRun=true locally: such a call never reaches the server."""

    def reboot_instance(self, call: RebootCall) -> Outcome:
        if call.dry_run:
            return Outcome.no_response("this client does not support DryRun")
        return super().reboot_instance(call)


def _hangs(call: RebootCall) -> Outcome:
    threading.Event().wait(3600)
    raise AssertionError("unreachable")


def _raises(call: RebootCall) -> Outcome:
    raise RuntimeError("the adapter crashed")


@dataclass(frozen=True)
class FaultyClient:
    """A named faulty variant and the requirement ids the client suite must fail it on."""

    name: str
    breaks: tuple[str, ...]
    factory: Callable[[], Callable[[RebootCall], Outcome]]
    httpx_based: bool = True
    description: str = ""  # the deviation, as a person would report it

    @property
    def adapter_name(self) -> str:
        """The `--ecs-client` value that selects this variant (`faulty-<name>`)."""
        return ADAPTER_PREFIX + self.name

    def adapter(self, timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
        """The variant as a client adapter."""
        return CallableAdapter(
            self.factory(),
            name=self.adapter_name,
            timeout_s=timeout_s,
            httpx_based=self.httpx_based,
        )


_VARIANTS = (
    FaultyClient(
        "plus-encoding",
        ("protocol.signature.v2",),
        reference_factory(_PlusEncoding),
        description="signs with form encoding (space as +, * kept) instead of RPC percent-encoding",
    ),
    FaultyClient(
        "fixed-nonce",
        ("protocol.nonce.unique",),
        reference_factory(_FixedNonce),
        description="sends the same SignatureNonce on every call",
    ),
    FaultyClient(
        "wrong-version",
        ("protocol.version.value",),
        reference_factory(_WrongVersion),
        description="sends an API Version other than the document's",
    ),
    FaultyClient(
        "stale-timestamp",
        ("protocol.timestamp.expired",),
        reference_factory(_StaleTimestamp),
        description="sends a Timestamp an hour old",
    ),
    FaultyClient(
        "millisecond-timestamp",
        ("protocol.timestamp.format",),
        reference_factory(_MillisecondTimestamp),
        description="sends a Timestamp with fractional seconds",
    ),
    FaultyClient(
        "swallowed-code",
        ("doc.error.404.InvalidInstanceId.NotFound", "doc.dryrun.passes"),
        reference_factory(_SwallowedCode),
        description="reports every error as a generic failure, losing the server's Code",
    ),
    FaultyClient(
        "lost-request-id",
        ("doc.response.RequestId", "doc.error.404.InvalidInstanceId.NotFound"),
        reference_factory(_LostRequestId),
        description="drops the RequestId of successes and errors",
    ),
    FaultyClient(
        "message-rewritten",
        ("doc.error.403.IncorrectInstanceStatus.message-2",),
        reference_factory(_MessageRewritten),
        description="rewrites the server's Message instead of passing it verbatim",
    ),
    FaultyClient(
        "force-stop-when-unset",
        ("doc.default.ForceStop",),
        reference_factory(_ForceStopWhenUnset),
        description="sends ForceStop=true when the caller left it unset",
    ),
    FaultyClient(
        "dry-run-dropped",
        ("doc.param.DryRun.value.true",),
        reference_factory(_DryRunDropped),
        description="never sends DryRun, so a dry run really reboots",
    ),
    FaultyClient(
        "boolean-as-number",
        ("doc.param.ForceStop.type", "doc.param.DryRun.type"),
        reference_factory(_BooleanAsNumber),
        description="sends booleans as 1/0",
    ),
    FaultyClient(
        "retry-after-4xx",
        ("interop.retries.none",),
        reference_factory(_RetryAfter4xx),
        description="resends the reboot after a 4xx answer",
    ),
    FaultyClient(
        "duplicate-instance-id",
        ("protocol.params.merged",),
        reference_factory(_DuplicateInstanceId),
        description="sends InstanceId twice, once in the query and once in the body",
    ),
    FaultyClient(
        "raw-plus",
        ("interop.encoding.plus-space",),
        reference_factory(_RawPlus),
        description="puts a literal + for a space on the wire and signs it as a plus",
    ),
    FaultyClient(
        "put-method",
        ("protocol.method.POST", "protocol.method.GET"),
        reference_factory(_PutMethod),
        description="calls with HTTP PUT",
    ),
    FaultyClient(
        "success-on-anything",
        ("interop.client.unusable-response",),
        reference_factory(_SuccessOnAnything),
        description="reports success for any HTTP 200, even an empty or unparsable body",
    ),
    FaultyClient(
        "signs-host-only",
        ("protocol.signature.v3.signed-headers",),
        reference_factory(_SignsHostOnly, signature="v3"),
        description="signs a V3 request over host alone, leaving its x-acs-* headers unsigned",
    ),
    FaultyClient(
        "names-sha256",
        ("protocol.signature.v2.algorithm",),
        reference_factory(_NamesSha256),
        description="sends SignatureMethod=HMAC-SHA256 although it signs with HMAC-SHA1",
    ),
    FaultyClient(
        "hangs",
        # The suite's first test fails on it; after three calls that never return the circuit
        # breaker opens and every later test is not verified.
        ("doc.param.InstanceId.required", "doc.param.InstanceId.type"),
        lambda: _hangs,
        httpx_based=False,
        description="never returns (the adapter hangs)",
    ),
    FaultyClient(
        "raises",
        ("doc.response.RequestId",),
        lambda: _raises,
        httpx_based=False,
        description="crashes with an exception instead of returning an Outcome",
    ),
    FaultyClient(
        "refuses-dry-run",
        ("doc.param.DryRun.value.true",),
        reference_factory(_RefusesDryRun),
        description="refuses DryRun=true locally, so a dry run never reaches the server",
    ),
)

FAULTY: Mapping[str, FaultyClient] = MappingProxyType({v.name: v for v in _VARIANTS})
"""Every faulty variant by name."""
