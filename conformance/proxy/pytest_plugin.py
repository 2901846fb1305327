"""The `ecs_endpoint` fixture as a pytest plugin (entry point `pytest11`, beside the suites'
`conformance.suite.plugin`, whose `--ecs-*` options it reads): the reference emulator behind
the checking proxy for users' own tests, the traffic report when the session ends, and
`--ecs-traffic-strict`. Inert unless a test asks for the fixture: nothing of the proxy is
imported or started before (docs/command-line.md#ecs_endpoint).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.suite.plugin import OPTIONS_KEY

if TYPE_CHECKING:
    from conformance.proxy.fixture import EcsEndpoint
    from conformance.proxy.service import CheckingProxy

__all__ = ["ecs_endpoint"]

# The fixture's proxy while it serves, and the client-side failures of its traffic once
# written (for --ecs-traffic-strict).
_PROXY_KEY: pytest.StashKey[CheckingProxy] = pytest.StashKey()
_TRAFFIC_FAILURES_KEY = pytest.StashKey[list[tuple[str, str]]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """While `ecs_endpoint` serves, its judge knows which test sent each request (a failure's
    reproduction is that test)."""
    proxy = item.config.stash.get(_PROXY_KEY, None)
    if proxy is None:
        return (yield)
    proxy.origin = item.nodeid
    try:
        return (yield)
    finally:
        proxy.origin = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    failures = session.config.stash.get(_TRAFFIC_FAILURES_KEY, None)
    if failures and session.config.stash[OPTIONS_KEY].traffic_strict:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    failures = config.stash.get(_TRAFFIC_FAILURES_KEY, None)
    if failures is None:
        return
    options = config.stash[OPTIONS_KEY]
    from conformance.proxy.fixture import strict_lines

    directory = _traffic_dir(config)
    if failures and options.traffic_strict:
        for line in strict_lines(failures, directory):
            terminalreporter.write_line(line, red=True)
    else:
        broke = f", {len(failures)} client-side deviation(s)" if failures else ""
        terminalreporter.write_line(f"ecs_endpoint traffic report in {directory}{broke}")


def _traffic_dir(config: pytest.Config) -> Path:
    directory = config.stash[OPTIONS_KEY].traffic_report
    worker = getattr(config, "workerinput", {}).get("workerid")
    return directory / worker if worker else directory


@pytest.fixture(scope="session")
def ecs_endpoint(pytestconfig: pytest.Config) -> Generator[EcsEndpoint, None, None]:
    """The reference emulator behind the checking proxy, for your own tests: point your client
    at `ecs_endpoint.host_port` with `ecs_endpoint.access_key_id` / `.access_key_secret`, and
    arrange instances with `ecs_endpoint.instance("i-...", status="Stopped")`. The session's
    traffic is judged and reported to --ecs-traffic-report (docs/command-line.md#ecs_endpoint)."""
    from conformance.proxy import fixture

    options = pytestconfig.stash[OPTIONS_KEY]
    try:
        options.credentials.check_redactable()
    except Exception as exc:
        raise pytest.UsageError(str(exc)) from None
    proxy = fixture.start(options.credentials, options.timeout_s)
    pytestconfig.stash[_PROXY_KEY] = proxy
    endpoint = fixture.EcsEndpoint(proxy)
    try:
        yield endpoint
    finally:
        endpoint.close()
        del pytestconfig.stash[_PROXY_KEY]
        pytestconfig.stash[_TRAFFIC_FAILURES_KEY] = fixture.finish(
            proxy, _traffic_dir(pytestconfig)
        )
