"""Adapter loading and robustness: a misbehaving adapter is a `ClientFailure`, never a crash."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from conformance.client.adapters import CallableAdapter, CommandAdapter
from conformance.client.contract import ClientFailure, Outcome, OutcomeFormatError, RebootCall
from conformance.client.registry import adapter_names, load_adapter
from conformance.errors import ConfigError

CALL = RebootCall("127.0.0.1:9", "i-é *+", "testid", "testsecret", force_stop=True)


def test_call_round_trips_as_json_and_hides_the_secret() -> None:
    data = json.loads(CALL.to_json())
    assert RebootCall.from_dict(data) == CALL
    assert data["dry_run"] is None and data["force_stop"] is True
    assert "testsecret" not in repr(CALL)


@pytest.mark.parametrize(
    "bad",
    [[], {"ok": "yes"}, {"ok": False, "http_status": "403"}, {"ok": True, "request_id": 7}],
)
def test_outcome_is_validated_strictly(bad: object) -> None:
    with pytest.raises(OutcomeFormatError):
        Outcome.from_dict(bad)


def test_outcome_shapes_follow_design() -> None:
    assert Outcome.success("R").to_dict() == {"ok": True, "request_id": "R"}
    assert Outcome.no_response("timeout").to_dict()["code"] is None


def _raises(call: RebootCall) -> Outcome:
    raise ValueError("boom")


def _sleeps(call: RebootCall) -> Outcome:
    time.sleep(5)
    return Outcome.success("late")


@pytest.mark.parametrize(
    ("func", "kind"),
    [(_raises, "raised"), (_sleeps, "timeout"), (lambda c: "garbage", "not-an-outcome")],
)
def test_callable_adapter_failures(func, kind: str) -> None:  # type: ignore[no-untyped-def]
    adapter = CallableAdapter(func, name="t", timeout_s=0.3)
    with pytest.raises(ClientFailure) as info:
        adapter.reboot(CALL)
    assert info.value.kind == kind


def test_callable_adapter_accepts_an_outcome_dict() -> None:
    adapter = CallableAdapter(lambda c: {"ok": True, "request_id": c.instance_id}, name="t")
    assert adapter.reboot(CALL) == Outcome.success(CALL.instance_id)


def _command(code: str) -> str:
    return f"{sys.executable} -c '{code}'"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("import sys; sys.exit(3)", "exit"),
        ('print("hello")', "not-an-outcome"),
        ("import time; time.sleep(30)", "timeout"),
    ],
)
def test_command_adapter_failures(code: str, kind: str) -> None:
    adapter = CommandAdapter(_command(code), timeout_s=2)
    start = time.monotonic()
    with pytest.raises(ClientFailure) as info:
        adapter.reboot(CALL)
    assert info.value.kind == kind
    assert time.monotonic() - start < 10


def test_command_adapter_reads_the_call_on_stdin() -> None:
    code = (
        "import json,sys; c=json.load(sys.stdin); "
        'print(json.dumps({"ok": True, "request_id": c["instance_id"]}))'
    )
    assert CommandAdapter(_command(code)).reboot(CALL) == Outcome.success(CALL.instance_id)


def test_load_adapter_names_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"reference", "aliyun-python-sdk-ecs", "alibabacloud-ecs20140526-v2"} <= set(
        adapter_names()
    )
    assert load_adapter().name == "reference"
    with pytest.raises(ConfigError):
        load_adapter("no-such-adapter")
    with pytest.raises(ConfigError):
        load_adapter("missing_module_xyz:func")
    (tmp_path / "my_adapter.py").write_text(
        "from conformance import Outcome\n"
        "class Client:\n"
        "    def reboot_instance(self, call):\n"
        "        return Outcome.success('x')\n"
    )
    monkeypatch.chdir(tmp_path)
    adapter = load_adapter("my_adapter:Client")
    assert adapter.reboot(CALL) == Outcome.success("x")
    assert isinstance(load_adapter(command="cat"), CommandAdapter)
