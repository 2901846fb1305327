"""HttpServerTarget, SafetyGuard and the provisioners, against a real loopback emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.config import Credentials, EmulatorSettings
from conformance.emulator import EmbeddedEmulator
from conformance.errors import ConfigError
from conformance.limits import StoppedAnswering
from conformance.spec import load_spec
from conformance.targets import (
    Condition,
    ControlProvisioner,
    FixturesProvisioner,
    HttpServerTarget,
    SafetyGuard,
    Unsupported,
)
from conformance.targets.http import DestructiveCallRefused, corrupt_signature
from conformance.targets.provisioners import not_found_instance_id

SECRET = "a-secret-that-must-not-leak"
CREDS = Credentials("testid", SECRET)
SPEC = load_spec()
VERSION = SPEC.version
LIFE = SPEC.lifecycle


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmbeddedEmulator]:
    settings = EmulatorSettings(credentials=(CREDS,), reboot_seconds=86400.0)
    with EmbeddedEmulator(settings) as emu:
        yield emu


@pytest.fixture
def target(emulator: EmbeddedEmulator) -> Iterator[HttpServerTarget]:
    t = HttpServerTarget(
        emulator.url,
        CREDS,
        2.0,
        version=VERSION,
        request_id_header=SPEC.profile.envelopes.request_id_header,
    )
    yield t
    t.close()


@pytest.fixture
def control(emulator: EmbeddedEmulator) -> ControlProvisioner:
    return ControlProvisioner(emulator.control_url)


@pytest.mark.parametrize("signature", ["v2", "v3"])
@pytest.mark.parametrize(
    ("method", "placement"),
    [("GET", "query"), ("POST", "query"), ("POST", "form"), ("POST", "split")],
)
def test_every_shape_reaches_the_operation(target, control, signature, method, placement) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec()
    iid = control.arrange(Condition("Running"), "i-conformance-odd id+/é")
    ex = target.call(
        spec.action,
        {"InstanceId": iid, "DryRun": "true"},
        signature=signature,
        method=method,
        placement=placement,
    )
    assert ex.error is None and ex.code == spec.dryrun.code, ex.describe()
    assert SECRET not in ex.describe() and SECRET not in ex.curl()


def test_tampered_signature_is_sent_as_tampered(target) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec()
    ex = target.call(spec.action, {"InstanceId": "i-x", "DryRun": "true"}, tamper=corrupt_signature)
    assert ex.code == spec.gateway_error("signature_mismatch").code


def test_transport_errors_are_data_and_trip_the_breaker() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = HttpServerTarget(f"http://127.0.0.1:{port}", CREDS, 0.5, version=VERSION)
    first = t.call("RebootInstance", {"InstanceId": "i-x"})
    assert first.response is None and "refused" in (first.error or "")
    for _ in range(3):
        last = t.call("RebootInstance", {"InstanceId": "i-x"})
    assert (last.error or "").startswith("not sent: target stopped answering: 3 requests to")
    assert t.requests_sent == 3 and t.breaker.is_open
    with pytest.raises(StoppedAnswering, match="target stopped answering"):
        t.breaker.check()
    assert t.probe() is not None


def test_safety_guard() -> None:
    guard = SafetyGuard.for_spec(SPEC, destructive_allowed=False, why="remote")
    guard.check("RebootInstance", {"InstanceId": "i-real", "DryRun": "TRUE"})
    guard.check("DescribeInstances", {"InstanceIds": "[]"})
    guard.check("RebootInstance", {"InstanceId": not_found_instance_id()})
    with pytest.raises(DestructiveCallRefused):
        guard.check("RebootInstance", {"InstanceId": "i-real"})
    with pytest.raises(DestructiveCallRefused):
        guard.check("RebootInstance", {"InstanceId": "i-real", "DryRun": "maybe"})
    listed = SafetyGuard.for_spec(
        SPEC, destructive_allowed=True, allowed_ids=frozenset({"i-listed"})
    )
    listed.check("RebootInstance", {"InstanceId": "i-listed"})
    with pytest.raises(DestructiveCallRefused, match="not in the fixtures"):
        listed.check("RebootInstance", {"InstanceId": "i-other"})


def test_remote_target_refuses_real_reboots() -> None:
    t = HttpServerTarget(
        "http://192.0.2.1:9",
        CREDS,
        0.2,
        version=VERSION,
        guard=SafetyGuard.for_spec(SPEC, destructive_allowed=False),
    )
    with pytest.raises(DestructiveCallRefused):
        t.call("RebootInstance", {"InstanceId": "i-bp1aaaaaaaaaaaaaaaaa"})


def test_control_provisioner(control) -> None:  # type: ignore[no-untyped-def]
    iid = control.arrange(Condition("Running", ("security",), "Creating", False))
    view = control.observe(iid)
    assert view is not None and view.operation_locks == ("security",)
    assert view.reboot_count == 0 and view.kms_key_accessible is False
    assert control.observe(not_found_instance_id()) is None
    control.inject_fault("RebootInstance", "InternalError", 1)
    control.reset()
    assert control.observe(iid) is None


def test_fixtures_provisioner(tmp_path: Path, target, emulator, control) -> None:  # type: ignore[no-untyped-def]
    running = control.arrange(Condition("Running"))
    control.arrange(Condition("Running", ("security",)), "i-locked")
    path = tmp_path / "f.yaml"
    path.write_text(
        f"instances:\n  - InstanceId: {running}\n    Status: Running\n"
        "  - InstanceId: i-locked\n    Status: Running\n    OperationLocks: [security]\n"
    )
    p = FixturesProvisioner(
        path, target, statuses=("Running", "Stopped"), disk_ok_status=LIFE.disk_ok_status
    )
    assert p.arrange(Condition("Running")) == running
    assert p.arrange(Condition("Running", ("security",))) == "i-locked"
    assert p.arrange(Condition("Stopped")) is None
    assert "no fixture instance is Stopped" in p.missing_reason(Condition("Stopped"))
    view = p.observe(running)
    assert view is not None and view.status == "Running" and view.reboot_count is None
    with pytest.raises(Unsupported):
        p.inject_fault("RebootInstance", "InternalError")
    with pytest.raises(Unsupported):
        p.reset()
    # a listed instance that is not in its listed status now is not handed out
    control.arrange(Condition("Stopped"), running)
    assert p.arrange(Condition("Running")) is None
    assert "is Stopped now, not Running" in p.missing_reason(Condition("Running"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("instances: 3\n", ":1: a fixtures file is a mapping"),
        ("instances:\n  - Status: Running\n", ":2: instance 1 has no InstanceId"),
        (
            "instances:\n  - InstanceId: i-a\n    Status: Running\n  - InstanceId: i-b\n"
            "    Status: Sleeping\n",
            ":4: i-b has Status 'Sleeping'",
        ),
        (
            "instances:\n  - InstanceId: i-a\n    Status: Running\n    Colour: red\n",
            ":2: unknown field(s) Colour",
        ),
        ("instances: [\n", "not valid YAML"),
    ],
)
def test_bad_fixtures_file_is_a_config_error(
    tmp_path: Path, target, text: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FixturesProvisioner(
            path, target, statuses=("Running", "Stopped"), disk_ok_status=LIFE.disk_ok_status
        )


def test_shipped_example_fixtures_file_loads(target) -> None:  # type: ignore[no-untyped-def]
    from conformance.resources import fixtures_dir

    p = FixturesProvisioner(
        fixtures_dir() / "example-fixtures.yaml",
        target,
        statuses=LIFE.statuses,
        disk_ok_status=LIFE.disk_ok_status,
    )
    assert {c.status for c, _, _ in p.instances} >= {"Running", "Stopped"}
    assert p.region_id
