"""The `ecs_endpoint` fixture as a pytest plugin (entry point `pytest11`, beside the suites'
`conformance.suite.plugin`, whose `--ecs-*` options it reads): the reference emulator behind
the checking proxy for users' own tests, the traffic report when the session ends, and
`--ecs-traffic-strict`. Inert unless a test asks for the fixture: nothing of the proxy is
imported or started before (docs/command-line.md#ecs_endpoint).

Under pytest-xdist each worker that asks for the fixture serves its own proxy and writes its
own report (`--ecs-traffic-report/<worker id>`). The controller sets the session's exit status,
so each worker hands its client-side failures and its report directory back through xdist's
`workeroutput`, and the controller judges `--ecs-traffic-strict` on all of them.
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
# The report directories written (one, or one per xdist worker that used the fixture).
_TRAFFIC_DIRS_KEY = pytest.StashKey[list[Path]]()
_WORKER_OUTPUT = "ecs_endpoint_traffic"


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
    config = session.config
    failures = config.stash.get(_TRAFFIC_FAILURES_KEY, None)
    worker_output = getattr(config, "workeroutput", None)
    if worker_output is not None:
        if failures is not None:
            worker_output[_WORKER_OUTPUT] = {
                "failures": [list(f) for f in failures],
                "directory": str(config.stash[_TRAFFIC_DIRS_KEY][0]),
            }
        return  # the controller decides the exit status
    if failures and config.stash[OPTIONS_KEY].traffic_strict:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist's controller: gather a finished worker's traffic failures and report directory."""
    traffic = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if traffic is None:
        return
    config: pytest.Config = node.config
    failures = config.stash.setdefault(_TRAFFIC_FAILURES_KEY, [])
    failures.extend((str(rid), str(reason)) for rid, reason in traffic["failures"])
    config.stash.setdefault(_TRAFFIC_DIRS_KEY, []).append(Path(traffic["directory"]))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    failures = config.stash.get(_TRAFFIC_FAILURES_KEY, None)
    if failures is None or hasattr(config, "workeroutput"):
        return
    options = config.stash[OPTIONS_KEY]
    from conformance.proxy.fixture import strict_lines

    written: list[Path] = config.stash.get(_TRAFFIC_DIRS_KEY, [])
    directories = sorted(written)
    if failures and options.traffic_strict:
        for line in strict_lines(failures, directories):
            terminalreporter.write_line(line, red=True)
    else:
        broke = f", {len(failures)} client-side deviation(s)" if failures else ""
        where = ", ".join(str(d) for d in directories)
        plural = "s" if len(directories) > 1 else ""
        terminalreporter.write_line(f"ecs_endpoint traffic report{plural} in {where}{broke}")


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
        directory = _traffic_dir(pytestconfig)
        pytestconfig.stash[_TRAFFIC_FAILURES_KEY] = fixture.finish(proxy, directory)
        pytestconfig.stash[_TRAFFIC_DIRS_KEY] = [directory]
