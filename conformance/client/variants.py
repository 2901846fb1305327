"""Legitimate variants of the reference client: each makes a choice the sources leave free, so
the client suite must pass every one of them (the precision half of selftest, where the faulty
clients of `conformance.client.faulty` are the power half).

Each variant is written from the sentence that grants its freedom (`freedom`, quoted from
`source`: the document, a profile key of `spec/profile.yaml`, or an official SDK's code), not
from what the suite happens to accept. Each is a shipped adapter, `--ecs-client
variant-<name>` (`conformance.client.registry`); `selftest` iterates `VARIANTS`.

    >>> VARIANTS["uuid-nonce"].source
    'protocol.nonce.unique'
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx

from conformance.client.adapters import CallableAdapter
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    SDK_DEFAULT_TIMEOUTS,
    ClientAdapter,
    Outcome,
    RebootCall,
)
from conformance.client.reference import ReferenceClient, reference_factory
from conformance.protocol.wire import new_nonce

__all__ = ["ADAPTER_PREFIX", "VARIANTS", "LegitimateClient"]

ADAPTER_PREFIX = "variant-"
"""A legitimate variant's adapter name is this prefix and its own name."""

_FORM = "application/x-www-form-urlencoded"
_TEA = "alibabacloud-tea-openapi (alibabacloud-ecs20140526, Python)"


class _SdkDefaultTimeouts(ReferenceClient):
    """Ignores the call's timeout hint and waits as alibabacloud-tea-openapi does by default."""

    def timeout_for(self, call: RebootCall) -> httpx.Timeout:
        connect, read = SDK_DEFAULT_TIMEOUTS[_TEA]
        return httpx.Timeout(read, connect=connect)


class _QueryPost(ReferenceClient):
    """POST with every parameter in the query and no body (the old Python SDK's way)."""

    def v2_request(
        self, base: str, params: Mapping[str, str], timeout: Mapping[str, object]
    ) -> httpx.Request:
        return httpx.Request(
            "POST", f"{base}?{self.encode(params)}", extensions={"timeout": timeout}
        )


class _SplitPost(ReferenceClient):
    """POST with the operation's parameters in the query and the common ones in a form body."""

    def v2_request(
        self, base: str, params: Mapping[str, str], timeout: Mapping[str, object]
    ) -> httpx.Request:
        spec = self.spec
        api = {p.name for p in (spec.instance_parameter, *spec.boolean_parameters)}
        query = {k: v for k, v in params.items() if k in api}
        body = {k: v for k, v in params.items() if k not in api}
        return httpx.Request(
            "POST",
            f"{base}?{self.encode(query)}",
            content=self.encode(body).encode("ascii"),
            headers={"content-type": _FORM},
            extensions={"timeout": timeout},
        )


class _UuidNonce(ReferenceClient):
    def nonce(self) -> str:
        return str(uuid.uuid4())


class _Hex64Nonce(ReferenceClient):
    def nonce(self) -> str:
        return new_nonce() + new_nonce()


class _CapitalisedBooleans(ReferenceClient):
    """`True`/`False`, as the Python SDKs send them."""

    def wire_bool(self, value: bool) -> str:
        return super().wire_bool(value).capitalize()


class _ExplicitFalse(ReferenceClient):
    """Sends `ForceStop=false` and `DryRun=false` when the caller left them unset."""

    def api_params(self, call: RebootCall) -> dict[str, str]:
        params = super().api_params(call)
        for flag in self.spec.boolean_parameters:
            params.setdefault(flag.name, self.wire_bool(False))
        return params


class _V3SignsMore(ReferenceClient):
    """V3, signing `accept` and `user-agent` too, as the Python SDK does."""

    def __init__(self) -> None:
        super().__init__(signature="v3")

    def v3_extra_headers(self) -> dict[str, str]:
        return {**super().v3_extra_headers(), "user-agent": "conformance-variant/1.0"}

    def v3_signed_extra(self) -> tuple[str, ...]:
        return ("accept", "user-agent")


class _NoFormat(ReferenceClient):
    """No `Format` parameter: the server answers in its default format (XML), which it reads."""

    def common_params(self, call: RebootCall) -> dict[str, str]:
        params = super().common_params(call)
        del params["Format"]
        return params


class _LowercaseFormat(ReferenceClient):
    def common_params(self, call: RebootCall) -> dict[str, str]:
        return {**super().common_params(call), "Format": "json"}


class _SdkExtraParameters(ReferenceClient):
    """Adds `RegionId` and an empty, signed `SignatureType`, as the old Python SDK does."""

    def common_params(self, call: RebootCall) -> dict[str, str]:
        return {**super().common_params(call), "RegionId": call.region_id, "SignatureType": ""}


