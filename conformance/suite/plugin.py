"""The pytest plugin (entry point `pytest11`): options, the `requirement` marker, the ledger.

Inert unless a conformance suite runs: it only registers options and a marker, and records the
outcome of tests that declare requirements. Target-specific fixtures live in the suites'
`conftest.py` files (`conformance/suite/server`, `conformance/suite/client`); the `spec` and
`ecs_options` fixtures here are shared by both.

    pytest --pyargs conformance.suite.server --ecs-target http://127.0.0.1:8080
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.config import Credentials, control_token_from_env, credentials_from_env
from conformance.suite.ledger import FAILED, NOT_VERIFIED, PASSED, Ledger, TestRecord

if TYPE_CHECKING:
    from conformance.emulator.behaviour import Behaviour
    from conformance.spec.model import Spec

__all__ = ["LEDGER_KEY", "OPTIONS_KEY", "SuiteOptions", "requirement_ids"]

LEDGER_KEY = pytest.StashKey[Ledger]()
OPTIONS_KEY = pytest.StashKey["SuiteOptions"]()
_REQUIREMENTS_PROPERTY = "ecs_requirements"
_CHECKS_PROPERTY = "ecs_checks"
_MAX_EVIDENCE = 8000


@dataclass(frozen=True)
class SuiteOptions:
    """Everything the `--ecs-*` options say, built once per session."""

    target: str  # "embedded" or a base URL
    control: str | None
    control_token: str | None = field(repr=False)
    fixtures: Path | None
    credentials: Credentials
    signature: str  # v2 | v3 | both
    method: str  # GET | POST | both
    allow_destructive: bool
    timeout_s: float
    client: str | None  # adapter: module:attr or a shipped adapter name
    client_command: str | None
    results: Path | None
    examples: int  # hypothesis examples per property (scaled by the suites)
    seed: int | None
    reboot_seconds: float | None = None  # how long the target's reboot lasts, when known
    mutant: str | None = None  # embedded target only: serve this mutant instead
    behaviour: Behaviour | None = None  # the mutant's fault switches, resolved from its name

    @property
    def signature_versions(self) -> tuple[str, ...]:
        return ("v2", "v3") if self.signature == "both" else (self.signature,)

    @property
    def methods(self) -> tuple[str, ...]:
        return ("GET", "POST") if self.method == "both" else (self.method,)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecs-conformance", "ECS RebootInstance conformance suite")
    group.addoption(
        "--ecs-target",
        default="embedded",
        help="server under test: 'embedded' (the reference emulator in-process) or a base URL",
    )
    group.addoption("--ecs-control", default=None, help="test-control base URL (DESIGN.md §4)")
    group.addoption(
        "--ecs-control-token",
        default=None,
        help="bearer token of the test-control API (default: $ECS_CONFORMANCE_CONTROL_TOKEN)",
    )
    group.addoption("--ecs-fixtures", default=None, help="black-box fixtures YAML (DESIGN.md §5)")
    group.addoption("--ecs-access-key-id", default=None, help="AccessKey ID (default: env)")
    group.addoption("--ecs-access-key-secret", default=None, help="AccessKey secret")
    group.addoption("--ecs-signature", default="both", choices=("v2", "v3", "both"))
    group.addoption("--ecs-method", default="both", choices=("GET", "POST", "both"))
    group.addoption(
        "--ecs-allow-destructive",
        action="store_true",
        help="send real (non-DryRun) reboots to a target that is not loopback",
    )
    group.addoption("--ecs-timeout", type=float, default=5.0, help="per-request timeout (s)")
    group.addoption("--ecs-client", default=None, help="client adapter, module:attr")
    group.addoption("--ecs-client-command", default=None, help="client adapter command")
    group.addoption("--ecs-results", default=None, help="write the raw test ledger (JSON) here")
    group.addoption(
        "--ecs-examples", type=int, default=100, help="hypothesis examples per property"
    )
    group.addoption("--ecs-seed", type=int, default=None, help="seed for generated inputs")
    group.addoption(
        "--ecs-reboot-seconds",
        type=float,
        default=None,
        help="how long a reboot lasts on the target (its clock ends it): lets the suite check "
        "the transient status strictly and that a reboot ends by itself",
    )
    group.addoption(
        "--ecs-mutant",
        default=None,
        help="embedded target only: serve this mutant of the reference emulator",
    )
    group.addoption(
        "--ecs-example-db",
        default=None,
        help="hypothesis example database directory, e.g. one CI jobs share through a cache: "
        "a failure found in one job is replayed first in the next",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids): the catalogue requirement ids this test verifies",
    )
    config.stash[LEDGER_KEY] = Ledger()
    opt = config.getoption
    example_db = opt("--ecs-example-db", None)
    if example_db:
        # Hypothesis keeps its example database under its home directory; pointing that at a
        # shared folder is its documented way to share failures between runs.
        from hypothesis.configuration import set_hypothesis_home_dir

        set_hypothesis_home_dir(Path(example_db))
    fixtures = opt("--ecs-fixtures", None)
    results = opt("--ecs-results", None)
    config.stash[OPTIONS_KEY] = SuiteOptions(
        target=opt("--ecs-target", "embedded"),
        control=opt("--ecs-control", None),
        control_token=control_token_from_env(opt("--ecs-control-token", None)),
        fixtures=Path(fixtures) if fixtures else None,
        credentials=credentials_from_env(
            opt("--ecs-access-key-id", None), opt("--ecs-access-key-secret", None)
        ),
        signature=opt("--ecs-signature", "both"),
        method=opt("--ecs-method", "both"),
        allow_destructive=bool(opt("--ecs-allow-destructive", False)),
        timeout_s=float(opt("--ecs-timeout", 5.0)),
        client=opt("--ecs-client", None),
        client_command=opt("--ecs-client-command", None),
        results=Path(results) if results else None,
        examples=int(opt("--ecs-examples", 100)),
        seed=opt("--ecs-seed", None),
        reboot_seconds=opt("--ecs-reboot-seconds", None),
        mutant=opt("--ecs-mutant", None),
    )
    options = config.stash[OPTIONS_KEY]
    if options.mutant:
        if options.target != "embedded":
            raise pytest.UsageError("--ecs-mutant applies to the embedded target only")
        config.stash[OPTIONS_KEY] = replace(options, behaviour=_mutant_behaviour(options.mutant))
    if options.target != "embedded" and config.getoption("numprocesses", None):
        # The test-control API's faults and `DELETE /state` are global to a target (DESIGN.md
        # §4): workers sharing one would disturb each other's arranged states.
        raise pytest.UsageError(
            "parallel workers (-n) need a target each: use the embedded target, or run a URL "
            "target without -n (its control API's faults and resets are shared by all workers)"
        )
    config.pluginmanager.register(_Recorder(config), "ecs-conformance-recorder")


def _mutant_behaviour(name: str) -> Behaviour:
    from conformance.errors import ConfigError
    from conformance.mutants import get_mutant

    try:
        return get_mutant(name).behaviour
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


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


class _Recorder:
    """Turns test reports into ledger records; registered per session, not a global."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        ids = props.get(_REQUIREMENTS_PROPERTY)
        if not ids or (report.passed and report.when != "call"):
            return
        if report.skipped:
            outcome, reason, evidence = NOT_VERIFIED, _skip_reason(report), ""
        elif report.failed:
            outcome = FAILED
            evidence = self._redact(str(report.longrepr))[:_MAX_EVIDENCE]
            reason = _first_failure_line(report)
        else:
            outcome, reason, evidence = PASSED, "", ""
        checks = sum(int(str(v)) for k, v in report.user_properties if k == _CHECKS_PROPERTY)
        self.config.stash[LEDGER_KEY].add(
            TestRecord(
                nodeid=report.nodeid,
                requirements=[str(i) for i in ids],  # type: ignore[attr-defined]
                outcome=outcome,
                reason=self._redact(reason),
                evidence=evidence,
                duration_s=report.duration,
                checks=checks,
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
