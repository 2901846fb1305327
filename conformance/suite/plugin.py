"""The pytest plugin (entry point `pytest11`): options, the `requirement` marker, the ledger.

Inert unless a conformance suite runs: it only registers options and a marker, and records the
outcome of tests that declare requirements. Target-specific fixtures live in the suites'
`conftest.py` files (`conformance/suite/server`, `conformance/suite/client`); the `spec` and
`ecs_options` fixtures here are shared by both. The `ecs_endpoint` fixture for users' own
tests is a plugin of its own (`conformance.proxy.pytest_plugin`, a second `pytest11` entry
point), so that the suites do not reach up into the proxy.

    pytest --pyargs conformance.suite.server --ecs-target http://127.0.0.1:8080
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from conformance.errors import ConfigError, ConformanceError
from conformance.files import check_writable_dir
from conformance.suite.ledger import FAILED, NOT_VERIFIED, PASSED, Ledger, TestRecord
from conformance.suite.options import SuiteOptions, add_pytest_options

if TYPE_CHECKING:
    from conformance.emulator.behaviour import Behaviour
    from conformance.spec.model import Spec
    from conformance.suite.failures import Observation

__all__ = [
    "LEDGER_KEY",
    "OPTIONS_KEY",
    "record_checks",
    "record_observation",
    "record_unjudged",
    "requirement_ids",
    "stop_for_setup",
]

LEDGER_KEY = pytest.StashKey[Ledger]()
OPTIONS_KEY = pytest.StashKey[SuiteOptions]()
_REQUIREMENTS_PROPERTY = "ecs_requirements"
_CHECKS_PROPERTY = "ecs_checks"
# What a failure or a skip said, as fields (set on the worker, read where the ledger is kept).
_REPRODUCE_PROPERTY = "ecs_reproduce"
_REASON_PROPERTY = "ecs_not_verified_reason"
_FAILED_IDS_PROPERTY = "ecs_failed_requirements"
_OBSERVATION_PROPERTY = "ecs_observation"
_UNJUDGED_PROPERTY = "ecs_unjudged"
_FAILURE_PROPERTY = "ecs_failure_reason"
_MAX_EVIDENCE = 8000


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids): the catalogue requirement ids this test verifies",
    )
    config.stash[LEDGER_KEY] = Ledger()
    options = SuiteOptions.from_pytest(config.getoption)
    try:
        options.check()
        if options.results is not None:
            check_writable_dir(options.results.parent, what="--ecs-results")
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if options.mutant or options.variant:
        options = replace(options, behaviour=_served_behaviour(options))
    config.stash[OPTIONS_KEY] = options
    if options.target != "embedded" and config.getoption("numprocesses", None):
        # The test-control API's faults and `DELETE /state` are global to a target
        # (docs/contracts.md#test-control): workers sharing one would disturb each other's
        # arranged states.
        raise pytest.UsageError(
            "parallel workers (-n) need a target each: use the embedded target, or run a URL "
            "target without -n (its control API's faults and resets are shared by all workers)"
        )
    config.pluginmanager.register(_Recorder(config), "ecs-conformance-recorder")


def _served_behaviour(options: SuiteOptions) -> Behaviour:
    """The `Behaviour` of the mutant or legitimate variant the embedded target is to serve."""
    from conformance.mutants import get_mutant
    from conformance.mutants.variants import get_variant

    try:
        if options.mutant:
            return get_mutant(options.mutant).behaviour
        return get_variant(str(options.variant)).behaviour
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


@contextlib.contextmanager
def stop_for_setup() -> Iterator[None]:
    """Turn a setup check's error into the session's end: a `ConfigError` is a usage error
    (pytest exit 4, the message and hint, no traceback), any other of the toolkit's errors
    (`TargetUnreachable`) ends the session with its exit code (3) before the first test."""
    try:
        yield
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    except ConformanceError as exc:
        pytest.exit(f"ecs-conformance: {exc}", returncode=exc.exit_code)


def requirement_ids(item: pytest.Item) -> list[str]:
    """The ids declared by `@pytest.mark.requirement(...)` markers on `item`."""
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(str(a) for a in mark.args)
    return list(dict.fromkeys(ids))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    declared = [(item, requirement_ids(item)) for item in items]
    if not any(ids for _, ids in declared):
        return
    # A conformance suite runs: its ledger and reports must be able to redact the secret.
    from conformance.errors import ConfigError

    try:
        config.stash[OPTIONS_KEY].credentials.check_redactable()
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    from conformance.spec import load_spec

    known = {r.id for r in load_spec().requirements}
    unknown = sorted({i for _, ids in declared for i in ids} - known)
    if unknown:
        raise pytest.UsageError(
            "tests declare requirement ids that are not in the catalogue: "
            + ", ".join(unknown)
            + " (see spec/RebootInstance.requirements.yaml)"
        )
    for item, ids in declared:
        if ids:
            # user_properties travel with the report, so xdist's controller sees them too.
            item.user_properties.append((_REQUIREMENTS_PROPERTY, ids))


def record_checks(request: pytest.FixtureRequest, count: int) -> None:
    """Let a test say how many requests or cases it checked (for the run's statistics)."""
    request.node.user_properties.append((_CHECKS_PROPERTY, count))


def record_observation(node: pytest.Item, observation: Observation) -> None:
    """Record what the target did that no source describes (reported, never failing)."""
    node.user_properties.append((_OBSERVATION_PROPERTY, observation.to_dict()))


def record_unjudged(node: pytest.Item, requirement_ids: list[str], reason: str) -> None:
    """Declared ids this test did not judge in this run: `not_verified` with `reason` when the
    test passes (no verdict without evidence)."""
    node.user_properties.append((_UNJUDGED_PROPERTY, {"ids": list(requirement_ids), "why": reason}))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Carry a failure's reproduction command and a skip's not-verified reason on the report
    (`user_properties` travel to the xdist controller too)."""
    report: pytest.TestReport = yield
    if call.excinfo is not None:
        from conformance.suite.failures import (
            failed_requirements_of,
            failure_reason,
            not_verified_reason,
            reproduction_of,
        )

        reproduce = reproduction_of(call.excinfo.value)
        if reproduce:
            report.user_properties.append((_REPRODUCE_PROPERTY, reproduce))
        failed_ids = failed_requirements_of(call.excinfo.value)
        if failed_ids is not None and report.failed:
            report.user_properties.append((_FAILED_IDS_PROPERTY, list(failed_ids)))
        reason = not_verified_reason(call.excinfo.value)
        if reason is not None:
            report.user_properties.append((_REASON_PROPERTY, reason))
        elif report.failed:
            said = failure_reason(call.excinfo.value, requirement_ids(item))
            report.user_properties.append((_FAILURE_PROPERTY, said))
            # pytest's short summary and its JUnit `message` show the crash line: the reason
            # there, not `conformance.suite.failures.RequirementFailure: requirement ...`.
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None and hasattr(crash, "message"):
                crash.message = said
    return report


class _Recorder:
    """Turns test reports into ledger records; registered per session, not a global."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        ids = props.get(_REQUIREMENTS_PROPERTY)
        if not ids or (report.passed and report.when != "call"):
            return
        reproduce = ""
        if report.skipped:
            outcome, evidence = NOT_VERIFIED, ""
            reason = str(props.get(_REASON_PROPERTY) or _skip_reason(report))
        elif report.failed:
            outcome = FAILED
            evidence = self._redact(str(report.longrepr))[:_MAX_EVIDENCE]
            reason = str(props.get(_FAILURE_PROPERTY) or _first_failure_line(report))
            reproduce = str(props.get(_REPRODUCE_PROPERTY, ""))
        else:
            outcome, reason, evidence = PASSED, "", ""
        checks = sum(int(str(v)) for k, v in report.user_properties if k == _CHECKS_PROPERTY)
        declared = [str(i) for i in ids]  # type: ignore[attr-defined]
        outcomes: dict[str, str] = {}
        reasons: dict[str, str] = {}
        failed_ids = props.get(_FAILED_IDS_PROPERTY)
        if outcome == FAILED and failed_ids:
            # One cause, one failure: only the ids the evidence supports fail; the test could
            # not judge the others past that point.
            named = {str(i) for i in failed_ids}  # type: ignore[attr-defined]
            supported = [i for i in declared if i in named]
            if supported:
                for rid in declared:
                    if rid not in supported:
                        outcomes[rid] = NOT_VERIFIED
                        reasons[rid] = (
                            "not judged: its test stopped at the failure of " + ", ".join(supported)
                        )
        if outcome == PASSED:
            for key, value in report.user_properties:
                if key == _UNJUDGED_PROPERTY and isinstance(value, dict):
                    for rid in value.get("ids", []):
                        if rid in declared:
                            outcomes[rid] = NOT_VERIFIED
                            reasons[rid] = self._redact(str(value.get("why", "")))
        observations = [
            {k: self._redact(str(v)) for k, v in dict(value).items()}
            for key, value in report.user_properties
            if key == _OBSERVATION_PROPERTY and isinstance(value, dict)
        ]
        self.config.stash[LEDGER_KEY].add(
            TestRecord(
                nodeid=report.nodeid,
                requirements=declared,
                outcome=outcome,
                reason=self._redact(reason),
                evidence=evidence,
                reproduce=self._redact(reproduce),
                duration_s=report.duration,
                checks=checks,
                outcomes=outcomes,
                reasons=reasons,
                observations=observations,
            )
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return  # xdist worker: the controller writes the ledger
        options = self.config.stash[OPTIONS_KEY]
        if options.results is not None:
            self.config.stash[LEDGER_KEY].dump(options.results)

    def _redact(self, text: str) -> str:
        return self.config.stash[OPTIONS_KEY].credentials.redact(text)


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The runtime view of the generated spec (every expectation comes from it)."""
    from conformance.spec import load_spec

    return load_spec()


@pytest.fixture(scope="session")
def ecs_options(pytestconfig: pytest.Config) -> SuiteOptions:
    """The `--ecs-*` options of this session."""
    return pytestconfig.stash[OPTIONS_KEY]


def _skip_reason(report: pytest.TestReport) -> str:
    # A plain `pytest.skip` (no structured reason): its message as pytest reports it.
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ").removeprefix("not verified: ")


def _first_failure_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None) or str(report.longrepr)
    return message.strip().splitlines()[0][:500] if message.strip() else "failed"
