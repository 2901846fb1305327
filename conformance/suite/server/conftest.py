"""Fixtures of the server suite: the target, its provisioner, the per-test harness `ecs`.

    pytest --pyargs conformance.suite.server --ecs-target embedded
    pytest --pyargs conformance.suite.server --ecs-target http://127.0.0.1:8080 \
        [--ecs-control URL | --ecs-fixtures FILE]

`embedded` starts the reference emulator once per session (per xdist worker) on a loopback
port, with a long reboot time so that an arranged or rebooted status never changes under a
test. For a URL target the control API is `--ecs-control`, else `<URL>/_conformance` when it
answers, else the fixtures file, else none (most requirements are then `not_verified`, each
with its reason).

Before the first test (`pytest_collection_finish`) the session checks its setup
(`conformance.suite.preflight.check_server`): a bad fixtures file or option is a usage error
(pytest exit 4, one message), a target or control API that does not answer ends the session
with exit status 3 (`TargetUnreachable`, docs/command-line.md#exit-codes). A target that stops
answering later is reported by the first test that meets it, which stops the session with exit
status 3 too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from conformance.errors import ConformanceError, TargetUnreachable
from conformance.network import is_loopback_url
from conformance.spec.model import Spec
from conformance.suite.options import SuiteOptions, draw_seed
from conformance.suite.plugin import OPTIONS_KEY, record_checks, stop_for_setup
from conformance.suite.preflight import ServerSetup, check_server
from conformance.suite.server.harness import ServerContext, ServerHarness, variants_for
from conformance.targets.base import Provisioner
from conformance.targets.http import HttpServerTarget, SafetyGuard
from conformance.targets.provisioners import ControlProvisioner, FixturesProvisioner

SEED_KEY = pytest.StashKey[int]()
SETUP_KEY = pytest.StashKey[ServerSetup]()
_ABORT_KEY = pytest.StashKey[ConformanceError]()
_SEED_PROPERTY = "ecs_seed"
# How long a fixture instance rebooted by an earlier test may take to be back in its listed status,
# in per-request timeouts (5 s -> 60 s; docs/protocol.md#observing-instances: a reboot settles by
# itself).
_FIXTURE_WAIT_FACTOR = 12
_HARNESS_KEY = pytest.StashKey[tuple[ServerHarness, pytest.FixtureRequest]]()
# Only a reboot starts a clock-driven transition
# (docs/contracts.md#details-every-implementation-must-share); the embedded emulator gets a
# reboot time far beyond any run so `settle` alone ends it (no test depends on wall time).
_EMBEDDED_REBOOT_SECONDS = 24 * 3600.0


class _ShiftableClock:
    """Wall time plus an offset the suite moves forward: the embedded emulator's clock."""

    def __init__(self) -> None:
        self._offset = 0.0

    def __call__(self) -> float:
        return time.time() + self._offset

    def shift(self, seconds: float) -> None:
        self._offset += seconds


def pytest_configure(config: pytest.Config) -> None:
    """Fix the session's seed: --hypothesis-seed, else --ecs-seed, else one shared by all xdist
    workers (derived from the run id), else random. Every generated input derives from it."""
    chosen = config.getoption("hypothesis_seed", None)
    if chosen is None:
        chosen = config.getoption("--ecs-seed", None)
    if chosen is None:
        workerinput = getattr(config, "workerinput", None)
        if workerinput and workerinput.get("testrunuid"):
            chosen = int(str(workerinput["testrunuid"])[:8], 16)
        else:
            chosen = draw_seed()
    config.stash[SEED_KEY] = int(chosen)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Check the setup once the suite's tests are known, before the first of them runs."""
    config = session.config
    if config.option.collectonly or not any(
        item.nodeid and _in_this_suite(item) for item in session.items
    ):
        return
    from conformance.spec import load_spec

    with stop_for_setup():
        config.stash[SETUP_KEY] = check_server(config.stash[OPTIONS_KEY], load_spec())


