"""The reference emulator driven by the REAL official Python SDKs over loopback.

Clients (docs/protocol.md#official-sdks): the old SDK (aliyun-python-sdk-core +
aliyun-python-sdk-ecs, signature V2, POST by default and GET on request) and the new SDK
(alibabacloud-ecs20140526, signature V3 by default and V2 with `signature_algorithm="v2"`). For
every mode: a reboot, a passing DryRun, every documented error code with its arranged condition
(docs/contracts.md#test-control), and DescribeInstances. Every expected code, status and message
comes from `load_spec()`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.spec import load_spec
from conformance.spec.model import Spec

aliyunsdkcore = pytest.importorskip("aliyunsdkcore", reason="aliyun-python-sdk-core missing")
pytest.importorskip("aliyunsdkecs", reason="aliyun-python-sdk-ecs missing")
pytest.importorskip("alibabacloud_ecs20140526", reason="alibabacloud-ecs20140526 missing")

from alibabacloud_ecs20140526 import models as ecs_models  # noqa: E402
from alibabacloud_ecs20140526.client import Client as NewClient  # noqa: E402
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException  # noqa: E402
from alibabacloud_tea_openapi.models import Config as NewConfig  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from aliyunsdkcore.client import AcsClient  # noqa: E402
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import (  # noqa: E402
    DescribeInstancesRequest as OldDescribeInstancesRequest,
)
from aliyunsdkecs.request.v20140526.RebootInstanceRequest import (  # noqa: E402
    RebootInstanceRequest as OldRebootInstanceRequest,
)

REGION = "cn-hangzhou"
TIMEOUT_S = 5
EMULATOR_LOGGER = "conformance.emulator"

# The SDK modes under test. `old-*`: aliyun-python-sdk-core; `new-*`: alibabacloud-ecs20140526.
MODES = ("old-post", "old-get", "new-v3", "new-v2")
# The HTTP method each mode is known to use (docs/protocol.md#transport), checked from the emulator
# log.
MODE_METHOD = {"old-post": "POST", "old-get": "GET", "new-v3": "POST", "new-v2": "POST"}


@dataclass(frozen=True)
class Outcome:
    """What an SDK call surfaced: success with a body, or an error's fields."""

    ok: bool
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    body: dict[str, Any] | None = None


