"""Runners: the embedded emulator's lifecycle and `serve`'s refusal to expose the control API."""

from __future__ import annotations

import socket

import httpx
import pytest

from conformance.config import EmulatorSettings
from conformance.emulator import server as server_module
from conformance.emulator.server import EmbeddedEmulator, check_bind, serve
from conformance.errors import ConfigError
from conformance.spec import load_spec

SPEC = load_spec()


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::"])
def test_serve_refuses_a_non_loopback_host_with_an_open_control_api(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = []
    monkeypatch.setattr(server_module.uvicorn, "run", lambda *a, **k: ran.append(1))
    with pytest.raises(ConfigError) as info:
        serve(EmulatorSettings(), host, 8080, spec=SPEC)
    text = str(info.value)
    assert "--control-token TOKEN" in text and "--no-control" in text
    assert info.value.exit_code == 2
    assert not ran


@pytest.mark.parametrize(
    "settings", [EmulatorSettings(control_token="t"), EmulatorSettings(control=False)]
)
def test_serve_accepts_a_protected_or_absent_control_api(
    settings: EmulatorSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(server_module.uvicorn, "run", lambda app, **k: calls.append(k))
    serve(settings, "0.0.0.0", 8080, spec=SPEC)
    check_bind(EmulatorSettings(), "127.0.0.1")
    (kwargs,) = calls
    assert kwargs["host"] == "0.0.0.0" and kwargs["port"] == 8080
    assert kwargs["access_log"] is False
    # uvicorn's own choice of protocol ("auto"), wrapped with the request deadline
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    assert kwargs["loop"] == "auto" and issubclass(kwargs["http"], AutoHTTPProtocol)  # type: ignore[arg-type]
    assert kwargs["timeout_keep_alive"] == settings.keep_alive_s


@pytest.mark.parametrize("log_requests", [True, False])
def test_serve_keeps_the_request_log_setting_and_wires_its_logger(
    log_requests: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(server_module.uvicorn, "run", lambda app, **k: calls.append((app, k)))
    serve(EmulatorSettings(log_requests=log_requests), "127.0.0.1", 8080, spec=SPEC)
    app, kwargs = calls[0]
    assert app.state.settings.log_requests is log_requests  # type: ignore[attr-defined]
    assert "conformance.emulator" in kwargs["log_config"]["loggers"]  # type: ignore[index]


def test_serve_serves_the_behaviour_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.mutants import all_mutants

    calls: list[object] = []
    monkeypatch.setattr(server_module.uvicorn, "run", lambda app, **k: calls.append(app))
    mutant = all_mutants()[0]
    serve(EmulatorSettings(), "127.0.0.1", 8080, spec=SPEC, behaviour=mutant.behaviour)
    assert calls[0].state.behaviour == mutant.behaviour  # type: ignore[attr-defined]


def test_the_embedded_emulator_serves_real_http_and_stops_cleanly() -> None:
    emu = EmbeddedEmulator(EmulatorSettings(), spec=SPEC)
    with emu:
        port = emu.port
        assert emu.url == f"http://127.0.0.1:{port}/"
        assert emu.control_url == f"http://127.0.0.1:{port}/_conformance"
        r = httpx.put(f"{emu.control_url}/instances/i-1", json={"Status": SPEC.precondition_status})
        assert r.status_code == 200
        assert emu.world.get("i-1") is not None
        assert emu.app.state.spec is SPEC
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_two_embedded_emulators_are_independent() -> None:
    with EmbeddedEmulator(spec=SPEC) as a, EmbeddedEmulator(spec=SPEC) as b:
        assert a.port != b.port
        httpx.put(f"{a.control_url}/instances/i-1", json={"Status": SPEC.precondition_status})
        assert a.world.get("i-1") is not None and b.world.get("i-1") is None