def _in_this_suite(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return getattr(module, "__name__", "").startswith(__package__ or "conformance.suite.server")


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """What the setup checks noticed (no control API, ...), above the first test."""
    setup = config.stash.get(SETUP_KEY, None)
    return [f"ecs-conformance: note: {note}" for note in setup.notes] if setup else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`variant`: every signature version x method the options ask for (default: all four)."""
    if "variant" not in metafunc.fixturenames:
        return
    variants = variants_for(metafunc.config.stash[OPTIONS_KEY])
    metafunc.parametrize("variant", variants, ids=[v.id for v in variants])


def _build_context(
    spec: Spec, options: SuiteOptions, setup: ServerSetup, seed: int, stack: list[object]
) -> ServerContext:
    request_id_header = spec.profile.envelopes.request_id_header
    if options.target == "embedded":
        from conformance.config import EmulatorSettings
        from conformance.emulator import EmbeddedEmulator

        settings = EmulatorSettings(
            credentials=(options.credentials,), reboot_seconds=_EMBEDDED_REBOOT_SECONDS
        )
        clock = _ShiftableClock()
        emulator = EmbeddedEmulator(
            settings, spec=spec, behaviour=options.behaviour, clock=clock
        ).start()
        stack.append(emulator)
        target = HttpServerTarget(
            emulator.url,
            options.credentials,
            options.timeout_s,
            version=spec.version,
            request_id_header=request_id_header,
        )
        stack.append(target)
        control = ControlProvisioner(emulator.control_url, timeout_s=options.timeout_s)
        return ServerContext(
            spec,
            options,
            target,
            control,
            seed,
            True,
            reboot_seconds=_EMBEDDED_REBOOT_SECONDS,
            shift_clock=clock.shift,
        )

    url = options.target
    target = HttpServerTarget(
        url,
        options.credentials,
        options.timeout_s,
        version=spec.version,
        request_id_header=request_id_header,
    )
    stack.append(target)
    provisioner: ControlProvisioner | FixturesProvisioner
    if setup.control_url is not None:
        provisioner = ControlProvisioner(
            setup.control_url, token=options.control_token, timeout_s=options.timeout_s
        )
    else:
        life = spec.lifecycle
        provisioner = FixturesProvisioner(
            options.fixtures,
            target,
            statuses=life.statuses,
            disk_ok_status=life.disk_ok_status,
            wait_s=_FIXTURE_WAIT_FACTOR * options.timeout_s,
        )
    loopback = is_loopback_url(url)
    allowed: frozenset[str] | None = None
    if isinstance(provisioner, FixturesProvisioner) and not loopback:
        allowed = provisioner.instance_ids
    target.guard = SafetyGuard.for_spec(
        spec,
        destructive_allowed=loopback or options.allow_destructive,
        allowed_ids=allowed,
        why=f"{url} is not a loopback address",
    )
    return ServerContext(
        spec, options, target, provisioner, seed, False, reboot_seconds=options.reboot_seconds
    )


@pytest.fixture(scope="session")
def server_context(
    spec: Spec, ecs_options: SuiteOptions, pytestconfig: pytest.Config
) -> Iterator[ServerContext]:
    """The session's target, provisioner, oracle and seed."""
    stack: list[object] = []
    setup = pytestconfig.stash.get(SETUP_KEY, None) or check_server(ecs_options, spec)
    try:
        context = _build_context(spec, ecs_options, setup, pytestconfig.stash[SEED_KEY], stack)
    except ConformanceError:
        for item in stack:
            _release(item)
        raise
    try:
        yield context
    finally:
        context.provisioner.close()
        for item in stack:
            _release(item)


def _release(item: object) -> None:
    stop = getattr(item, "stop", None) or getattr(item, "close", None)
    if callable(stop):
        stop()


@pytest.fixture
def ecs(server_context: ServerContext, request: pytest.FixtureRequest) -> ServerHarness:
    """The per-test harness; once the target stopped answering (its circuit breaker is open),
    the test is not verified before it sends anything."""
    server_context.target.breaker.check()
    request.node.user_properties.append((_SEED_PROPERTY, server_context.seed))
    harness = ServerHarness(
        server_context, request.module.__name__, request.node.originalname, node=request.node
    )
    request.node.stash[_HARNESS_KEY] = (harness, request)
    return harness


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Count the requests each test sends to the target (the run's statistics); recorded before
    the call's report is made, so the ledger sees it for passing tests too."""
    entry = item.stash.get(_HARNESS_KEY, None)
    before = entry[0].target.requests_sent if entry else 0
    try:
        return (yield)
    finally:
        if entry is not None:
            record_checks(entry[1], entry[0].target.requests_sent - before)


@pytest.fixture
def target(server_context: ServerContext) -> HttpServerTarget:
    """The server under test (override to point the suite elsewhere)."""
    return server_context.target


@pytest.fixture
def provisioner(server_context: ServerContext) -> Provisioner:
    """How the suite arranges and observes instances on the target."""
    return server_context.provisioner


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Stop the session at the first infrastructure error (the target is unreachable)."""
    report = yield
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, TargetUnreachable):
        item.config.stash[_ABORT_KEY] = excinfo.value
        item.session.shouldstop = f"target unreachable: {excinfo.value.message}"
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Exit with the infrastructure error's code (3) when the target could not be reached."""
    error = session.config.stash.get(_ABORT_KEY, None)
    if error is not None:
        session.exitstatus = error.exit_code


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how to reproduce the run's generated inputs, and why a session was cut short."""
    config = terminalreporter.config
    seed = config.stash.get(SEED_KEY, None)
    if seed is not None:
        terminalreporter.write_line(
            f"ecs-conformance: generated inputs use seed {seed} "
            f"(reproduce: --hypothesis-seed={seed})"
        )
    error = config.stash.get(_ABORT_KEY, None)
    if error is not None:
        terminalreporter.write_line(f"ecs-conformance: {error}", red=True, bold=True)