class SdkDriver:
    """One official SDK in one mode, pointed at the emulator (docs/protocol.md#official-sdks)."""

    def __init__(self, mode: str, endpoint: str, access_key_id: str, secret: str) -> None:
        self.mode = mode
        self.endpoint = endpoint
        if mode.startswith("old-"):
            # retries off and short timeouts: one request per call (docs/protocol.md#official-sdks)
            self.old = AcsClient(
                access_key_id,
                secret,
                REGION,
                auto_retry=False,
                max_retry_time=0,
                timeout=TIMEOUT_S,
                connect_timeout=TIMEOUT_S,
            )
        else:
            config = NewConfig(
                access_key_id=access_key_id,
                access_key_secret=secret,
                region_id=REGION,
                endpoint=endpoint,
                protocol="http",
                read_timeout=TIMEOUT_S * 1000,
                connect_timeout=TIMEOUT_S * 1000,
            )
            if mode == "new-v2":
                config.signature_algorithm = "v2"
            self.new = NewClient(config)

    # -- old SDK -------------------------------------------------------------------------------
    def _old_prepare(self, request: Any) -> Any:
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        if self.mode == "old-get":
            request.set_method("GET")
        return request

    def _old_call(self, request: Any) -> Outcome:
        try:
            raw = self.old.do_action_with_exception(self._old_prepare(request))
        except ServerException as exc:
            return Outcome(
                ok=False,
                code=exc.error_code,
                message=exc.message,
                request_id=exc.request_id,
                http_status=exc.http_status,
            )
        return Outcome(ok=True, body=json.loads(raw))

    # -- new SDK -------------------------------------------------------------------------------
    @staticmethod
    def _new_error(exc: AlibabaCloudException) -> Outcome:
        data = exc.data if isinstance(exc.data, dict) else {}
        status = exc.status_code if exc.status_code is not None else data.get("statusCode")
        return Outcome(
            ok=False,
            code=exc.code,
            # `.message` is a composite string (docs/protocol.md#official-sdks)
            message=data.get("Message"),
            request_id=exc.request_id or data.get("RequestId"),
            http_status=status,
        )

    def _new_call(self, call: Callable[[], Any]) -> Outcome:
        try:
            response = call()
        except AlibabaCloudException as exc:
            return self._new_error(exc)
        return Outcome(ok=True, body=response.body.to_map(), http_status=response.status_code)

    # -- operations ----------------------------------------------------------------------------
    def reboot(self, instance_id: str, *, force_stop: bool | None, dry_run: bool | None) -> Outcome:
        """RebootInstance through the SDK; flags left as None are not sent."""
        if self.mode.startswith("old-"):
            request = OldRebootInstanceRequest()
            request.set_InstanceId(instance_id)
            if force_stop is not None:
                request.set_ForceStop(force_stop)
            if dry_run is not None:
                request.set_DryRun(dry_run)
            return self._old_call(request)
        new_request = ecs_models.RebootInstanceRequest(
            instance_id=instance_id, force_stop=force_stop, dry_run=dry_run
        )
        return self._new_call(lambda: self.new.reboot_instance(new_request))

    def describe(self, instance_ids: list[str]) -> Outcome:
        """DescribeInstances with `InstanceIds` as a JSON array in one string
        (docs/protocol.md#observing-instances)."""
        ids = json.dumps(instance_ids)
        if self.mode.startswith("old-"):
            request = OldDescribeInstancesRequest()
            request.set_InstanceIds(ids)
            return self._old_call(request)
        new_request = ecs_models.DescribeInstancesRequest(region_id=REGION, instance_ids=ids)
        return self._new_call(lambda: self.new.describe_instances(new_request))


class Control:
    """The test-control API (docs/contracts.md#test-control) over HTTP."""

    def __init__(self, base: str, client: httpx.Client) -> None:
        self.base = base
        self.client = client

    def put(self, instance_id: str, **body: Any) -> dict[str, Any]:
        r = self.client.put(f"{self.base}/instances/{instance_id}", json=body)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def view(self, instance_id: str) -> dict[str, Any]:
        r = self.client.get(f"{self.base}/instances/{instance_id}")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def exists(self, instance_id: str) -> bool:
        return self.client.get(f"{self.base}/instances/{instance_id}").status_code == 200

    def settle(self, instance_id: str) -> dict[str, Any]:
        r = self.client.post(f"{self.base}/instances/{instance_id}/settle")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def fault(self, action: str, code: str, count: int = 1) -> None:
        r = self.client.post(
            f"{self.base}/faults", json={"Action": action, "Code": code, "Count": count}
        )
        assert r.status_code == 204, r.text

    def reset(self) -> None:
        assert self.client.delete(f"{self.base}/state").status_code == 204


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def sdk_emulator(spec: Spec) -> Iterator[EmbeddedEmulator]:
    # log_requests: the emulator's own per-request line tells which HTTP method arrived.
    # A long reboot transition: an instance stays in the resulting status during a test.
    settings = EmulatorSettings(reboot_seconds=600.0, log_requests=True)
    with EmbeddedEmulator(settings, spec=spec) as emu:
        yield emu


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT_S) as client:
        yield client


@pytest.fixture
def ctl(sdk_emulator: EmbeddedEmulator, http: httpx.Client) -> Control:
    control = Control(sdk_emulator.control_url, http)
    control.reset()
    return control


@pytest.fixture(params=MODES)
def sdk(request: pytest.FixtureRequest, sdk_emulator: EmbeddedEmulator) -> SdkDriver:
    cred = sdk_emulator.settings.credentials[0]
    return SdkDriver(
        request.param, sdk_emulator.endpoint, cred.access_key_id, cred.access_key_secret
    )


