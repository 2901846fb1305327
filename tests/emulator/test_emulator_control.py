"""The test-control API contract (docs/contracts.md#test-control), row by row, over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.spec import load_spec

SPEC = load_spec()
LIFE = SPEC.lifecycle
RUNNING = SPEC.precondition_status
VIEW_FIELDS = {
    "InstanceId",
    "Status",
    "OperationLocks",
    "DiskStatus",
    "KmsKeyAccessible",
    "RebootCount",
    "LastForceStop",
}
FAULT_CODES = [
    *dict.fromkeys(r.code for r in SPEC.errors if r.http_status >= 500),
    *SPEC.profile.injectable_fault_codes,
]


def assert_control_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"Code", "Message"}
    assert body["Code"] and body["Message"]


# -- PUT / GET ---------------------------------------------------------------------------------


def test_put_answers_the_view_with_defaults(control: Any) -> None:
    r = control.put("i-1", Status=RUNNING)
    assert r.status_code == 200
    assert r.json() == {
        "InstanceId": "i-1",
        "Status": RUNNING,
        "OperationLocks": [],
        "DiskStatus": LIFE.disk_ok_status,
        "KmsKeyAccessible": True,
        "RebootCount": 0,
        "LastForceStop": None,
    }
    assert control.view("i-1") == r.json()


@pytest.mark.parametrize("status", LIFE.statuses)
def test_every_status_can_be_arranged(control: Any, status: str) -> None:
    body = {"Status": status, "OperationLocks": ["security", "x"], "DiskStatus": "Creating"}
    r = control.put("i-1", **body, KmsKeyAccessible=False)
    assert r.status_code == 200
    view = control.view("i-1")
    assert set(view) == VIEW_FIELDS
    assert (view["Status"], view["OperationLocks"], view["DiskStatus"]) == (
        status,
        ["security", "x"],
        "Creating",
    )
    assert view["KmsKeyAccessible"] is False


def test_get_of_an_unknown_instance_is_404(control: Any) -> None:
    assert_control_error(control.get("i-nobody"), 404)


def test_put_replaces_whole_and_counters_start_again(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING, OperationLocks=["financial"])
    control.put("i-1", Status=RUNNING)
    assert rpc.reboot("i-1", ForceStop="true").status == 200
    view = control.view("i-1")
    assert (view["RebootCount"], view["LastForceStop"]) == (1, True)
    control.put("i-1", Status=RUNNING)
    view = control.view("i-1")
    assert (view["RebootCount"], view["LastForceStop"], view["OperationLocks"]) == (0, None, [])


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"{}",
        b'{"Status": "Rebooting"}',
        b'{"Status": 1}',
        b'{"Status": "Running", "OperationLocks": "security"}',
        b'{"Status": "Running", "OperationLocks": [1]}',
        b'{"Status": "Running", "KmsKeyAccessible": "false"}',
        b'{"Status": "Running", "DiskStatus": 3}',
        b'{"Status": "Running", "Bogus": 1}',
        b'{"Status": "Running", "InstanceId": "i-other"}',
    ],
)
def test_an_invalid_body_is_400_with_code_and_message(
    emulator: EmbeddedEmulator, client: httpx.Client, control: Any, body: bytes
) -> None:
    r = client.put(f"{emulator.control_url}/instances/i-1", content=body)
    assert_control_error(r, 400)
    assert_control_error(control.get("i-1"), 404)


def test_a_view_can_be_put_back(control: Any) -> None:
    view = control.put("i-1", Status=RUNNING, OperationLocks=["security"]).json()
    assert control.put("i-1", **view).status_code == 200


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("i-a%2Fb", "i-a/b"), ("i-%20sp%C3%A9", "i- spé"), ("i-plus+", "i-plus+"), ("i-%25", "i-%")],
)
def test_ids_in_the_path_are_percent_decoded(
    emulator: EmbeddedEmulator, client: httpx.Client, control: Any, rpc: Any, raw: str, decoded: str
) -> None:
    url = f"{emulator.control_url}/instances/{raw}"
    r = client.put(url, json={"Status": RUNNING})
    assert r.status_code == 200
    assert r.json()["InstanceId"] == decoded
    assert client.get(url).json()["InstanceId"] == decoded
    assert rpc.reboot(decoded).status == 200
    assert client.post(f"{url}/settle").json()["RebootCount"] == 1


# -- settle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", LIFE.statuses)
def test_settle_moves_a_transient_status_to_its_resting_one(control: Any, status: str) -> None:
    control.put("i-1", Status=status)
    r = control.settle("i-1")
    assert r.status_code == 200
    assert r.json()["Status"] == LIFE.settle.get(status, status)
    assert control.view("i-1")["Status"] == LIFE.settle.get(status, status)


def test_settle_of_an_unknown_instance_is_404(control: Any) -> None:
    assert_control_error(control.settle("i-nobody"), 404)


@pytest.mark.parametrize("status", LIFE.statuses)
def test_an_arranged_status_never_changes_by_itself(control: Any, clock: Any, status: str) -> None:
    control.put("i-1", Status=status)
    clock.advance(60)
    assert control.view("i-1")["Status"] == status


def test_a_reboot_settles_by_the_emulator_clock(control: Any, rpc: Any, clock: Any) -> None:
    control.put("i-1", Status=RUNNING)
    assert rpc.reboot("i-1").status == 200
    assert control.view("i-1")["Status"] == SPEC.resulting_status
    clock.advance(1)
    assert control.view("i-1")["Status"] == SPEC.resulting_status
    clock.advance(10)
    assert control.view("i-1")["Status"] == SPEC.settled_status


def test_settle_finishes_a_reboot_at_once(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING)
    rpc.reboot("i-1")
    assert control.settle("i-1").json()["Status"] == SPEC.settled_status


# -- faults ------------------------------------------------------------------------------------


def expected_fault(code: str) -> tuple[int, str]:
    try:
        return SPEC.error_status(code), SPEC.error_message(code)
    except KeyError:
        variant = next(v for vs in SPEC.gateway_errors.values() for v in vs if v.code == code)
        return variant.http_status, variant.emulator_message


@pytest.mark.parametrize("code", FAULT_CODES)
def test_a_fault_answers_the_documented_error_whatever_the_state(
    control: Any, rpc: Any, code: str
) -> None:
    control.put("i-1", Status=RUNNING)
    r = control.fault(Action=SPEC.action, Code=code, Count=1)
    assert r.status_code == 204
    assert r.content == b""
    answer = rpc.reboot("i-1")
    status, message = expected_fault(code)
    assert (answer.status, answer.code, answer.message) == (status, code, message)
    assert control.view("i-1")["RebootCount"] == 0
    assert rpc.reboot("i-1").status == 200


def test_faults_count_add_up_and_dry_run_consumes_them(control: Any, rpc: Any) -> None:
    first, second = FAULT_CODES[0], FAULT_CODES[-1]
    control.fault(Action=SPEC.action, Code=first, Count=2)
    control.fault(Action=SPEC.action, Code=second)
    codes = [rpc.reboot("i-x", DryRun="true").code for _ in range(3)]
    assert codes == [first, first, second]
    # the next call reaches the state check again
    assert rpc.reboot("i-x", DryRun="true").code == SPEC.conditions["not_found"]


def test_a_fault_applies_before_parameter_checks(control: Any, rpc: Any) -> None:
    control.fault(Action=SPEC.action, Code=FAULT_CODES[0])
    assert rpc.reboot(None, DryRun="maybe").code == FAULT_CODES[0]


def test_a_fault_is_per_action(control: Any, rpc: Any) -> None:
    control.fault(Action="DescribeInstances", Code=FAULT_CODES[0])
    assert rpc.reboot("i-x").code == SPEC.conditions["not_found"]
    assert rpc.call({}, action="DescribeInstances").code == FAULT_CODES[0]


@pytest.mark.parametrize(
    "body",
    [
        {"Code": FAULT_CODES[0]},
        {"Action": "StopInstance", "Code": FAULT_CODES[0]},
        {"Action": SPEC.action},
        {"Action": SPEC.action, "Code": SPEC.conditions["status_not_running"]},
        {"Action": SPEC.action, "Code": "NoSuchCode"},
        {"Action": SPEC.action, "Code": FAULT_CODES[0], "Count": 0},
        {"Action": SPEC.action, "Code": FAULT_CODES[0], "Count": "2"},
        {"Action": SPEC.action, "Code": FAULT_CODES[0], "Count": True},
        {"Action": SPEC.action, "Code": FAULT_CODES[0], "Extra": 1},
        ["not", "an", "object"],
    ],
)
def test_an_invalid_fault_is_400(
    emulator: EmbeddedEmulator, client: httpx.Client, control: Any, rpc: Any, body: Any
) -> None:
    assert_control_error(client.post(f"{emulator.control_url}/faults", json=body), 400)
    assert rpc.reboot("i-x").code == SPEC.conditions["not_found"]


# -- reset -------------------------------------------------------------------------------------


def test_delete_state_forgets_instances_faults_and_nonces(control: Any, rpc: Any) -> None:
    control.put("i-1", Status=RUNNING)
    control.fault(Action=SPEC.action, Code=FAULT_CODES[0])
    nonce = "a" * 32
    assert rpc.call({"InstanceId": "i-9"}, nonce=nonce).code == FAULT_CODES[0]
    assert (
        rpc.call({"InstanceId": "i-9"}, nonce=nonce).code == SPEC.gateway_error("nonce_used").code
    )
    control.fault(Action=SPEC.action, Code=FAULT_CODES[0])
    r = control.reset()
    assert (r.status_code, r.content) == (204, b"")
    assert_control_error(control.get("i-1"), 404)
    again = rpc.call({"InstanceId": "i-9"}, nonce=nonce)
    assert again.code == SPEC.conditions["not_found"]


# -- routing, methods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/instances/i-1"),
        ("GET", "/faults"),
        ("GET", "/state"),
        ("GET", "/instances/i-1/settle"),
    ],
)
def test_a_wrong_method_is_a_json_control_error(
    emulator: EmbeddedEmulator, client: httpx.Client, control: Any, method: str, path: str
) -> None:
    assert_control_error(client.request(method, emulator.control_url + path), 405)


def test_an_unknown_control_path_is_a_json_404(
    emulator: EmbeddedEmulator, client: httpx.Client, control: Any
) -> None:
    assert_control_error(client.get(f"{emulator.control_url}/nothing/here"), 404)


# -- token and absence -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded() -> Any:
    with EmbeddedEmulator(EmulatorSettings(control_token="s3cret"), spec=SPEC) as emu:
        yield emu


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", "s3cret", "Basic s3cret", "Bearer s3cre", "Bearer s3cret2"]
)
def test_a_control_token_is_required_when_set(
    guarded: Any, client: httpx.Client, header: str | None
) -> None:
    headers = {"authorization": header} if header is not None else {}
    for method, path in [
        ("PUT", "/instances/i-1"),
        ("GET", "/instances/i-1"),
        ("DELETE", "/state"),
    ]:
        r = client.request(
            method, guarded.control_url + path, json={"Status": RUNNING}, headers=headers
        )
        assert_control_error(r, 401)
    assert guarded.world.get("i-1") is None


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_right_token_is_accepted(guarded: Any, scheme: str) -> None:
    headers = {"authorization": f"{scheme} s3cret"}
    r = httpx.put(f"{guarded.control_url}/instances/i-1", json={"Status": RUNNING}, headers=headers)
    assert r.status_code == 200
    assert httpx.delete(f"{guarded.control_url}/state", headers=headers).status_code == 204


def test_the_control_api_is_absent_when_disabled() -> None:
    with EmbeddedEmulator(EmulatorSettings(control=False), spec=SPEC) as emu:
        r = httpx.put(f"{emu.control_url}/instances/i-1", json={"Status": RUNNING})
        assert r.status_code == 404
        # the RPC side's unknown-api envelope
        assert SPEC.profile.envelopes.request_id_header in r.headers
        assert emu.world.get("i-1") is None
