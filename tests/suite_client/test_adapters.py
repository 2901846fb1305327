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


# A persistent command (docs/contracts.md#persistent-commands): hello first when offered, then
# one answer per line; the instance id steers it into each misbehaviour. Request ids name the
# process and the call number, so a test sees which process answered.
_PERSISTENT = """
import json, os, sys, time
if os.environ.get("ECS_CONFORMANCE_PERSISTENT"):
    print(json.dumps({"ecs_conformance": "persistent", "version": 1}), flush=True)
for n, line in enumerate(sys.stdin):
    i = json.loads(line)["instance_id"]
    if i == "crash":
        sys.exit(4)
    if i == "garbage":
        print("garbage", flush=True)
        continue
    if i == "hang":
        time.sleep(60)
    if i == "twice":
        print(json.dumps({"ok": True, "request_id": "extra"}), flush=True)
    if i == "spew":
        sys.stdout.write("x" * (2 * 1024 * 1024))
        sys.stdout.flush()
    print(json.dumps({"ok": True, "request_id": f"{os.getpid()}-{n}"}), flush=True)
"""


@pytest.fixture
def persistent_command(tmp_path: Path) -> str:
    script = tmp_path / "persistent.py"
    script.write_text(_PERSISTENT, encoding="utf-8")
    return f"{sys.executable} {script}"


def _ask(adapter: CommandAdapter, instance_id: str) -> str:
    outcome = adapter.reboot(RebootCall("127.0.0.1:9", instance_id, "id", "secret"))
    assert outcome.ok and outcome.request_id is not None
    return outcome.request_id


def test_a_persistent_command_answers_every_call_from_one_process(persistent_command) -> None:  # type: ignore[no-untyped-def]
    adapter = CommandAdapter(persistent_command, timeout_s=5)
    try:
        first = _ask(adapter, "a")  # one-shot: the call and the hello tell the protocol
        assert adapter.persistent is True and first.endswith("-0")
        ids = [_ask(adapter, "b") for _ in range(5)]
        assert len({i.split("-")[0] for i in ids}) == 1, ids
        assert [i.split("-")[1] for i in ids] == ["0", "1", "2", "3", "4"]
    finally:
        adapter.close()


@pytest.mark.parametrize(
    ("instance_id", "kind"),
    [
        ("crash", "exit"),
        ("garbage", "not-an-outcome"),
        ("hang", "timeout"),
        ("spew", "too-much-output"),
    ],
)
def test_a_persistent_command_failing_is_a_client_failure_then_restarted(
    persistent_command: str, instance_id: str, kind: str
) -> None:
    adapter = CommandAdapter(persistent_command, timeout_s=2)
    try:
        _ask(adapter, "a")
        before = _ask(adapter, "b").split("-")[0]
        start = time.monotonic()
        with pytest.raises(ClientFailure) as info:
            _ask(adapter, instance_id)
        assert info.value.kind == kind
        assert time.monotonic() - start < 4
        after = _ask(adapter, "c")
        assert after.split("-")[0] != before and after.endswith("-0")
    finally:
        adapter.close()


def test_a_persistent_command_printing_more_than_its_answer_fails_the_next_call(
    persistent_command: str,
) -> None:
    adapter = CommandAdapter(persistent_command, timeout_s=2)
    try:
        _ask(adapter, "a")
        assert _ask(adapter, "twice") == "extra"
        time.sleep(0.3)  # the second line arrives before the next call (else it answers it)
        with pytest.raises(ClientFailure) as info:
            _ask(adapter, "b")
        assert info.value.kind == "not-an-outcome" and "printed more" in str(info.value)
        assert _ask(adapter, "c").endswith("-0")
    finally:
        adapter.close()


def test_a_command_not_offered_the_protocol_runs_once_per_call(persistent_command) -> None:  # type: ignore[no-untyped-def]
    adapter = CommandAdapter(persistent_command, timeout_s=5, persistent=False)
    ids = [_ask(adapter, "a") for _ in range(3)]
    assert adapter.persistent is False
    assert all(i.endswith("-0") for i in ids) and len(set(ids)) == 3


def test_a_one_shot_command_stays_one_shot() -> None:
    code = (
        "import json,os,sys; c=json.load(sys.stdin); "
        'print(json.dumps({"ok": True, "request_id": str(os.getpid())}))'
    )
    adapter = CommandAdapter(_command(code))
    ids = {adapter.reboot(CALL).request_id for _ in range(3)}
    assert adapter.persistent is False and len(ids) == 3


def test_a_hello_in_another_version_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "v9.py"
    script.write_text(
        "import json, sys\n"
        'print(json.dumps({"ecs_conformance": "persistent", "version": 9}))\n'
        'print(json.dumps({"ok": True, "request_id": "r"}))\n',
        encoding="utf-8",
    )
    with pytest.raises(ClientFailure) as info:
        CommandAdapter(f"{sys.executable} {script}").reboot(CALL)
    assert info.value.kind == "not-an-outcome" and "version 9" in str(info.value)


def _shipped_command_adapters() -> list[object]:
    root = Path(__file__).resolve().parents[2]
    example = pytest.param(
        f"{sys.executable} {root / 'examples' / 'command_adapter.py'}", id="example"
    )
    from conformance.client.node import install_dir, is_installed

    node = pytest.param(
        f"node {install_dir() / 'adapter.js'}",
        id="node",
        marks=pytest.mark.skipif(not is_installed(), reason="the Node SDK is not installed here"),
    )
    return [example, node]


@pytest.mark.parametrize("command", _shipped_command_adapters())
def test_the_shipped_command_adapters_take_the_persistent_protocol(command: str) -> None:
    adapter = CommandAdapter(command, timeout_s=20)
    call = RebootCall("127.0.0.1:9", "i-1", "id", "secret", timeout_s=2.0)  # nothing listens
    try:
        outcomes = [adapter.reboot(call) for _ in range(3)]
        assert adapter.persistent is True
        assert all(not o.ok and o.code is None for o in outcomes), outcomes
    finally:
        adapter.close()
