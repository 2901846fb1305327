"""RebootInstance and DescribeInstances through signed requests over real HTTP.

Every expected code, status and message is read from `load_spec()`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.protocol.envelopes import ResponseFormat, WireResponse, parse_response
from conformance.spec import load_spec

SPEC = load_spec()
RUNNING = SPEC.precondition_status
STATE_CONDITIONS = [c for c in SPEC.conditions if c != "injected_fault"]
ERROR_FIELDS = SPEC.profile.envelopes.error_fields
RID_HEADER = SPEC.profile.envelopes.request_id_header
CONTENT_TYPES = SPEC.profile.formats.content_types
FORMATS = {"JSON": ResponseFormat.JSON, "XML": ResponseFormat.XML}


def assert_error(r: WireResponse, code: str, fmt: ResponseFormat = ResponseFormat.JSON) -> None:
    """A documented error: status and message from the spec, a full envelope, a fresh id."""
    assert r.code == code, (r.status, r.body)
    assert SPEC.error_matches(code, r.status, r.message), (r.status, r.message)
    assert r.status == SPEC.error_status(code)
    assert r.message == SPEC.error_message(code)
    assert_envelope(r, fmt)


def assert_envelope(r: WireResponse, fmt: ResponseFormat) -> None:
    assert r.format is fmt
    assert r.content_type == CONTENT_TYPES[fmt.value]
    assert r.data is not None and all(r.data.get(f) for f in ERROR_FIELDS), r.body
    assert r.request_id == r.headers[RID_HEADER]
    if fmt is ResponseFormat.XML:
        assert r.xml_root == SPEC.profile.envelopes.error_xml_root


def assert_success(r: WireResponse, fmt: ResponseFormat = ResponseFormat.JSON) -> None:
    assert r.status == SPEC.profile.envelopes.success_status, r.body
    assert r.format is fmt
    assert r.code is None
    assert r.data is not None and r.data["RequestId"] == r.headers[RID_HEADER]
    if fmt is ResponseFormat.XML:
        assert r.xml_root == f"{SPEC.action}Response"


# -- the document's conditions ---------------------------------------------------------------


@pytest.mark.parametrize("condition", STATE_CONDITIONS)
@pytest.mark.parametrize("dry_run", [None, "false", "true"])
def test_each_condition_answers_its_documented_error_and_changes_nothing(
    control: Any, rpc: Any, arrange: Any, condition: str, dry_run: str | None
) -> None:
    arrange(control, "i-1", condition)
    before = control.get("i-1").json() if condition != "not_found" else None
    r = rpc.reboot("i-1", DryRun=dry_run)
    assert_error(r, SPEC.conditions[condition])
    if before is not None:
        assert control.view("i-1") == before


@pytest.mark.parametrize("status", [s for s in SPEC.lifecycle.statuses if s != RUNNING])
def test_only_running_instances_reboot(control: Any, rpc: Any, status: str) -> None:
    control.put("i-1", Status=status)
    assert_error(rpc.reboot("i-1"), SPEC.conditions["status_not_running"])


def test_an_unrelated_lock_does_not_refuse(control: Any, rpc: Any) -> None:
    others = [r for r in SPEC.lifecycle.lock_reasons if r not in SPEC.lock_errors]
    control.put("i-1", Status=RUNNING, OperationLocks=others)
    assert_success(rpc.reboot("i-1"))


@pytest.mark.parametrize("force_stop", [None, "false", "False", "true", "TRUE", "True"])
def test_success_reboots_records_force_stop_and_starts_the_transition(
    control: Any, rpc: Any, force_stop: str | None
) -> None:
    control.put("i-1", Status=RUNNING)
    assert_success(rpc.reboot("i-1", ForceStop=force_stop, DryRun="false"))
    view = control.view("i-1")
    expected = force_stop is not None and force_stop.lower() == "true"
    assert (view["Status"], view["RebootCount"], view["LastForceStop"]) == (
        SPEC.resulting_status,
        1,
        expected,
    )
    assert control.settle("i-1").json()["Status"] == SPEC.settled_status


@pytest.mark.parametrize("dry_run", ["true", "True", "TRUE"])
def test_a_passing_dry_run_answers_dry_run_operation_and_changes_nothing(
    control: Any, rpc: Any, dry_run: str
) -> None:
    control.put("i-1", Status=RUNNING)
    r = rpc.reboot("i-1", DryRun=dry_run, ForceStop="true")
    assert (r.status, r.code, r.message) == (
        SPEC.dryrun.http_status,
        SPEC.dryrun.code,
        SPEC.dryrun.message,
    )
    assert_envelope(r, ResponseFormat.JSON)
    view = control.view("i-1")
    assert (view["Status"], view["RebootCount"], view["LastForceStop"]) == (RUNNING, 0, None)


def test_a_second_reboot_while_starting_is_refused(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING)
    assert_success(rpc.reboot("i-1"))
    assert_error(rpc.reboot("i-1"), SPEC.conditions["status_not_running"])


# -- transport variants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "where"), [("GET", "query"), ("POST", "query"), ("POST", "form")]
)
@pytest.mark.parametrize("fmt", ["JSON", "XML", "json", "xml", None])
def test_methods_placements_and_formats(
    control: Any, rpc: Any, method: str, where: str, fmt: str | None
) -> None:
    expected = FORMATS[(fmt or SPEC.profile.formats.default_v2).upper()]
    control.put("i-1", Status=RUNNING)
    r = rpc.reboot("i-1", DryRun="true", method=method, where=where, fmt=fmt)
    assert r.code == SPEC.dryrun.code
    assert_envelope(r, expected)
    assert_success(rpc.reboot("i-1", method=method, where=where, fmt=fmt), expected)
    assert_error(
        rpc.reboot("i-unknown", method=method, where=where, fmt=fmt),
        SPEC.conditions["not_found"],
        expected,
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_v3_signed_requests_answer_json(control: Any, rpc: Any, method: str) -> None:
    control.put("i-1", Status=RUNNING)
    r = rpc.reboot("i-1", DryRun="true", signature="v3", method=method)
    assert r.code == SPEC.dryrun.code
    assert_envelope(r, ResponseFormat.JSON)
    assert_success(rpc.reboot("i-1", signature="v3", method=method))
    assert_error(rpc.reboot("i-2", signature="v3"), SPEC.conditions["not_found"])


def test_tolerated_and_unknown_parameters_are_ignored(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING)
    hidden = SPEC.profile.hidden_parameters
    assert hidden is not None
    extra = {n: "" for n in SPEC.profile.tolerated_parameters.names}
    extra.update({n: "1" for n in hidden.names}, Whatever="x")
    assert_success(rpc.call({"InstanceId": "i-1", **extra}))


# -- gateway and parameter errors ------------------------------------------------------------


def assert_gateway(r: WireResponse, situation: str, **fields: str) -> None:
    variant = SPEC.gateway_error(situation, **fields)
    assert (r.status, r.code, r.message) == (
        variant.http_status,
        variant.code,
        variant.emulator_message,
    )
    assert_envelope(r, ResponseFormat.JSON)


def test_an_unknown_action_is_invalid_action_not_found(rpc: Any) -> None:
    r = rpc.call({"InstanceId": "i-1"}, action="StopInstance")
    assert_gateway(r, "action_not_found")


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_instance_id_is_the_gateway_missing_parameter(
    rpc: Any, value: str | None
) -> None:
    params = {} if value is None else {"InstanceId": value}
    assert_gateway(rpc.call(params), "missing_parameter", Name="InstanceId")
    assert_gateway(rpc.call({**params, "DryRun": "true"}), "missing_parameter", Name="InstanceId")


@pytest.mark.parametrize("name", [p.name for p in SPEC.boolean_parameters])
@pytest.mark.parametrize("value", ["maybe", "1", "0", "yes", "", "true ", "tru"])
def test_a_malformed_boolean_is_invalid_parameter(
    control: Any, rpc: Any, name: str, value: str
) -> None:
    control.put("i-1", Status=RUNNING)
    assert_gateway(rpc.call({"InstanceId": "i-1", name: value}), "invalid_parameter", Name=name)
    assert control.view("i-1")["RebootCount"] == 0


def test_a_wrong_signature_and_a_replayed_nonce_are_refused(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING)
    r = rpc.reboot("i-1", tamper=True)
    assert r.code == SPEC.gateway_error("signature_mismatch").code
    assert_envelope(r, ResponseFormat.JSON)
    nonce = "b" * 32
    assert_success(rpc.reboot("i-1", nonce=nonce))
    assert_gateway(rpc.reboot("i-1", nonce=nonce), "nonce_used")
    assert control.view("i-1")["RebootCount"] == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_a_4xx_envelope(
    emulator: EmbeddedEmulator, client: httpx.Client, method: str
) -> None:
    r = client.request(method, emulator.url + "?Format=JSON")
    w = parse_response(r.status_code, r.headers, r.content)
    variant = SPEC.gateway_error("unsupported_method")
    assert 400 <= r.status_code < 500
    assert (w.status, w.code, w.message) == (
        variant.http_status,
        variant.code,
        variant.emulator_message,
    )
    assert_envelope(w, ResponseFormat.JSON)


def test_an_oversized_body_is_a_4xx_envelope(
    emulator: EmbeddedEmulator, client: httpx.Client
) -> None:
    r = client.post(
        emulator.url,
        content=b"a=" + b"x" * (2 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    w = parse_response(r.status_code, r.headers, r.content)
    assert 400 <= w.status < 500
    assert w.code == SPEC.gateway_error("bad_request").code
    assert_envelope(w, FORMATS[SPEC.profile.formats.default_v2])


def test_another_path_is_a_404_envelope(emulator: EmbeddedEmulator, client: httpx.Client) -> None:
    r = client.get(emulator.url + "elsewhere?Format=json")
    w = parse_response(r.status_code, r.headers, r.content)
    assert w.code == SPEC.gateway_error("action_not_found").code
    assert_envelope(w, ResponseFormat.JSON)


def test_an_unexpected_exception_is_an_internal_error_without_a_trace(
    emulator: EmbeddedEmulator, rpc: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def boom(*args: Any) -> Any:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(emulator.app.state.operations, "handle", boom)
    with caplog.at_level(logging.ERROR, logger="conformance.emulator"):
        r = rpc.reboot("i-1")
    assert_error(r, SPEC.conditions["injected_fault"])
    assert b"secret-internal-detail" not in r.body and b"Traceback" not in r.body
    assert any(
        "secret-internal-detail" in rec.getMessage() or rec.exc_info for rec in caplog.records
    )


def test_every_error_has_a_fresh_request_id(rpc: Any) -> None:
    ids = {rpc.reboot("i-none").request_id for _ in range(5)}
    assert len(ids) == 5


# -- DescribeInstances -----------------------------------------------------------------------


def test_describe_instances_json(control: Any, rpc: Any, arrange: Any) -> None:
    lock = arrange.lock_reason("lock_security")
    control.put("i-1", Status=RUNNING, OperationLocks=[lock])
    control.put("i-2", Status="Stopped")
    r = rpc.call(
        {"RegionId": "cn-hangzhou", "InstanceIds": json.dumps(["i-1", "i-2", "i-3"])},
        action="DescribeInstances",
    )
    assert r.status == 200
    data = r.data
    assert data is not None
    assert (data["TotalCount"], data["PageNumber"], data["PageSize"]) == (2, 1, 10)
    assert data["Instances"]["Instance"] == [
        {
            "InstanceId": "i-1",
            "Status": RUNNING,
            "OperationLocks": {"LockReason": [{"LockReason": lock}]},
        },
        {"InstanceId": "i-2", "Status": "Stopped", "OperationLocks": {"LockReason": []}},
    ]


def test_describe_instances_xml(control: Any, rpc: Any, arrange: Any) -> None:
    lock = arrange.lock_reason("lock_financial")
    control.put("i-1", Status=RUNNING, OperationLocks=[lock])
    r = rpc.call({"InstanceIds": '["i-1"]'}, action="DescribeInstances", fmt="XML")
    assert r.status == 200 and r.format is ResponseFormat.XML
    assert r.xml_root == "DescribeInstancesResponse"
    instance = r.data["Instances"]["Instance"]  # type: ignore[index]
    assert instance["InstanceId"] == "i-1"
    assert instance["OperationLocks"]["LockReason"]["LockReason"] == lock


def test_describe_instances_pages(control: Any, rpc: Any) -> None:
    for n in range(12):
        control.put(f"i-{n:02d}", Status=RUNNING)
    r = rpc.call({"PageNumber": "2", "PageSize": "5"}, action="DescribeInstances")
    data = r.data
    assert (data["TotalCount"], data["PageNumber"], data["PageSize"]) == (12, 2, 5)  # type: ignore[index]
    ids = [i["InstanceId"] for i in data["Instances"]["Instance"]]  # type: ignore[index]
    assert ids == [f"i-{n:02d}" for n in range(5, 10)]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("InstanceIds", "i-1"),
        ("InstanceIds", "[1]"),
        ("InstanceIds", '{"a": 1}'),
        ("PageSize", "101"),
        ("PageSize", "0"),
        ("PageNumber", "-1"),
        ("PageNumber", "x"),
    ],
)
def test_describe_instances_refuses_malformed_parameters(rpc: Any, name: str, value: str) -> None:
    assert_gateway(
        rpc.call({name: value}, action="DescribeInstances"), "invalid_parameter", Name=name
    )


# -- logging ---------------------------------------------------------------------------------


def test_one_log_line_per_request_when_enabled(make_caller: Any, caplog: Any) -> None:
    with EmbeddedEmulator(EmulatorSettings(log_requests=True), spec=SPEC) as emu:
        caller = make_caller(emu)
        with caplog.at_level(logging.INFO, logger="conformance.emulator"):
            caller.reboot("i-logged")
    lines = [r.getMessage() for r in caplog.records if r.name == "conformance.emulator"]
    assert len(lines) == 1
    line = lines[0]
    code = SPEC.conditions["not_found"]
    for part in ("GET", SPEC.action, "i-logged", code, str(SPEC.error_status(code)), "ms"):
        assert part in line


def test_no_log_line_by_default(rpc: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="conformance.emulator"):
        rpc.reboot("i-quiet")
    assert not [r for r in caplog.records if r.name == "conformance.emulator"]
