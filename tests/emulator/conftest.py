"""Fixtures for the emulator's tests: the spec, a fake clock, an embedded emulator, a signer."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.protocol.envelopes import WireResponse, parse_response
from conformance.protocol.signing import signed_headers_v3, signed_params_v2
from conformance.protocol.wire import canonical_query
from conformance.spec import load_spec
from conformance.spec.model import Spec

REBOOT_SECONDS = 5.0


class FakeClock:
    """An injected clock: starts at real time (the gateway checks timestamps), moves on demand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Caller:
    """Signed RPC calls to an emulator (signatures built with conformance.protocol.signing)."""

    def __init__(self, emulator: EmbeddedEmulator, spec: Spec, client: httpx.Client) -> None:
        self.emulator = emulator
        self.spec = spec
        self.client = client
        cred = emulator.settings.credentials[0]
        self.key_id, self.secret = cred.access_key_id, cred.access_key_secret

    def call(
        self,
        params: Mapping[str, str],
        *,
        action: str | None = None,
        method: str = "GET",
        fmt: str | None = "JSON",
        where: str = "query",
        signature: str = "v2",
        nonce: str | None = None,
        tamper: bool = False,
        sign: tuple[str, ...] | None = None,
        overrides: Mapping[str, str | None] | None = None,
    ) -> WireResponse:
        """One signed call; `where` is `query` or `form`; `tamper` spoils the signature; `sign`
        names the V3 headers to sign, `overrides` replaces V2 common parameters (signed)."""
        action = action or self.spec.action
        url = self.emulator.url
        if signature == "v3":
            query = dict(params)
            headers = signed_headers_v3(
                method,
                self.emulator.endpoint,
                query,
                action=action,
                version=self.spec.version,
                access_key_id=self.key_id,
                access_key_secret=self.secret,
                nonce=nonce,
                sign=sign,
            )
            if tamper:
                headers["authorization"] = headers["authorization"][:-4] + "0000"
            target = f"{url}?{canonical_query(query.items())}" if query else url
            r = self.client.request(method, target, headers=headers)
            return parse_response(r.status_code, r.headers, r.content)
        signed = signed_params_v2(
            method,
            params,
            action=action,
            version=self.spec.version,
            access_key_id=self.key_id,
            access_key_secret=self.secret,
            fmt=fmt,
            nonce=nonce,
            overrides=overrides,
        )
        if tamper:
            signed["Signature"] = "AAAA" + signed["Signature"][4:]
        encoded = canonical_query(signed.items())
        if where == "form":
            r = self.client.request(
                method,
                url,
                content=encoded.encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        else:
            r = self.client.request(method, f"{url}?{encoded}")
        return parse_response(r.status_code, r.headers, r.content)

    def reboot(self, instance_id: str | None, **flags: Any) -> WireResponse:
        """RebootInstance with `ForceStop`/`DryRun` given as wire strings (or omitted)."""
        opts = {
            k: flags.pop(k)
            for k in ("method", "fmt", "where", "signature", "nonce", "tamper", "sign", "overrides")
            if k in flags
        }
        params = {} if instance_id is None else {"InstanceId": instance_id}
        params.update({k: v for k, v in flags.items() if v is not None})
        return self.call(params, **opts)


class Control:
    """The control API over HTTP (docs/contracts.md#test-control)."""

    def __init__(self, base: str, client: httpx.Client, token: str | None = None) -> None:
        self.base = base
        self.client = client
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    def put(self, instance_id: str, **body: Any) -> httpx.Response:
        return self.client.put(
            f"{self.base}/instances/{instance_id}", json=body, headers=self.headers
        )

    def get(self, instance_id: str) -> httpx.Response:
        return self.client.get(f"{self.base}/instances/{instance_id}", headers=self.headers)

    def view(self, instance_id: str) -> dict[str, Any]:
        r = self.get(instance_id)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def settle(self, instance_id: str) -> httpx.Response:
        return self.client.post(f"{self.base}/instances/{instance_id}/settle", headers=self.headers)

    def fault(self, **body: Any) -> httpx.Response:
        return self.client.post(f"{self.base}/faults", json=body, headers=self.headers)

    def reset(self) -> httpx.Response:
        return self.client.delete(f"{self.base}/state", headers=self.headers)


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(spec: Spec, clock: FakeClock) -> Iterator[EmbeddedEmulator]:
    settings = EmulatorSettings(reboot_seconds=REBOOT_SECONDS)
    with EmbeddedEmulator(settings, spec=spec, clock=clock) as emu:
        yield emu


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture
def control(emulator: EmbeddedEmulator, client: httpx.Client) -> Control:
    """The control API of a freshly reset module emulator."""
    ctl = Control(emulator.control_url, client)
    assert ctl.reset().status_code == 204
    return ctl


@pytest.fixture
def make_caller(spec: Spec, client: httpx.Client) -> Any:
    """Build a `Caller` for another emulator (e.g. one with other settings)."""
    return lambda emu: Caller(emu, spec, client)


@pytest.fixture
def make_control(client: httpx.Client) -> Any:
    """Build a `Control` for another emulator."""
    return lambda emu: Control(emu.control_url, client)


@pytest.fixture
def rpc(emulator: EmbeddedEmulator, spec: Spec, client: httpx.Client, control: Control) -> Caller:
    return Caller(emulator, spec, client)


def _lock_reason(spec: Spec, condition: str) -> str:
    """The lock reason whose documented code is the condition's (docs/contracts.md#test-control)."""
    code = spec.conditions[condition]
    return next(reason for reason, c in spec.lock_errors.items() if c == code)


def _arrangement(spec: Spec, condition: str) -> dict[str, Any] | None:
    """The control PUT body that provokes a condition (None: leave the instance absent)."""
    running = spec.precondition_status
    life = spec.lifecycle
    if condition == "not_found":
        return None
    if condition == "status_not_running":
        return {"Status": next(s for s in life.statuses if s != running)}
    if condition in ("lock_security", "lock_financial"):
        return {"Status": running, "OperationLocks": [_lock_reason(spec, condition)]}
    if condition == "disk_not_ready":
        return {"Status": running, "DiskStatus": life.disk_ok_status + "_not"}
    if condition == "kms_unauthorized":
        return {"Status": running, "KmsKeyAccessible": False}
    raise KeyError(condition)


class Arranger:
    """Arrange a documented condition (or a healthy Running instance) through the control API."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def body(self, condition: str) -> dict[str, Any] | None:
        return _arrangement(self.spec, condition)

    def lock_reason(self, condition: str) -> str:
        return _lock_reason(self.spec, condition)

    def __call__(self, control: Control, instance_id: str, condition: str | None) -> None:
        body = (
            {"Status": self.spec.precondition_status}
            if condition is None
            else (self.body(condition))
        )
        if body is not None:
            r = control.put(instance_id, **body)
            assert r.status_code == 200, r.text


@pytest.fixture(scope="session")
def arrange(spec: Spec) -> Arranger:
    return Arranger(spec)
