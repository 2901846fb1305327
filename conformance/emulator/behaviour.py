"""Fault switches of the emulator: `Behaviour()` (all off) is the reference.

Each switch models one deviation seen in a real emulator, gateway or service, and is consulted at
exactly one place (named in its comment), so a mutant built from one switch differs from the
reference in one way only. `conformance.mutants` names sets of them; the emulator never reads them
from the environment.
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
