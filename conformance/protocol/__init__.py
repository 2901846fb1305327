"""The Alibaba Cloud RPC protocol, once: wire encoding, signatures, envelopes, gateway checks.

The protocol facts are in docs/protocol.md. Emulator, suites, clients and mutants import this
package: no signing, encoding or envelope code exists anywhere else.
"""

from __future__ import annotations

from conformance.protocol.envelopes import (
    ApiError,
    Envelopes,
    ResponseFormat,
    WireResponse,
    new_request_id,
    parse_response,
)
from conformance.protocol.gateway import Gateway, RpcRequest
from conformance.protocol.signing import (
    SignatureFormatError,
    V2Signer,
    V3Authorization,
    sign_v2,
    sign_v3,
    signed_headers_v3,
    signed_params_v2,
    verify_v2,
    verify_v3,
)
from conformance.protocol.wire import WireError

__all__ = [
    "ApiError",
    "Envelopes",
    "Gateway",
    "ResponseFormat",
    "RpcRequest",
    "SignatureFormatError",
    "V2Signer",
    "V3Authorization",
    "WireError",
    "WireResponse",
    "new_request_id",
    "parse_response",
    "sign_v2",
    "sign_v3",
    "signed_headers_v3",
    "signed_params_v2",
    "verify_v2",
    "verify_v3",
]
