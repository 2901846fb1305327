"""Fixtures of the client suite: the adapter under test, the scripted servers, the harness.

The adapter comes from `--ecs-client NAME|module:attr` or `--ecs-client-command 'CMD'`
(default `reference`). httpx-based adapters are judged on both servers (respx in-process and the
loopback HTTP server); every other adapter on the loopback server. Every test that takes
`harness` is parametrized by `server_mode`, so each scenario runs on each applicable server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.client.adapters import CommandAdapter
from conformance.client.contract import AdapterUnavailable, ClientAdapter
from conformance.errors import ConfigError
from conformance.limits import CircuitBreaker
from conformance.spec.model import Spec
from conformance.suite.client.harness import ClientExchange, Harness, ScriptedServer
from conformance.suite.client.respx_server import RespxServer
from conformance.suite.client.scenarios import special_instance_ids, success_scenario
from conformance.suite.client.scripted_server import LoopbackServer
from conformance.suite.failures import not_verified
from conformance.suite.options import SuiteOptions
from conformance.suite.plugin import OPTIONS_KEY, stop_for_setup
from conformance.suite.preflight import check_client, probe_command

_ADAPTER_KEY = pytest.StashKey["ClientAdapter | AdapterUnavailable | ConfigError"]()
_PROBED_KEY = pytest.StashKey[bool]()
_UNAVAILABLE = "unavailable"


def _adapter(config: pytest.Config) -> ClientAdapter | AdapterUnavailable | ConfigError:
    """Load the session's adapter once (at collection: its kind decides the server modes); a
    `ConfigError` is kept and raised once collection is over (`pytest_collection_finish`)."""
    if _ADAPTER_KEY not in config.stash:
        from conformance.spec import load_spec

        options: SuiteOptions = config.stash[OPTIONS_KEY]
        try:
            loaded: ClientAdapter | AdapterUnavailable | ConfigError = check_client(
                options, load_spec(), probe=False
            )
        except ConfigError as exc:
            loaded = exc
        config.stash[_ADAPTER_KEY] = loaded
    return config.stash[_ADAPTER_KEY]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first test: an adapter that cannot be loaded, or a command that fails its
    probe call, ends the session as a usage error (conformance.suite.preflight)."""
    config = session.config
    if config.option.collectonly or _ADAPTER_KEY not in config.stash:
        return
    adapter = config.stash[_ADAPTER_KEY]
    with stop_for_setup():
        if isinstance(adapter, ConfigError) and not isinstance(adapter, AdapterUnavailable):
            raise adapter
        if isinstance(adapter, CommandAdapter) and not config.stash.get(_PROBED_KEY, False):
            from conformance.spec import load_spec

            config.stash[_PROBED_KEY] = True
            probe_command(adapter, load_spec(), config.stash[OPTIONS_KEY])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server_mode" not in metafunc.fixturenames:
        return
    adapter = _adapter(metafunc.config)
    if isinstance(adapter, ConfigError):  # AdapterUnavailable included
        modes = [_UNAVAILABLE]
    elif adapter.httpx_based:
        modes = [RespxServer.mode, LoopbackServer.mode]
    else:
        modes = [LoopbackServer.mode]
    metafunc.parametrize("server_mode", modes, scope="session", indirect=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    adapter = config.stash.get(_ADAPTER_KEY, None)
    if adapter is not None and not isinstance(adapter, ConfigError):
        adapter.close()


@pytest.fixture(scope="session")
def server_mode(request: pytest.FixtureRequest) -> str:
    """`respx` or `loopback` (parametrized by `pytest_generate_tests`)."""
    return str(request.param)


@pytest.fixture(scope="session")
def client_adapter(pytestconfig: pytest.Config) -> ClientAdapter:
    """The adapter under test; every test is `not_verified` when it cannot run here."""
    adapter = _adapter(pytestconfig)
    if isinstance(adapter, ConfigError):  # unavailable here (a usage error stopped the session)
        not_verified(str(adapter))
    return adapter


@pytest.fixture(scope="session")
def adapter_breaker(client_adapter: ClientAdapter) -> CircuitBreaker:
    """One circuit breaker for every call of the session (both server modes share it)."""
    return CircuitBreaker(f"calls of adapter {client_adapter.name}")


@pytest.fixture(scope="session")
def harness(
    server_mode: str,
    client_adapter: ClientAdapter,
    adapter_breaker: CircuitBreaker,
    spec: Spec,
    ecs_options: SuiteOptions,
) -> Iterator[Harness]:
    """The adapter, one scripted server (`server_mode`), the spec and the credentials."""
    server: ScriptedServer
    server = RespxServer() if server_mode == RespxServer.mode else LoopbackServer()
    try:
        yield Harness(
            client_adapter,
            server,
            spec,
            ecs_options.credentials,
            adapter_breaker,
            timeout_hint_s=ecs_options.timeout_s,
        )
    finally:
        server.close()


@pytest.fixture(autouse=True)
def _stopped_adapter(request: pytest.FixtureRequest) -> None:
    """Once the adapter stopped answering, a test that calls it is not verified before it
    starts (its session fixtures would otherwise wait for the adapter first)."""
    if "harness" in request.fixturenames and "server_mode" in request.fixturenames:
        breaker = request.getfixturevalue("adapter_breaker")
        breaker.check()


@pytest.fixture(scope="session")
def baseline(harness: Harness) -> list[ClientExchange]:
    """Successful calls with every combination of the booleans (unset, true, false) and ids
    carrying every character class: the material of the request checks."""
    exchanges = []
    for force_stop in (None, True, False):
        for dry_run in (None, True, False):
            exchanges.append(harness.run(success_scenario(force_stop=force_stop, dry_run=dry_run)))
    for instance_id in special_instance_ids():
        exchanges.append(harness.run(success_scenario(instance_id=instance_id)))
    return exchanges
