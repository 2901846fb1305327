"""The reference client: RebootInstance over httpx, signature V2 or V3, GET or POST.

It passes the whole client suite, and its small overridable steps (`api_params`, `nonce`,
`timestamp`, `encode`, `signature_v2`, `interpret`, `resend`) are what the faulty variants of
`conformance.client.faulty` change, one at a time. Every protocol fact comes from the spec and
`conformance.protocol` (protocol code exists once): no signing or encoding code lives here.

    >>> client = ReferenceClient(signature="v3")
    >>> # client.reboot_instance(RebootCall("127.0.0.1:8080", "i-1", "testid", "testsecret"))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from conformance.client.adapters import CallableAdapter
from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    ClientAdapter,
    Outcome,
    RebootCall,
)
from conformance.protocol.envelopes import Envelopes, WireResponse, parse_response
from conformance.protocol.signing import (
    V2_SIGNATURE_METHOD,
    V2_SIGNATURE_VERSION,
    sign_v2,
    signed_headers_v3,
)
from conformance.protocol.wire import format_timestamp, new_nonce, percent_encode

if TYPE_CHECKING:
    from conformance.spec.model import Spec

__all__ = [
    "READ_TIMEOUT_S",
    "ReferenceClient",
    "reference_adapter",
    "reference_factory",
    "reference_get_adapter",
    "reference_loopback_adapter",
    "reference_v3_adapter",
]

# The timeout when a call carries no hint (RebootCall.timeout_s): short, like the Node SDK's.
READ_TIMEOUT_S = 3.0
_FORM = "application/x-www-form-urlencoded"


class ReferenceClient:
    """A correct RebootInstance client: selftest's clean reference (docs/architecture.md#selftest).
    `signature`: `v2` | `v3`; `method`: `GET` | `POST`. V2 POST sends every parameter in a form
    body, V2 GET in the query; V3 sends the API parameters in the query and Action/Version in
    headers, as the new SDKs do (docs/protocol.md#official-sdks)."""

    httpx_based = True

    def __init__(
        self,
        *,
        signature: str = "v2",
        method: str = "POST",
        timeout_s: float = READ_TIMEOUT_S,
        spec: Spec | None = None,
    ) -> None:
        if signature not in ("v2", "v3"):
            raise ValueError(f"signature must be v2 or v3, not {signature!r}")
        self.signature = signature
        self.method = method.upper()
        self.timeout_s = timeout_s
        self._spec = spec
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=timeout_s))

    # -- what the steps read -----------------------------------------------------------------
    @cached_property
    def spec(self) -> Spec:
        """The spec the client reads Action, Version and booleans from."""
        if self._spec is None:
            from conformance.spec import load_spec

            self._spec = load_spec()
        return self._spec

    @cached_property
    def envelopes(self) -> Envelopes:
        """Envelope facts of the profile (request id header, content types)."""
        return Envelopes.from_profile(self.spec.profile)

    # -- overridable steps -------------------------------------------------------------------
    def wire_bool(self, value: bool) -> str:
        """A boolean as sent: the profile's canonical `true`/`false`."""
        return self.spec.profile.booleans.spelling(value)

    def api_params(self, call: RebootCall) -> dict[str, str]:
        """The operation's own parameters; unset booleans are left out
        (docs/contracts.md#rebootcall)."""
        spec = self.spec
        params = {spec.instance_parameter.name: call.instance_id}
        if call.force_stop is not None:
            params[spec.force_parameter.name] = self.wire_bool(call.force_stop)
        if call.dry_run is not None:
            params[spec.dry_run_parameter.name] = self.wire_bool(call.dry_run)
        return params

    def nonce(self) -> str:
        """A fresh SignatureNonce per request."""
        return new_nonce()

    def timestamp(self) -> str:
        """The request time, `YYYY-MM-DDThh:mm:ssZ` UTC."""
        return format_timestamp()

    def encode(self, params: Mapping[str, str]) -> str:
        """Parameters as a query string or form body (the encoding of
        docs/protocol.md#signature-v2)."""
        return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())

    def signature_v2(self, method: str, params: Mapping[str, str], secret: str) -> str:
        """The V2 signature over every parameter but `Signature`."""
        return sign_v2(method, params, secret)

    def version(self) -> str:
        """The API version sent."""
        return self.spec.version

    def signature_method(self) -> str:
        """The V2 `SignatureMethod` sent (the signature itself is HMAC-SHA1 either way)."""
        return V2_SIGNATURE_METHOD

    def v3_signed_headers(self) -> tuple[str, ...] | None:
        """The headers a V3 signature covers; None: host, content-type and every x-acs-*."""
        return None

    def timeout_for(self, call: RebootCall) -> httpx.Timeout:
        """How long to wait: the call's hint (RebootCall.timeout_s), else the client's own."""
        return httpx.Timeout(call.timeout_s if call.timeout_s is not None else self.timeout_s)

    def v3_signed_extra(self) -> tuple[str, ...]:
        """Headers signed besides `host` and `x-acs-*` (the Node SDK signs none)."""
        return ()

    def v3_extra_headers(self) -> dict[str, str]:
        """Headers a V3 request carries besides the signature's own."""
        return {"accept": self.spec.profile.formats.v3_accept}

    def common_params(self, call: RebootCall) -> dict[str, str]:
        """The V2 common parameters (docs/protocol.md), the signature excepted."""
        return {
            "Action": self.spec.action,
            "Version": self.version(),
            "Format": "JSON",
            "AccessKeyId": call.access_key_id,
            "SignatureMethod": self.signature_method(),
            "SignatureVersion": V2_SIGNATURE_VERSION,
            "SignatureNonce": self.nonce(),
            "Timestamp": self.timestamp(),
        }

    def v2_request(
        self, base: str, params: Mapping[str, str], timeout: Mapping[str, object]
    ) -> httpx.Request:
        """The signed V2 parameters on the wire: GET in the query, POST in a form body."""
        encoded = self.encode(params)
        if self.method == "GET":
            return httpx.Request("GET", f"{base}?{encoded}", extensions={"timeout": timeout})
        return httpx.Request(
            self.method,
            base,
            content=encoded.encode("ascii"),
            headers={"content-type": _FORM},
            extensions={"timeout": timeout},
        )

    def resend(self, outcome: Outcome, attempt: int) -> bool:
        """Whether to send the request again: never (interop.retries.none)."""
        return False

    def interpret(self, response: WireResponse) -> Outcome:
        """Turn an HTTP answer into an `Outcome` (docs/contracts.md#outcome)."""
        status = response.status
        if 200 <= status < 300:
            request_id = response.request_id
            if response.data is None or not response.request_id:
                reason = response.parse_error or "no RequestId in the body"
                return Outcome.no_response(f"unusable success response: {reason}", status)
            return Outcome.success(request_id)
        code = response.code
        if not code:
            reason = response.parse_error or "no Code in the body"
            return Outcome.no_response(f"HTTP {status} without an error envelope: {reason}", status)
        return Outcome.error(code, response.message, response.request_id, status)

    # -- the call ----------------------------------------------------------------------------
    def build_request(self, call: RebootCall) -> httpx.Request:
        """The signed request for `call`."""
        base = f"{call.protocol}://{call.endpoint}/"
        api = self.api_params(call)
        timeout = self.timeout_for(call).as_dict()
        if self.signature == "v3":
            query = self.encode(api)
            headers = signed_headers_v3(
                self.method,
                call.endpoint,
                api,
                action=self.spec.action,
                version=self.version(),
                access_key_id=call.access_key_id,
                access_key_secret=call.access_key_secret,
                nonce=self.nonce(),
                timestamp=self.timestamp(),
                extra_headers=self.v3_extra_headers(),
                sign=self.v3_signed_headers(),
                sign_also=self.v3_signed_extra(),
            )
            return httpx.Request(
                self.method, f"{base}?{query}", headers=headers, extensions={"timeout": timeout}
            )
        params = dict(api)
        params.update(self.common_params(call))
        params["Signature"] = self.signature_v2(self.method, params, call.access_key_secret)
        return self.v2_request(base, params, timeout)

    def send(self, request: httpx.Request) -> Outcome:
        """Send once; transport failures become a no-response `Outcome`."""
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            waited = request.extensions.get("timeout", {}).get("read", self.timeout_s)
            return Outcome.no_response(f"timed out after {waited:g} s: {exc!r}")
        except httpx.HTTPError as exc:
            return Outcome.no_response(f"transport error: {exc!r}")
        wire = parse_response(
            response.status_code,
            response.headers.multi_items(),
            response.content,
            request_id_header=self.envelopes.request_id_header,
        )
        return self.interpret(wire)

    def reboot_instance(self, call: RebootCall) -> Outcome:
        """Make one RebootInstance call (the adapter signature:
        docs/contracts.md#python-adapters-moduleattr)."""
        attempt = 0
        while True:
            outcome = self.send(self.build_request(call))
            attempt += 1
            if not self.resend(outcome, attempt):
                return outcome

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()


