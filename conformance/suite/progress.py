"""Live progress of a suite run, for the command line: a pytest plugin (`-p
conformance.suite.progress`) that the runner loads in its pytest subprocess.

It prints one machine-readable line per event, `ecs-progress <json>`, instead of pytest's dots:
`group` when the first test of a test group (a suite module: `dryrun`, `schemathesis`, ...)
starts, `test` when any test starts, `done` when a group's last test is reported, with its
counts. The runner turns them into the lines a person reads (`conformance.runner`), and adds a
heartbeat when one test runs long. The plugin changes nothing else: pytest's own summary line,
errors and exit status stay as they are.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["PREFIX", "group_of", "parse"]

PREFIX = "ecs-progress "
_OUTCOMES = ("passed", "failed", "not_verified")


def group_of(nodeid: str) -> str:
    """A test's group: its module's name without `test_` (`dryrun` for
    `.../test_dryrun.py::test_x[v2-GET]`)."""
    path = nodeid.partition("::")[0]
    return path.rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")


def parse(line: str) -> dict[str, Any] | None:
    """The event a progress line carries, or None for any other line."""
    if not line.startswith(PREFIX):
        return None
    try:
        event = json.loads(line[len(PREFIX) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


@dataclass
class _Group:
    index: int
    tests: int
    started: float | None = None
    counts: Counter[str] = field(default_factory=Counter)


class _Progress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.groups: dict[str, _Group] = {}
        self.outcomes: dict[str, str] = {}

    def _emit(self, **event: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return  # an xdist worker: the controller reports
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(PREFIX + json.dumps(event))

    def _known(self, nodeids: list[str]) -> None:
        sizes = Counter(group_of(n) for n in nodeids)
        self.groups = {name: _Group(i, n) for i, (name, n) in enumerate(sizes.items(), 1)}
        self._emit(event="collected", tests=len(nodeids), groups=len(self.groups))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(self.config, "workerinput"):
            self._known([item.nodeid for item in session.items])

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        name = group_of(nodeid)
        group = self.groups.setdefault(name, _Group(len(self.groups) + 1, 0))
        if group.started is None:
            group.started = time.monotonic()
            self._emit(
                event="group", group=name, index=group.index, of=len(self.groups), tests=group.tests
            )
        self._emit(event="test", group=name, test=nodeid.partition("::")[2])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and report.nodeid not in self.outcomes:
            self.outcomes[report.nodeid] = "not_verified"
        elif report.when == "call" and report.passed:
            self.outcomes.setdefault(report.nodeid, "passed")
        if report.when != "teardown":
            return
        name = group_of(report.nodeid)
        group = self.groups.get(name)
        if group is None:
            return
        group.counts[self.outcomes.get(report.nodeid, "passed")] += 1
        if sum(group.counts.values()) >= group.tests:
            elapsed = time.monotonic() - (group.started or time.monotonic())
            self._emit(
                event="done",
                group=name,
                index=group.index,
                of=len(self.groups),
                duration_s=round(elapsed, 1),
                **{k: group.counts[k] for k in _OUTCOMES},
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> Generator[None, Any, Any]:
        # pytest's progress letters (., F, s) would interleave with the events: keep the
        # category and the word, drop the letter.
        result = yield
        if isinstance(result, tuple) and len(result) == 3:
            category, _letter, word = result
            return category, "", word
        return result


class _XdistCollection:
    """Under pytest-xdist the controller learns the tests from the workers' collections."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress
        self.seen = False

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.seen:
            self.seen = True
            self.progress._known(list(ids))


def pytest_configure(config: pytest.Config) -> None:
    progress = _Progress(config)
    config.pluginmanager.register(progress, "ecs-conformance-progress-events")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_XdistCollection(progress), "ecs-conformance-progress-xdist")