# -- arranging the document's conditions (docs/contracts.md#test-control) --------------------------


def _lock_reason(spec: Spec, code: str) -> str:
    return next(reason for reason, c in spec.lock_errors.items() if c == code)


def _arrange(spec: Spec, ctl: Control, instance_id: str, condition: str) -> None:
    """Put `instance_id` into the state that provokes `condition` (the profile's name)."""
    running = spec.precondition_status
    life = spec.lifecycle
    code = spec.conditions[condition]
    if condition == "not_found":
        return  # the instance is simply not there
    if condition == "status_not_running":
        ctl.put(instance_id, Status=next(s for s in life.statuses if s != running))
    elif condition in ("lock_security", "lock_financial"):
        ctl.put(instance_id, Status=running, OperationLocks=[_lock_reason(spec, code)])
    elif condition == "disk_not_ready":
        ctl.put(instance_id, Status=running, DiskStatus=life.disk_ok_status + "Not")
    elif condition == "kms_unauthorized":
        ctl.put(instance_id, Status=running, KmsKeyAccessible=False)
    elif condition == "injected_fault":
        ctl.put(instance_id, Status=running)
        ctl.fault(spec.action, code)
    else:  # a condition this test does not know how to arrange: fail loudly
        raise AssertionError(f"no arrangement for condition {condition!r}")


CONDITIONS = (
    "not_found",
    "status_not_running",
    "lock_security",
    "lock_financial",
    "disk_not_ready",
    "kms_unauthorized",
    "injected_fault",
)


def _methods_seen(caplog: pytest.LogCaptureFixture, expected: int = 1) -> list[str]:
    """The HTTP methods of the emulator's request log lines (method first, app.py).

    The emulator logs after it has sent the response, so wait briefly for the line.
    """
    deadline = time.monotonic() + 2.0
    while True:
        methods = [
            str(r.args[0])
            for r in caplog.records
            if r.name == EMULATOR_LOGGER and isinstance(r.args, tuple) and r.args
        ]
        if len(methods) >= expected or time.monotonic() > deadline:
            return methods
        time.sleep(0.01)


def _assert_error(outcome: Outcome, spec: Spec, code: str) -> None:
    assert not outcome.ok, f"the SDK reported success where {code} was expected"
    assert outcome.code == code
    assert outcome.http_status == spec.error_status(code)
    assert outcome.message == spec.error_message(code)
    assert spec.error_matches(code, outcome.http_status, outcome.message)
    assert outcome.request_id, "the SDK surfaced no request id"


# -- tests -----------------------------------------------------------------------------------


def test_every_documented_code_has_an_arrangement(spec: Spec) -> None:
    """The conditions arranged below cover the document's whole error table."""
    assert set(spec.conditions) == set(CONDITIONS)
    assert set(spec.conditions.values()) == set(spec.error_codes)


