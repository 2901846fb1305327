"""Legitimate variants of the reference emulator: each makes a choice the sources leave free,
so the server suite must pass every one of them (the precision half of selftest, where the
mutants of `conformance.mutants.catalogue` are the power half).

Each variant turns on `Behaviour` choices only (its last section, never a fault switch) and
records the sentence that grants its freedom (`freedom`) and where it is (`source`: a catalogue
requirement id whose text it quotes, or `document:LINE`). They are written from those
sentences, not from what the suite happens to accept today.

    >>> get_variant("stopping-transient").behaviour.transient_status
    'Stopping'
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.emulator.behaviour import Behaviour
from conformance.errors import ConfigError

__all__ = ["VARIANTS", "LegitimateVariant", "all_variants", "get_variant", "variant_names"]


@dataclass(frozen=True)
class LegitimateVariant:
    """A named emulator whose choices stay inside the sources' freedom: it must pass."""

    name: str
    description: str  # what it does differently
    behaviour: Behaviour
    freedom: str  # the sentence that allows it, verbatim
    source: str  # the requirement id (or document line) the sentence is quoted from


_MISSING = (
    "required parameter missing: Missing<Name> (the gateway form, with the parameter's name; "
    "older list MissingParameter), HTTP 400"
)
_INVALID = (
    "parameter malformed (e.g. a Boolean parameter set to maybe): InvalidParameter (gateway "
    "form Invalid<Name>), HTTP 400"
)
_ORDER = (
    "Only instances that are in the Running (Running) state can be restarted."
    ' / If OperationLocks in the DescribeInstances response contains "LockReason" : '
    '"security" for an instance, the instance is locked for security reasons and cannot be '
    "restarted through calls to this operation. (The document states each condition and gives "
    "no order among them: where several hold, any applicable error passes.)"
)
_REQUEST_ID = "The ID of the request."

