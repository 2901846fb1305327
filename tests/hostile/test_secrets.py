"""Secrets: the emulator takes them from the environment too (a flag still wins), redaction
replaces whole occurrences only, in what can carry the secret, and a secret too short to be
redacted is refused for reports (issue 12, item 4)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest

from conformance.config import Credentials
from conformance.errors import ConfigError
from conformance.reports import build_report
from conformance.spec import load_spec
from conformance.suite.ledger import FAILED, Ledger, TestRecord
from conformance.targets import HttpServerTarget

CLI = str(Path(sys.executable).with_name("ecs-conformance"))
VERSION = load_spec().version
REPO = Path(__file__).resolve().parents[2]
SECRET = "env-secret-0123456789"
TOKEN = "env-control-token-0123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _emulator(*args: str, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [CLI, "emulator", "--port", str(port), "--quiet", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _accepted(url: str, credentials: Credentials) -> bool:
    exchange = HttpServerTarget(url, credentials, 5, version=VERSION).call(
        "RebootInstance", {"InstanceId": "i-none", "DryRun": "true"}
    )
    return exchange.code == load_spec().conditions["not_found"]


def test_the_emulator_takes_its_secrets_from_the_environment() -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "envid",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ECS_CONFORMANCE_CONTROL_TOKEN": TOKEN,
    }
    with _emulator(env=env) as (url, proc):
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert SECRET.encode() not in cmdline and TOKEN.encode() not in cmdline
        assert _accepted(url, Credentials("envid", SECRET))
        assert not _accepted(url, Credentials("testid", "testsecret"))
        control = f"{url}/_conformance/instances/i-1"
        assert httpx.get(control).status_code == 401
        headers = {"authorization": f"Bearer {TOKEN}"}
        assert httpx.put(control, json={"Status": "Running"}, headers=headers).status_code == 200


def test_a_flag_still_wins_over_the_environment() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "envid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    flags = ("--access-key-id", "flagid", "--access-key-secret", "flag-secret-9876")
    with _emulator(*flags, env=env) as (url, _):
        assert _accepted(url, Credentials("flagid", "flag-secret-9876"))
        assert not _accepted(url, Credentials("envid", SECRET))


def test_half_a_key_is_a_usage_error() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ALIBABA_CLOUD_ACCESS_KEY_ID": "only-an-id"}
    env.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET", None)
    done = subprocess.run([CLI, "emulator"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "both the AccessKey ID and its secret" in done.stderr


def test_redaction_replaces_whole_occurrences_only() -> None:
    credentials = Credentials("id", "Instance")
    text = "RebootInstance InstanceId=Instance&x secret: Instance. /Instance%20"
    assert credentials.redact(text) == "RebootInstance InstanceId=***&x secret: ***. /***%20"
    encoded = Credentials("id", "a/b+c=d-0123")
    assert encoded.redact("k=a%2Fb%2Bc%3Dd-0123&j=a/b+c=d-0123") == "k=***&j=***"


def test_reports_redact_only_what_can_carry_the_secret() -> None:
    """With a secret that is an ordinary word of the document, the document's sentences and
    the test names stay whole; the evidence a target produced is redacted."""
    spec = load_spec()
    word = "Instance"
    ledger = Ledger()
    ledger.add(
        TestRecord(
            nodeid="test_x.py::test_reboot_instance",
            requirements=["doc.param.InstanceId.required"],
            outcome=FAILED,
            reason=f"the client sent AccessKeySecret={word}",
            evidence=f"> GET /?AccessKeySecret={word}&Action=RebootInstance",
        )
    )
    report = build_report(
        spec,
        ledger,
        kind="server",
        name="embedded",
        started_at="2026-01-01T00:00:00Z",
        duration_s=1.0,
        today=date(2026, 1, 1),
        redact=Credentials("id", word).redact,
    )
    row = next(r for r in report.requirements if r.id == "doc.param.InstanceId.required")
    assert row.text == spec.requirement(row.id).text and word in row.text
    assert row.reason == "the client sent AccessKeySecret=***"
    assert row.evidence == ["> GET /?AccessKeySecret=***&Action=RebootInstance"]


@pytest.mark.parametrize("secret", ["e", "1234567"])
def test_a_secret_too_short_to_redact_is_refused_for_reports(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 8"):
        Credentials("id", secret).check_redactable()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["--access-key-secret", secret, "--report-dir", str(tmp_path)]
    done = subprocess.run(
        [CLI, "client", "reference", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "at least 8" in done.stderr and "ordinary" in done.stderr
    assert not (tmp_path / "conformance.json").exists()
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite.client", "-q",
         "-p", "no:cacheprovider", f"--ecs-access-key-secret={secret}"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert plugin.returncode == 4, plugin.stdout + plugin.stderr
    assert "at least 8" in plugin.stdout + plugin.stderr