@pytest.mark.parametrize("force_stop", [True, False])
def test_reboot(
    sdk: SdkDriver,
    ctl: Control,
    spec: Spec,
    force_stop: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctl.put("i-sdk-reboot", Status=spec.precondition_status)
    with caplog.at_level(logging.INFO, logger=EMULATOR_LOGGER):
        outcome = sdk.reboot("i-sdk-reboot", force_stop=force_stop, dry_run=False)
    assert outcome.ok, outcome
    assert outcome.body is not None and outcome.body.get("RequestId")
    assert _methods_seen(caplog) == [MODE_METHOD[sdk.mode]]
    view = ctl.view("i-sdk-reboot")
    assert view["Status"] == spec.resulting_status
    assert view["RebootCount"] == 1
    assert view["LastForceStop"] is force_stop
    assert ctl.settle("i-sdk-reboot")["Status"] == spec.settled_status


def test_reboot_without_force_stop_uses_the_default(
    sdk: SdkDriver, ctl: Control, spec: Spec
) -> None:
    ctl.put("i-sdk-default", Status=spec.precondition_status)
    outcome = sdk.reboot("i-sdk-default", force_stop=None, dry_run=None)
    assert outcome.ok, outcome
    default = spec.parameter("ForceStop").default
    assert default is not None
    view = ctl.view("i-sdk-default")
    assert view["RebootCount"] == 1
    assert view["LastForceStop"] is (default.lower() == "true")


def test_dry_run(sdk: SdkDriver, ctl: Control, spec: Spec) -> None:
    before = ctl.put("i-sdk-dry", Status=spec.precondition_status)
    outcome = sdk.reboot("i-sdk-dry", force_stop=True, dry_run=True)
    assert not outcome.ok, "every official client raises DryRunOperation (docs/protocol.md#dryrun)"
    assert outcome.code == spec.dryrun.code
    assert outcome.http_status == spec.dryrun.http_status
    assert outcome.message == spec.dryrun.message
    assert outcome.request_id
    assert ctl.view("i-sdk-dry") == before  # nothing changed


def test_request_ids_are_fresh(sdk: SdkDriver, ctl: Control, spec: Spec) -> None:
    ctl.put("i-sdk-ids", Status=spec.precondition_status)
    first = sdk.reboot("i-sdk-ids", force_stop=False, dry_run=True)
    second = sdk.reboot("i-sdk-ids", force_stop=False, dry_run=True)
    assert first.request_id and second.request_id
    assert first.request_id != second.request_id


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dryrun"])
@pytest.mark.parametrize("condition", CONDITIONS)
def test_documented_error(
    sdk: SdkDriver, ctl: Control, spec: Spec, condition: str, dry_run: bool
) -> None:
    """Each documented code surfaces through the SDK with its status, message and request id;
    a DryRun answers the failing check's own error (docs/protocol.md#dryrun)."""
    instance = f"i-sdk-{condition.replace('_', '-')}"
    _arrange(spec, ctl, instance, condition)
    before = ctl.view(instance) if ctl.exists(instance) else None
    outcome = sdk.reboot(instance, force_stop=False, dry_run=dry_run)
    _assert_error(outcome, spec, spec.conditions[condition])
    if before is None:
        assert not ctl.exists(instance)
    else:
        assert ctl.view(instance) == before  # a refused reboot changes nothing


def test_injected_fault_is_consumed_once(sdk: SdkDriver, ctl: Control, spec: Spec) -> None:
    """No official client retries by default (docs/protocol.md#official-sdks): one fault, one failed
    call, then success."""
    code = spec.conditions["injected_fault"]
    ctl.put("i-sdk-fault", Status=spec.precondition_status)
    ctl.fault(spec.action, code, count=1)
    _assert_error(sdk.reboot("i-sdk-fault", force_stop=False, dry_run=False), spec, code)
    assert ctl.view("i-sdk-fault")["RebootCount"] == 0
    assert sdk.reboot("i-sdk-fault", force_stop=False, dry_run=False).ok
    assert ctl.view("i-sdk-fault")["RebootCount"] == 1


def test_describe_instances_sees_the_status(sdk: SdkDriver, ctl: Control, spec: Spec) -> None:
    ctl.put("i-sdk-seen", Status=spec.precondition_status)
    lock = next(iter(spec.lock_errors))
    ctl.put("i-sdk-locked", Status=spec.precondition_status, OperationLocks=[lock])

    def described(instance_id: str) -> dict[str, Any]:
        outcome = sdk.describe([instance_id])
        assert outcome.ok, outcome
        assert outcome.body is not None
        instances = outcome.body["Instances"]["Instance"]
        assert [i["InstanceId"] for i in instances] == [instance_id]
        found: dict[str, Any] = instances[0]
        return found

    assert described("i-sdk-seen")["Status"] == spec.precondition_status
    assert sdk.reboot("i-sdk-seen", force_stop=False, dry_run=False).ok
    assert described("i-sdk-seen")["Status"] == spec.resulting_status
    ctl.settle("i-sdk-seen")
    assert described("i-sdk-seen")["Status"] == spec.settled_status
    locked = described("i-sdk-locked")
    assert locked["OperationLocks"]["LockReason"] == [{"LockReason": lock}]
