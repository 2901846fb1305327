"""Switches of the emulator: `Behaviour()` (all off) is the reference.

Two kinds, kept apart. *Fault switches* model one deviation seen in a real emulator, gateway or
service; a mutant (`conformance.mutants.catalogue`) built from one differs from the reference in
one way only, and the suite must catch it. *Choices* (the last section) stay inside the freedom
the sources leave (a message no source words, a listed variant of an unsure code, the order of
checks the document does not give...); a legitimate variant (`conformance.mutants.variants`)
built from one must pass the suite. Each switch is consulted at exactly one place (named in its
comment); the emulator never reads them from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Behaviour"]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Fault switches; the defaults are the reference behaviour (mutants:
    docs/architecture.md#selftest).

    Example: `Behaviour(dryrun_executes=True)` is an emulator whose DryRun really reboots.
    """

    # -- DryRun (docs/protocol.md#dryrun) ---------------------------------------------------
    dryrun_executes: bool = False
    """DryRun=true performs the reboot anyway (a gateway that drops the flag). [state]"""
    dryrun_success_http_200: bool = False
    """A passing DryRun answers a 200 success body instead of 400 DryRunOperation. [handlers]"""
    dryrun_before_validation: bool = False
    """DryRunOperation is answered before the instance checks, as moto does. [handlers]"""

    # -- state rules (the document's Description) -------------------------------------------
    skip_state_precondition: bool = False
    """Any status may be rebooted (no IncorrectInstanceStatus). [state]"""
    reboot_starting_allowed: bool = False
    """A Starting instance may be rebooted again (the transient counts as Running). [state]"""
    not_found_http_status: int | None = None
    """Unknown ids answer this HTTP status (e.g. 400), not the documented one. [handlers]"""
    force_stop_default_true: bool = False
    """An omitted ForceStop means true (a forced power-off), not the documented false. [handlers]"""
    force_stop_ignored: bool = False
    """ForceStop is never passed on: every reboot is recorded as ForceStop=false. [handlers]"""
    ignore_security_lock: bool = False
    """A `security` lock does not stop the reboot. [state]"""
    financial_as_security: bool = False
    """A `financial` lock is answered with the security lock's code. [handlers]"""
    ignore_disk_error: bool = False
    """A disk not In_use does not stop the reboot. [state]"""
    ignore_kms: bool = False
    """An inaccessible KMS key does not stop the reboot. [state]"""
    status_stays_running: bool = False
    """A successful reboot leaves the status Running (no transient status). [state]"""
    never_settles: bool = False
    """A reboot's transition never completes by the clock (only `settle` ends it). [state]"""

    # -- envelopes (docs/protocol.md#responses) ---------------------------------------------
    error_without_request_id: bool = False
    """Error bodies carry no RequestId field. [app, error rendering]"""
    missing_request_id_on_success: bool = False
    """Success bodies carry no RequestId field. [app, success rendering]"""
    aws_code_casing: bool = False
    """Error codes spelt AWS-style: `Id` becomes `ID` (InvalidInstanceID.NotFound). [app]"""
    wrong_message: bool = False
    """Error messages differ from the documented text (a suffix is appended). [app]"""
    errors_http_200: bool = False
    """Errors are answered with HTTP 200 (only the body's Code tells). [app]"""
    xml_ignored: bool = False
    """Format=XML is ignored: every answer is JSON. [app]"""
    wrong_content_type: str | None = None
    """Every answer is labelled with this content type (e.g. text/plain). [app]"""

    # -- parameters (docs/protocol.md: common parameters, gateway errors) -------------------
    case_sensitive_booleans: bool = False
    """Only lower-case true/false are booleans; the Python SDKs' True/False get a 400. [handlers]"""
    lenient_booleans: bool = False
    """Any boolean value other than true (any case) means false; never a 400. [handlers]"""
    missing_parameter_500: bool = False
    """A missing required parameter answers 500 InternalError instead of a 400. [handlers]"""

    # -- gateway (docs/protocol.md: transport, signatures, gateway errors) ------------------
    signature_not_checked: bool = False
    """Signatures are not verified: any Signature is accepted. [app, Gateway]"""
    nonce_replay_allowed: bool = False
    """A reused SignatureNonce is accepted. [app, Gateway]"""
    v3_unsupported: bool = False
    """V3 (ACS3-HMAC-SHA256) requests are refused: only V2 query signing works. [app]"""
    post_unsupported: bool = False
    """POST is refused with the unsupported-method error; only GET works. [app]"""
    signed_headers_not_enforced: bool = False
    """A V3 signature may cover fewer headers than the protocol requires (over `host` alone,
    `x-acs-action` and the nonce could be changed). [app, Gateway]"""
    signature_method_unchecked: bool = False
    """V2 `SignatureMethod` and `SignatureVersion` are neither required nor checked (`none`,
    `HMAC-SHA256`, `9.9` pass). [app, Gateway]"""

    # -- observation (docs/protocol.md#observing-instances) ------------------------------
    describe_hides_locks: bool = False
    """DescribeInstances shows no OperationLocks, whatever locks an instance has. [handlers]"""

    # -- choices inside the sources' freedom (legitimate variants, never faults) -------------
    gateway_variants: tuple[tuple[str, int], ...] = ()
    """(situation, index): which listed variant a gateway situation answers (default: the
    first). [app, choices.apply]"""
    reworded_messages: bool = False
    """Every error message that no source gives is worded otherwise. [app, choices.apply]"""
    refusal_order: tuple[str, ...] = ()
    """The order of the instance checks where several conditions hold (RebootResult values;
    default: not found, status, locks, disk, KMS). [state]"""
    transient_status: str | None = None
    """The status a reboot shows while it lasts (default: the document's Starting). [state]"""
    extra_envelope_fields: tuple[tuple[str, str], ...] = ()
    """Fields added to every JSON envelope, success and error. [app, envelopes]"""
    request_id_style: str = "uuid"
    """`uuid` (upper-case, like the document's examples), `lower` (a lower-case UUID) or `hex`
    (32 lower-case hex characters). [app]"""
    unreadable_format_code: str | None = None
    """The code of the 400 answered for a Format that is neither JSON nor XML (default: the
    invalid-parameter variant). [app]"""
    later_document_messages: bool = False
    """For a code the document lists twice, the later row's message. [handlers]"""
    json_content_type: str | None = None
    """The Content-Type of JSON answers (default: the profile's). [app, envelopes]"""

    @property
    def is_reference(self) -> bool:
        """True when every switch is off."""
        return self == Behaviour()

    def deviations(self) -> dict[str, Any]:
        """The switches that differ from the reference, by name."""
        reference = Behaviour()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(reference, f.name)
        }

    @classmethod
    def switch_names(cls) -> tuple[str, ...]:
        """Every switch, in declaration order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def choice_names(cls) -> tuple[str, ...]:
        """The switches that stay inside the sources' freedom (legitimate variants)."""
        return tuple(n for n in cls.switch_names() if n in _CHOICES)

    @classmethod
    def fault_names(cls) -> tuple[str, ...]:
        """The fault switches (mutants)."""
        return tuple(n for n in cls.switch_names() if n not in _CHOICES)


# The last section of `Behaviour`: choices a correct implementation may make.
_CHOICES = frozenset(
    {
        "gateway_variants",
        "reworded_messages",
        "refusal_order",
        "transient_status",
        "extra_envelope_fields",
        "request_id_style",
        "unreadable_format_code",
        "later_document_messages",
        "json_content_type",
    }
)