@dataclass(frozen=True)
class LegitimateClient:
    """A named legitimate variant: what it does, and the sentence (with its source) that allows
    it. The client suite must pass it."""

    name: str
    behaviour: str
    freedom: str
    source: str
    factory: Callable[[], Callable[[RebootCall], Outcome]]
    httpx_based: bool = True

    @property
    def adapter_name(self) -> str:
        """The `--ecs-client` value that selects this variant (`variant-<name>`)."""
        return ADAPTER_PREFIX + self.name

    def adapter(self, timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
        """The variant as a client adapter."""
        return CallableAdapter(
            self.factory(),
            name=self.adapter_name,
            timeout_s=timeout_s,
            httpx_based=self.httpx_based,
        )


_METHODS = "GET is an allowed method for RebootInstance (api.methods: GET, POST)."
_PLACEMENT = (
    "Parameters may arrive in the query string, in an application/x-www-form-urlencoded "
    "body, or split between both; a server merges them (and signs over the merged set)."
)
_NONCE = "SignatureNonce: unique per request (clients send 32 or 64 hex chars, or a UUID)."
_BOOLEANS = (
    "Booleans: the Python SDKs send True/False, Node and Java send true/false; an optional "
    "flag is often sent explicitly as false. Servers must parse booleans case-insensitively."
)
_V3 = (
    "Signature V3 (ACS3-HMAC-SHA256): headers host, x-acs-action, x-acs-version, x-acs-date, "
    "x-acs-signature-nonce, x-acs-content-sha256 and Authorization: ACS3-HMAC-SHA256 "
    "Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<hex>; verifiers use the "
    "client's own SignedHeaders list."
)
_FORMAT = (
    "The response format, JSON or XML, case-insensitive (some SDKs send json). ECS answers "
    "XML when it is absent."
)
_TOLERATED = (
    "The old Python SDK adds RegionId to every request, also to operations that have no such "
    "parameter, and an empty SignatureType= that is part of the signed set: a server must "
    "accept and ignore both."
)

# `source` is the catalogue id whose sentence `freedom` quotes (tests check the quote), or,
# where no requirement holds the fact, where it was read.
_VARIANTS = (
    LegitimateClient(
        "sdk-default-timeouts",
        "ignores the timeout hint and keeps alibabacloud-tea-openapi's defaults "
        "(connect 5 s, read 10 s)",
        "RebootCall.timeout_s is a hint that adapters may use; the SDK's own defaults are "
        "DEFAULT_CONNECT_TIMEOUT = 5000 and DEFAULT_READ_TIMEOUT = 10000 (ms)",
        "sdk: darabonba/core.py of alibabacloud-tea-openapi; contract: RebootCall.timeout_s",
        reference_factory(_SdkDefaultTimeouts),
        httpx_based=False,  # the no-answer scenario waits only on the loopback server
    ),
    LegitimateClient(
        "get",
        "V2 with every parameter in the query of a GET",
        _METHODS,
        "protocol.method.GET",
        reference_factory(ReferenceClient, method="GET"),
    ),
    LegitimateClient(
        "query-post",
        "V2 POST with every parameter in the query, no body",
        _PLACEMENT,
        "protocol.params.merged",
        reference_factory(_QueryPost),
    ),
    LegitimateClient(
        "split-post",
        "V2 POST: InstanceId/ForceStop/DryRun in the query, the common parameters in a body",
        _PLACEMENT,
        "protocol.params.merged",
        reference_factory(_SplitPost),
    ),
    LegitimateClient(
        "uuid-nonce",
        "a UUID as SignatureNonce",
        _NONCE,
        "protocol.nonce.unique",
        reference_factory(_UuidNonce),
    ),
    LegitimateClient(
        "hex64-nonce",
        "64 hex characters as SignatureNonce",
        _NONCE,
        "protocol.nonce.unique",
        reference_factory(_Hex64Nonce),
    ),
    LegitimateClient(
        "capitalised-booleans",
        "booleans as True/False",
        _BOOLEANS,
        "interop.boolean.capitalised",
        reference_factory(_CapitalisedBooleans),
    ),
    LegitimateClient(
        "explicit-false",
        "ForceStop=false and DryRun=false sent when the caller left them unset",
        "Default value: false.",
        "doc.default.ForceStop",
        reference_factory(_ExplicitFalse),
    ),
    LegitimateClient(
        "v3-signs-more",
        "signature V3 over host, x-acs-*, accept and user-agent (the Python SDK's set)",
        _V3,
        "protocol.signature.v3",
        reference_factory(_V3SignsMore),
    ),
    LegitimateClient(
        "v3-get",
        "signature V3 over a GET",
        _METHODS,
        "protocol.method.GET",
        reference_factory(ReferenceClient, signature="v3", method="GET"),
    ),
    LegitimateClient(
        "no-format",
        "no Format parameter: reads the default (XML) answers",
        _FORMAT,
        "protocol.format.default",
        reference_factory(_NoFormat),
    ),
    LegitimateClient(
        "lowercase-format",
        "Format=json",
        _FORMAT,
        "protocol.format.case-insensitive",
        reference_factory(_LowercaseFormat),
    ),
    LegitimateClient(
        "sdk-extra-parameters",
        "adds RegionId and an empty, signed SignatureType",
        _TOLERATED,
        "interop.params.tolerated",
        reference_factory(_SdkExtraParameters),
    ),
)

VARIANTS: Mapping[str, LegitimateClient] = MappingProxyType({v.name: v for v in _VARIANTS})
"""Every legitimate client variant by name."""
