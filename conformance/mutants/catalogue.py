"""The mutant catalogue: named, deliberately faulty configurations of the reference emulator.

Each `Mutant` flips exactly one `Behaviour` switch (a single override of the reference's
behaviour), so a mutant the suite kills proves the suite checks that one
thing. `breaks` names the catalogue requirements (spec/RebootInstance.requirements.yaml) the
deviation violates; tests/mutants verifies every id exists.

    >>> get_mutant("dryrun-executes").behaviour.dryrun_executes
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.emulator.behaviour import Behaviour
from conformance.errors import ConfigError, did_you_mean

__all__ = ["MUTANTS", "Mutant", "all_mutants", "get_mutant", "mutant_names"]


@dataclass(frozen=True)
class Mutant:
    """A named faulty emulator: one `Behaviour` switch and the requirement ids it breaks.

    Example::

        with EmbeddedEmulator(EmulatorSettings(), behaviour=get_mutant("errors-200").behaviour):
            ...  # every error now comes back with HTTP 200
    """

    name: str  # kebab-case, as `ecs-conformance emulator --mutant NAME` takes it
    description: str  # the realistic deviation it models
    behaviour: Behaviour
    breaks: tuple[str, ...]  # requirement ids the deviation violates


# Module level holds constants only (no hidden global state): a tuple of frozen dataclasses.
MUTANTS: tuple[Mutant, ...] = (
    # -- DryRun (docs/protocol.md#dryrun) ----------------------------------------------------
    Mutant(
        "dryrun-executes",
        "DryRun=true really reboots the instance, as a gateway or proxy that drops the flag does",
        Behaviour(dryrun_executes=True),
        ("doc.dryrun.no-side-effects",),
    ),
    Mutant(
        "dryrun-200",
        "a passing DryRun answers HTTP 200 with a success body instead of 400 DryRunOperation",
        Behaviour(dryrun_success_http_200=True),
        ("doc.dryrun.passes", "protocol.dryrun.outcome"),
    ),
    Mutant(
        "dryrun-before-validation",
        "DryRun answered before validation (DryRunOperation for a stopped or unknown instance), "
        "as moto does for EC2",
        Behaviour(dryrun_before_validation=True),
        ("doc.dryrun.fails-like-the-call", "protocol.dryrun.outcome"),
    ),
    # -- state and lock rules (the document's Description) -----------------------------------
    Mutant(
        "no-state-precondition",
        "any status may be rebooted: a Stopped instance reboots instead of answering "
        "IncorrectInstanceStatus",
        Behaviour(skip_state_precondition=True),
        ("doc.state.only-running", "doc.error.403.IncorrectInstanceStatus"),
    ),
    Mutant(
        "starting-rebootable",
        "an instance still Starting from the previous reboot may be rebooted again "
        "(the transient status counted as Running)",
        Behaviour(reboot_starting_allowed=True),
        ("doc.state.only-running", "doc.error.403.IncorrectInstanceStatus"),
    ),
    Mutant(
        "notfound-wrong-status",
        "an unknown InstanceId answers InvalidInstanceId.NotFound with HTTP 400 "
        "instead of the documented status",
        Behaviour(not_found_http_status=400),
        ("doc.error.404.InvalidInstanceId.NotFound",),
    ),
    Mutant(
        "notfound-403",
        "an unknown InstanceId answers HTTP 403, as services that fold not-found into forbidden do",
        Behaviour(not_found_http_status=403),
        ("doc.error.404.InvalidInstanceId.NotFound",),
    ),
    Mutant(
        "forcestop-default-true",
        "an omitted ForceStop means a forced power-off, not the documented default false",
        Behaviour(force_stop_default_true=True),
        ("doc.default.ForceStop",),
    ),
    Mutant(
        "forcestop-ignored",
        "ForceStop is never passed on: ForceStop=true still restarts gracefully",
        Behaviour(force_stop_ignored=True),
        ("doc.forcestop.forced-restart", "doc.param.ForceStop.value.true"),
    ),
    Mutant(
        "security-lock-ignored",
        "an instance locked for security reasons is rebooted anyway",
        Behaviour(ignore_security_lock=True),
        ("doc.lock.security", "doc.error.403.InstanceLockedForSecurity"),
    ),
    Mutant(
        "financial-as-security",
        "an overdue (financial) lock is answered with the security lock's code",
        Behaviour(financial_as_security=True),
        ("protocol.lock.financial", "doc.error.403.InstanceExpiredOrInArrears"),
    ),
    Mutant(
        "disk-error-ignored",
        "an instance whose disk is not In_use is rebooted instead of answering DiskError",
        Behaviour(ignore_disk_error=True),
        ("doc.error.403.DiskError",),
    ),
    Mutant(
        "kms-ignored",
        "an encrypted disk whose KMS key ECS may not use does not stop the reboot",
        Behaviour(ignore_kms=True),
        ("doc.error.403.InvalidParameter.KMSKeyId.KMSUnauthorized",),
    ),
    Mutant(
        "status-stays-running",
        "a successful reboot leaves the status Running, with no Starting transient "
        "(emulators that model reboot as a no-op)",
        Behaviour(status_stays_running=True),
        ("doc.state.starting-after-call",),
    ),
    Mutant(
        "never-settles",
        "a rebooted instance stays Starting forever: the emulator's clock never completes "
        "the transition",
        Behaviour(never_settles=True),
        ("doc.state.starting-after-call",),
    ),
    # -- envelopes (docs/protocol.md#responses) ----------------------------------------------
    Mutant(
        "error-without-request-id",
        "error bodies carry no RequestId, as hand-written gateway error pages do",
        Behaviour(error_without_request_id=True),
        ("protocol.envelope.error", "protocol.request-id.unique"),
    ),
    Mutant(
        "success-without-request-id",
        "success bodies carry no RequestId (an empty JSON object)",
        Behaviour(missing_request_id_on_success=True),
        ("doc.response.RequestId", "protocol.envelope.success", "protocol.request-id.unique"),
    ),
    Mutant(
        "aws-code-casing",
        "error codes spelt the AWS way (InvalidInstanceID.NotFound), as EC2-derived emulators do",
        Behaviour(aws_code_casing=True),
        ("doc.error.404.InvalidInstanceId.NotFound",),
    ),
    Mutant(
        "wrong-message",
        "error messages reworded (text appended to the documented message)",
        Behaviour(wrong_message=True),
        (
            "doc.error.404.InvalidInstanceId.NotFound",
            "doc.error.403.IncorrectInstanceStatus",
            "doc.error.403.InstanceLockedForSecurity",
            "doc.error.403.DiskError",
            "doc.error.403.InstanceExpiredOrInArrears",
            "doc.error.403.InvalidParameter.KMSKeyId.KMSUnauthorized",
            "doc.error.500.InternalError",
        ),
    ),
    Mutant(
        "errors-200",
        "errors answered with HTTP 200 and only the body's Code telling, as some proxies do",
        Behaviour(errors_http_200=True),
        ("interop.error.status-and-code", "protocol.envelope.error"),
    ),
    Mutant(
        "xml-ignored",
        "Format=XML is ignored and every answer is JSON",
        Behaviour(xml_ignored=True),
        ("protocol.format.xml", "doc.sample.response.xml"),
    ),
    Mutant(
        "wrong-content-type",
        "every answer is labelled text/plain, whatever its format",
        Behaviour(wrong_content_type="text/plain"),
        ("protocol.content-type",),
    ),
    # -- parameters (docs/protocol.md: common parameters, gateway errors) --------------------
    Mutant(
        "case-sensitive-booleans",
        "only lower-case true/false parse, so the Python SDKs' True/False get a 400",
        Behaviour(case_sensitive_booleans=True),
        ("interop.boolean.capitalised", "interop.boolean.uppercase"),
    ),
    Mutant(
        "lenient-booleans",
        "any boolean value other than true means false (DryRun=maybe reboots), never a 400",
        Behaviour(lenient_booleans=True),
        ("protocol.param.invalid", "doc.param.DryRun.type", "doc.param.ForceStop.type"),
    ),
    Mutant(
        "missing-param-500",
        "a missing InstanceId crashes the handler: 500 InternalError instead of a 400",
        Behaviour(missing_parameter_500=True),
        ("protocol.param.missing", "doc.param.InstanceId.required"),
    ),
    # -- gateway (docs/protocol.md: transport, signatures, gateway errors) -------------------
    Mutant(
        "signature-not-checked",
        "signatures are not verified (any Signature passes), as most local emulators do",
        Behaviour(signature_not_checked=True),
        ("protocol.signature.mismatch",),
    ),
    Mutant(
        "nonce-replay-allowed",
        "a reused SignatureNonce is accepted: no replay protection",
        Behaviour(nonce_replay_allowed=True),
        ("protocol.nonce.replay",),
    ),
    Mutant(
        "v3-unsupported",
        "ACS3-HMAC-SHA256 (V3) requests are refused; only V2 query signing works",
        Behaviour(v3_unsupported=True),
        ("protocol.signature.v3",),
    ),
    Mutant(
        "post-unsupported",
        "POST is refused; only GET with a query string works",
        Behaviour(post_unsupported=True),
        ("protocol.method.POST",),
    ),
    Mutant(
        "signed-headers-not-enforced",
        "a V3 signature over any SignedHeaders list passes (host alone: x-acs-action and the "
        "nonce unsigned, so a captured request can be replayed or turned into another action)",
        Behaviour(signed_headers_not_enforced=True),
        ("protocol.signature.v3.signed-headers",),
    ),
    Mutant(
        "signature-method-unchecked",
        "V2 SignatureMethod and SignatureVersion are not checked: none, HMAC-SHA256, 9.9 or "
        "neither at all pass",
        Behaviour(signature_method_unchecked=True),
        ("protocol.signature.v2.algorithm",),
    ),
    # -- observation (docs/protocol.md#observing-instances) ------------------------------
    Mutant(
        "describe-hides-locks",
        "DescribeInstances shows no OperationLocks, so a security-locked instance looks "
        "rebootable to every caller that checks first",
        Behaviour(describe_hides_locks=True),
        ("doc.lock.security",),
    ),
)


def all_mutants() -> tuple[Mutant, ...]:
    """Every mutant, in catalogue order."""
    return MUTANTS


def mutant_names() -> tuple[str, ...]:
    """Every mutant's name, in catalogue order."""
    return tuple(m.name for m in MUTANTS)


def get_mutant(name: str) -> Mutant:
    """The mutant called `name`; `ConfigError` (exit 2) listing the valid names otherwise."""
    for mutant in MUTANTS:
        if mutant.name == name:
            return mutant
    raise ConfigError(
        f"no mutant called {name!r}{did_you_mean(name, mutant_names())}",
        hint="known mutants: " + ", ".join(mutant_names()),
    )