VARIANTS: tuple[LegitimateVariant, ...] = (
    LegitimateVariant(
        "gateway-messages-reworded",
        "every error message no source words (gateway, throttling, unknown action...) worded "
        "otherwise",
        Behaviour(reworded_messages=True),
        _INVALID + " (the sources give codes and statuses for the gateway errors, no message)",
        "protocol.param.invalid",
    ),
    LegitimateVariant(
        "missing-parameter-generic",
        "a missing InstanceId answers MissingParameter instead of MissingInstanceId",
        Behaviour(gateway_variants=(("missing_parameter", 1),)),
        _MISSING,
        "protocol.param.missing",
    ),
    LegitimateVariant(
        "invalid-parameter-named",
        "a malformed boolean answers Invalid<Name> (InvalidForceStop) instead of InvalidParameter",
        Behaviour(gateway_variants=(("invalid_parameter", 1),)),
        _INVALID,
        "protocol.param.invalid",
    ),
    LegitimateVariant(
        "invalid-parameter-malformed",
        "a malformed boolean answers Invalid<Name>.Malformed",
        Behaviour(gateway_variants=(("invalid_parameter", 2),)),
        _INVALID,
        "protocol.param.invalid",
    ),
    LegitimateVariant(
        "access-key-400",
        "an unknown AccessKeyId answers HTTP 400 (the older lists' status)",
        Behaviour(gateway_variants=(("access_key_not_found", 1),)),
        "unknown AccessKeyId: InvalidAccessKeyId.NotFound, HTTP 404 (older lists: 400)",
        "protocol.access-key.unknown",
    ),
    LegitimateVariant(
        "action-403",
        "an unknown Action answers InvalidAction with HTTP 403 (the older list's form)",
        Behaviour(gateway_variants=(("action_not_found", 1),)),
        "unknown Action: InvalidAction.NotFound, HTTP 404 (older list: InvalidAction 403)",
        "protocol.action.unknown",
    ),
    LegitimateVariant(
        "locks-first",
        "locks are checked before the status: a Stopped, security-locked instance answers "
        "InstanceLockedForSecurity",
        Behaviour(
            refusal_order=(
                "lock_security",
                "lock_financial",
                "status_not_running",
                "disk_not_ready",
                "kms_unauthorized",
            )
        ),
        _ORDER,
        "document:5,8",
    ),
    LegitimateVariant(
        "resources-first",
        "disk and KMS are checked first, the status last",
        Behaviour(
            refusal_order=(
                "kms_unauthorized",
                "disk_not_ready",
                "lock_financial",
                "lock_security",
                "status_not_running",
            )
        ),
        _ORDER,
        "document:5,8",
    ),
    LegitimateVariant(
        "stopping-transient",
        "a reboot shows Stopping (not Starting) until it is over, then Running",
        Behaviour(transient_status="Stopping"),
        "RebootInstance's document says Running, then Starting after the call, then Running "
        "again. The batch RebootInstances document says Stopping then Running. A check on a "
        "real target should accept Stopping or Starting as the transient state.",
        "interop.transient.stopping",
    ),
    LegitimateVariant(
        "extra-envelope-fields",
        "success and error envelopes carry a field no source lists",
        Behaviour(extra_envelope_fields=(("RequestTime", "2026-01-01T00:00:00Z"),)),
        "Error: HTTP 4xx/5xx with fields RequestId, HostId (e.g. ecs.aliyuncs.com), Code, "
        "Message, Recommend (a diagnosis URL). JSON is a flat object; XML root is <Error>. "
        "(The sources list the fields an envelope carries; none forbids more.)",
        "protocol.envelope.error",
    ),
    LegitimateVariant(
        "hex-request-ids",
        "request ids are 32 lower-case hex characters instead of upper-case UUIDs",
        Behaviour(request_id_style="hex"),
        _REQUEST_ID,
        "doc.response.RequestId",
    ),
    LegitimateVariant(
        "lowercase-request-ids",
        "request ids are lower-case UUIDs",
        Behaviour(request_id_style="lower"),
        _REQUEST_ID,
        "doc.response.RequestId",
    ),
    LegitimateVariant(
        "format-code-undocumented",
        "a Format that is neither JSON nor XML answers 400 InvalidParameter.Format, a code the "
        "document does not list",
        Behaviour(unreadable_format_code="InvalidParameter.Format"),
        "For a list of error codes, visit the API Error Center.",
        "document:81",
    ),
    LegitimateVariant(
        "later-document-messages",
        "IncorrectInstanceStatus and InternalError answer the document's other message for "
        "their code (IncorrectInstanceStatus's `%s` filled in)",
        Behaviour(later_document_messages=True),
        "403 IncorrectInstanceStatus %s The error message returned because the operation is "
        "not supported while the instance is in the current state.",
        "doc.error.403.IncorrectInstanceStatus.message-2",
    ),
    LegitimateVariant(
        "json-without-charset",
        "JSON answers are labelled application/json, without a charset",
        Behaviour(json_content_type="application/json"),
        "JSON: application/json;charset=utf-8; XML: text/xml;charset=utf-8 (an sdk fact, judged "
        "observable: no official SDK reads a JSON answer's Content-Type; alibabacloud-tea-"
        "openapi compares it only to recognise an XML error)",
        "protocol.content-type",
    ),
    LegitimateVariant(
        "financial-before-security",
        "a financial lock is checked before a security lock, KMS before the disk",
        Behaviour(
            refusal_order=(
                "status_not_running",
                "lock_financial",
                "lock_security",
                "kms_unauthorized",
                "disk_not_ready",
            )
        ),
        _ORDER,
        "document:5,8",
    ),
)


def all_variants() -> tuple[LegitimateVariant, ...]:
    """Every legitimate variant, in catalogue order."""
    return VARIANTS


def variant_names() -> tuple[str, ...]:
    """Every legitimate variant's name."""
    return tuple(v.name for v in VARIANTS)


def get_variant(name: str) -> LegitimateVariant:
    """The variant called `name`; `ConfigError` listing the valid names otherwise."""
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise ConfigError(
        f"no legitimate variant called {name!r}", hint="known: " + ", ".join(variant_names())
    )
