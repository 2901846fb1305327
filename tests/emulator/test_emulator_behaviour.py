"""Each `Behaviour` switch changes exactly the behaviour it names.

A probe arranges a situation and returns an observation; the reference and the switched
emulator must observe differently, and the reference must observe what the spec says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.behaviour import Behaviour
from conformance.emulator.server import EmbeddedEmulator
from conformance.spec import load_spec

SPEC = load_spec()
RUNNING = SPEC.precondition_status
NOT_FOUND = SPEC.conditions["not_found"]
REBOOT_SECONDS = 5.0


@dataclass
class Probe:
    ctx_control: Any
    rpc: Any
    clock: Any
    arrange: Any


def _running(p: Probe) -> None:
    p.ctx_control.put("i-1", Status=RUNNING)


def dryrun_count(p: Probe) -> object:
    _running(p)
    p.rpc.reboot("i-1", DryRun="true")
    return p.ctx_control.view("i-1")["RebootCount"]


def dryrun_status(p: Probe) -> object:
    _running(p)
    r = p.rpc.reboot("i-1", DryRun="true")
    return r.status, r.code


def dryrun_unknown(p: Probe) -> object:
    return p.rpc.reboot("i-none", DryRun="true").code


def condition_answer(condition: str) -> Callable[[Probe], object]:
    def probe(p: Probe) -> object:
        p.arrange(p.ctx_control, "i-1", condition)
        r = p.rpc.reboot("i-1")
        return r.status, r.code

    probe.__name__ = f"answer_{condition}"
    return probe


def arranged_status_answer(status_key: str) -> Callable[[Probe], object]:
    def probe(p: Probe) -> object:
        status = getattr(SPEC, status_key)
        p.ctx_control.put("i-1", Status=status)
        return p.rpc.reboot("i-1").status

    return probe


def last_force_stop(force_stop: str | None) -> Callable[[Probe], object]:
    def probe(p: Probe) -> object:
        _running(p)
        p.rpc.reboot("i-1", ForceStop=force_stop)
        return p.ctx_control.view("i-1")["LastForceStop"]

    return probe


def error_body_request_id(p: Probe) -> object:
    r = p.rpc.reboot("i-none")
    return r.data is not None and "RequestId" in r.data


def success_body_request_id(p: Probe) -> object:
    _running(p)
    r = p.rpc.reboot("i-1")
    return r.status, r.data is not None and "RequestId" in r.data


def unknown_code(p: Probe) -> object:
    return p.rpc.reboot("i-none").code


def unknown_status(p: Probe) -> object:
    return p.rpc.reboot("i-none").status


def unknown_message(p: Probe) -> object:
    return p.rpc.reboot("i-none").message


def python_boolean(p: Probe) -> object:
    _running(p)
    return p.rpc.reboot("i-1", DryRun="True").code


def malformed_boolean(p: Probe) -> object:
    _running(p)
    return p.rpc.reboot("i-1", DryRun="maybe").status


def missing_instance_id(p: Probe) -> object:
    return p.rpc.reboot(None).status


def tampered_signature(p: Probe) -> object:
    return p.rpc.reboot("i-none", tamper=True).code


def replayed_nonce(p: Probe) -> object:
    p.rpc.reboot("i-none", nonce="c" * 32)
    return p.rpc.reboot("i-none", nonce="c" * 32).code


def v3_call(p: Probe) -> object:
    return p.rpc.reboot("i-none", signature="v3").code


def v3_signed_over_host_only(p: Probe) -> object:
    return p.rpc.reboot("i-none", signature="v3", sign=("host",)).code


def v2_another_algorithm(p: Probe) -> object:
    return p.rpc.reboot("i-none", overrides={"SignatureMethod": "HMAC-SHA256"}).code


def status_after_reboot(p: Probe) -> object:
    _running(p)
    p.rpc.reboot("i-1")
    return p.ctx_control.view("i-1")["Status"]


def status_after_the_reboot_time(p: Probe) -> object:
    _running(p)
    p.rpc.reboot("i-1")
    p.clock.advance(REBOOT_SECONDS * 2)
    return p.ctx_control.view("i-1")["Status"]


def xml_format(p: Probe) -> object:
    return p.rpc.reboot("i-none", fmt="XML").format


def content_type(p: Probe) -> object:
    return p.rpc.reboot("i-none").content_type


def post_call(p: Probe) -> object:
    return p.rpc.reboot("i-none", method="POST").code


def missing_instance_id_code(p: Probe) -> object:
    return p.rpc.reboot(None).code


def missing_instance_id_message(p: Probe) -> object:
    return p.rpc.reboot(None).message


def stopped_and_locked(p: Probe) -> object:
    p.ctx_control.put("i-1", Status="Stopped", OperationLocks=["security"])
    return p.rpc.reboot("i-1").code


def envelope_fields(p: Probe) -> object:
    return sorted((p.rpc.reboot("i-none").data or {}).keys())


def request_id_shape(p: Probe) -> object:
    rid = str((p.rpc.reboot("i-none").data or {}).get("RequestId"))
    return rid.isupper() or "-" in rid


def empty_format(p: Probe) -> object:
    _running(p)
    return p.rpc.call({"InstanceId": "i-1", "DryRun": "true"}, fmt="bogus").code


def stopped_message(p: Probe) -> object:
    p.ctx_control.put("i-1", Status="Stopped")
    return p.rpc.reboot("i-1").message


def described_locks(p: Probe) -> object:
    p.ctx_control.put("i-1", Status=RUNNING, OperationLocks=["security"])
    r = p.rpc.call({"InstanceIds": '["i-1"]'}, action="DescribeInstances")
    items = ((r.data or {}).get("Instances") or {}).get("Instance") or []
    return [item.get("OperationLocks") for item in items]


CASES: dict[str, tuple[Behaviour, Callable[[Probe], object]]] = {
    "dryrun_executes": (Behaviour(dryrun_executes=True), dryrun_count),
    "dryrun_success_http_200": (Behaviour(dryrun_success_http_200=True), dryrun_status),
    "dryrun_before_validation": (Behaviour(dryrun_before_validation=True), dryrun_unknown),
    "skip_state_precondition": (
        Behaviour(skip_state_precondition=True),
        condition_answer("status_not_running"),
    ),
    "reboot_starting_allowed": (
        Behaviour(reboot_starting_allowed=True),
        arranged_status_answer("resulting_status"),
    ),
    "not_found_http_status": (Behaviour(not_found_http_status=400), unknown_status),
    "force_stop_default_true": (Behaviour(force_stop_default_true=True), last_force_stop(None)),
    "force_stop_ignored": (Behaviour(force_stop_ignored=True), last_force_stop("true")),
    "ignore_security_lock": (
        Behaviour(ignore_security_lock=True),
        condition_answer("lock_security"),
    ),
    "financial_as_security": (
        Behaviour(financial_as_security=True),
        condition_answer("lock_financial"),
    ),
    "ignore_disk_error": (Behaviour(ignore_disk_error=True), condition_answer("disk_not_ready")),
    "ignore_kms": (Behaviour(ignore_kms=True), condition_answer("kms_unauthorized")),
    "status_stays_running": (Behaviour(status_stays_running=True), status_after_reboot),
    "never_settles": (Behaviour(never_settles=True), status_after_the_reboot_time),
    "error_without_request_id": (Behaviour(error_without_request_id=True), error_body_request_id),
    "missing_request_id_on_success": (
        Behaviour(missing_request_id_on_success=True),
        success_body_request_id,
    ),
    "aws_code_casing": (Behaviour(aws_code_casing=True), unknown_code),
    "wrong_message": (Behaviour(wrong_message=True), unknown_message),
    "errors_http_200": (Behaviour(errors_http_200=True), unknown_status),
    "xml_ignored": (Behaviour(xml_ignored=True), xml_format),
    "wrong_content_type": (Behaviour(wrong_content_type="text/plain"), content_type),
    "case_sensitive_booleans": (Behaviour(case_sensitive_booleans=True), python_boolean),
    "lenient_booleans": (Behaviour(lenient_booleans=True), malformed_boolean),
    "missing_parameter_500": (Behaviour(missing_parameter_500=True), missing_instance_id),
    "signature_not_checked": (Behaviour(signature_not_checked=True), tampered_signature),
    "nonce_replay_allowed": (Behaviour(nonce_replay_allowed=True), replayed_nonce),
    "v3_unsupported": (Behaviour(v3_unsupported=True), v3_call),
    "post_unsupported": (Behaviour(post_unsupported=True), post_call),
    "signed_headers_not_enforced": (
        Behaviour(signed_headers_not_enforced=True),
        v3_signed_over_host_only,
    ),
    "signature_method_unchecked": (
        Behaviour(signature_method_unchecked=True),
        v2_another_algorithm,
    ),
    "describe_hides_locks": (Behaviour(describe_hides_locks=True), described_locks),
    # choices inside the sources' freedom (conformance.mutants.variants)
    "gateway_variants": (
        Behaviour(gateway_variants=(("missing_parameter", 1),)),
        missing_instance_id_code,
    ),
    "reworded_messages": (Behaviour(reworded_messages=True), missing_instance_id_message),
    "refusal_order": (Behaviour(refusal_order=("lock_security",)), stopped_and_locked),
    "transient_status": (Behaviour(transient_status="Stopping"), status_after_reboot),
    "extra_envelope_fields": (
        Behaviour(extra_envelope_fields=(("AccessDeniedDetail", ""),)),
        envelope_fields,
    ),
    "request_id_style": (Behaviour(request_id_style="hex"), request_id_shape),
    "unreadable_format_code": (
        Behaviour(unreadable_format_code="InvalidParameter.Format"),
        empty_format,
    ),
    "later_document_messages": (Behaviour(later_document_messages=True), stopped_message),
    "json_content_type": (Behaviour(json_content_type="application/json"), content_type),
}


def test_every_switch_has_a_case_and_is_off_by_default() -> None:
    assert set(CASES) == set(Behaviour.switch_names())
    assert len(CASES) >= 25
    assert Behaviour().is_reference and Behaviour().deviations() == {}
    for name, (behaviour, _) in CASES.items():
        assert set(behaviour.deviations()) == {name}
        assert not behaviour.is_reference


@pytest.fixture(scope="module")
def reference(spec: Any, clock: Any) -> Iterator[EmbeddedEmulator]:
    settings = EmulatorSettings(reboot_seconds=REBOOT_SECONDS)
    with EmbeddedEmulator(settings, spec=spec, clock=clock) as emu:
        yield emu


@pytest.mark.parametrize("name", list(CASES))
def test_a_switch_changes_what_it_names(
    name: str,
    reference: EmbeddedEmulator,
    spec: Any,
    clock: Any,
    make_caller: Any,
    make_control: Any,
    arrange: Any,
) -> None:
    behaviour, probe = CASES[name]
    settings = EmulatorSettings(reboot_seconds=REBOOT_SECONDS)

    def observe(emu: EmbeddedEmulator) -> object:
        ctl = make_control(emu)
        assert ctl.reset().status_code == 204
        return probe(Probe(ctl, make_caller(emu), clock, arrange))

    expected = observe(reference)
    with EmbeddedEmulator(settings, spec=spec, clock=clock, behaviour=behaviour) as mutant:
        assert mutant.app.state.behaviour == behaviour
        observed = observe(mutant)
    assert observed != expected, f"{name}: observed {observed!r} like the reference"


def test_reference_observations_follow_the_spec(
    reference: EmbeddedEmulator, clock: Any, make_caller: Any, make_control: Any, arrange: Any
) -> None:
    def observe(probe: Callable[[Probe], object]) -> object:
        ctl = make_control(reference)
        ctl.reset()
        return probe(Probe(ctl, make_caller(reference), clock, arrange))

    assert observe(dryrun_status) == (SPEC.dryrun.http_status, SPEC.dryrun.code)
    assert observe(unknown_code) == NOT_FOUND
    assert observe(unknown_status) == SPEC.error_status(NOT_FOUND)
    assert observe(unknown_message) == SPEC.error_message(NOT_FOUND)
    assert observe(status_after_reboot) == SPEC.resulting_status
    assert observe(status_after_the_reboot_time) == SPEC.settled_status
    assert observe(last_force_stop(None)) is False
    assert observe(python_boolean) == SPEC.dryrun.code
