"""The reference emulator driven by the REAL official Node SDK (@alicloud/ecs20140526).

The SDK is installed once with npm, by the Node client adapter's installer
(`conformance.client.node.ensure_installed`, the same cache folder), and reused across runs;
`tests/emulator/node/sdk_calls.js` makes the calls and prints JSON. Skipped, with the reason,
when node or npm is missing or the install fails (no network). docs/protocol.md#official-sdks: Node
errors carry `.code`, `.data.Message`, `.requestId`, `.statusCode`. Every expected value comes
from `load_spec()`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.client.contract import AdapterUnavailable
from conformance.client.node import ensure_installed
from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.spec import load_spec
from conformance.spec.model import Spec

pytestmark = [pytest.mark.node, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "node" / "sdk_calls.js"
RUN_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The SDK's node_modules, shared with the Node client adapter (installed on first use)."""
    try:
        return ensure_installed() / "node_modules"
    except AdapterUnavailable as exc:
        pytest.skip(f"the Node SDK is not available here: {exc}")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def node_emulator(spec: Spec) -> Iterator[EmbeddedEmulator]:
    with EmbeddedEmulator(EmulatorSettings(reboot_seconds=600.0), spec=spec) as emu:
        yield emu


def _put(emu: EmbeddedEmulator, instance_id: str, **body: Any) -> None:
    r = httpx.put(f"{emu.control_url}/instances/{instance_id}", json=body, timeout=5)
    assert r.status_code == 200, r.text


def _view(emu: EmbeddedEmulator, instance_id: str) -> dict[str, Any]:
    r = httpx.get(f"{emu.control_url}/instances/{instance_id}", timeout=5)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _run_node(node_modules: Path, plan: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    result = subprocess.run(
        ["node", str(SCRIPT), json.dumps(plan)],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.fixture(scope="module")
def node_run(
    node_modules: Path, node_emulator: EmbeddedEmulator, spec: Spec
) -> dict[str, dict[str, Any]]:
    """One node process doing every call (startup costs ~0.3 s), in both signature versions."""
    httpx.delete(f"{node_emulator.control_url}/state", timeout=5)
    running = spec.precondition_status
    other = next(s for s in spec.lifecycle.statuses if s != running)
    calls: list[dict[str, Any]] = []
    for sig in ("v3", "v2"):
        _put(node_emulator, f"i-node-reboot-{sig}", Status=running)
        _put(node_emulator, f"i-node-dry-{sig}", Status=running)
        _put(node_emulator, f"i-node-stopped-{sig}", Status=other)
        extra = {"signatureAlgorithm": "v2"} if sig == "v2" else {}
        calls += [
            {"name": f"reboot-{sig}", "instanceId": f"i-node-reboot-{sig}", "forceStop": True,
             "dryRun": False, **extra},
            {"name": f"dry-{sig}", "instanceId": f"i-node-dry-{sig}", "dryRun": True, **extra},
            {"name": f"notfound-{sig}", "instanceId": f"i-node-absent-{sig}", **extra},
            {"name": f"stopped-{sig}", "instanceId": f"i-node-stopped-{sig}", **extra},
            {"name": f"describe-{sig}", "action": "DescribeInstances",
             "instanceId": f"i-node-reboot-{sig}", **extra},
        ]  # fmt: skip
    cred = node_emulator.settings.credentials[0]
    plan = {
        "endpoint": node_emulator.endpoint,
        "accessKeyId": cred.access_key_id,
        "accessKeySecret": cred.access_key_secret,
        "calls": calls,
    }
    results: dict[str, dict[str, Any]] = _run_node(node_modules, plan)["results"]
    return results


SIGNATURES = ("v3", "v2")


def _assert_node_error(
    result: dict[str, Any], spec: Spec, code: str, status: int, msg: str
) -> None:
    assert result["ok"] is False, result
    error = result["error"]
    assert error["code"] == code
    assert error["statusCode"] == status
    assert error["dataMessage"] == msg
    assert error["requestId"], error
    assert error["requestId"] == error["dataRequestId"]


@pytest.mark.parametrize("sig", SIGNATURES)
def test_node_reboot(
    node_run: dict[str, dict[str, Any]], node_emulator: EmbeddedEmulator, spec: Spec, sig: str
) -> None:
    result = node_run[f"reboot-{sig}"]
    assert result["ok"] is True, result
    assert result["body"]["RequestId"]
    view = _view(node_emulator, f"i-node-reboot-{sig}")
    assert view["Status"] == spec.resulting_status
    assert view["RebootCount"] == 1
    assert view["LastForceStop"] is True


@pytest.mark.parametrize("sig", SIGNATURES)
def test_node_dry_run(
    node_run: dict[str, dict[str, Any]], node_emulator: EmbeddedEmulator, spec: Spec, sig: str
) -> None:
    dry = spec.dryrun
    _assert_node_error(node_run[f"dry-{sig}"], spec, dry.code, dry.http_status, dry.message)
    view = _view(node_emulator, f"i-node-dry-{sig}")
    assert view["Status"] == spec.precondition_status
    assert view["RebootCount"] == 0


@pytest.mark.parametrize("condition", ["not_found", "status_not_running"])
@pytest.mark.parametrize("sig", SIGNATURES)
def test_node_documented_error(
    node_run: dict[str, dict[str, Any]], spec: Spec, sig: str, condition: str
) -> None:
    code = spec.conditions[condition]
    name = {"not_found": "notfound", "status_not_running": "stopped"}[condition]
    _assert_node_error(
        node_run[f"{name}-{sig}"],
        spec,
        code,
        spec.error_status(code),
        spec.error_message(code),
    )


@pytest.mark.parametrize("sig", SIGNATURES)
def test_node_describe_sees_the_reboot(
    node_run: dict[str, dict[str, Any]], spec: Spec, sig: str
) -> None:
    result = node_run[f"describe-{sig}"]
    assert result["ok"] is True, result
    instances = result["body"]["Instances"]["Instance"]
    assert [(i["InstanceId"], i["Status"]) for i in instances] == [
        (f"i-node-reboot-{sig}", spec.resulting_status)
    ]