def reference_factory(
    cls: type[ReferenceClient], **kwargs: object
) -> Callable[[], Callable[[RebootCall], Outcome]]:
    """A fresh `cls(**kwargs)`'s `reboot_instance` per call of the factory: how the faulty and
    the legitimate client variants (subclasses that change one choice) become adapters."""
    return lambda: cls(**kwargs).reboot_instance  # type: ignore[arg-type]


def _adapter(name: str, client: ReferenceClient, timeout_s: float, httpx: bool) -> ClientAdapter:
    return CallableAdapter(
        client.reboot_instance, name=name, timeout_s=timeout_s, httpx_based=httpx
    )


def reference_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`reference`: V2, POST with a form body; judged in-process through respx and on loopback."""
    return _adapter("reference", ReferenceClient(signature="v2"), timeout_s, True)


def reference_v3_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`reference-v3`: signature V3, POST, Action/Version in headers."""
    return _adapter("reference-v3", ReferenceClient(signature="v3"), timeout_s, True)


def reference_get_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`reference-get`: V2 with every parameter in the query of a GET."""
    return _adapter("reference-get", ReferenceClient(signature="v2", method="GET"), timeout_s, True)


def reference_loopback_adapter(timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S) -> ClientAdapter:
    """`reference-loopback`: the reference client judged on the loopback server only."""
    return _adapter("reference-loopback", ReferenceClient(signature="v2"), timeout_s, False)
