"""`ecs-conformance`: parse, build a config, call the library, map the result to an exit code.

Exit codes (docs/command-line.md#exit-codes): 0 conformant, 1 non-conformant, 2 usage or
configuration error, 3 target unreachable or infrastructure error. Nothing below this module prints
or exits.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from conformance.config import (
    ENV_CONTROL_TOKEN,
    Credentials,
    EmulatorSettings,
    control_token_from_env,
    credentials_from_env,
    emulator_credentials,
)
from conformance.errors import ConfigError, ConformanceError
from conformance.selftest.defaults import DEFAULT_EXAMPLES

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """Turn the toolkit's errors into one 'Error:' line and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from conformance.processes import Interrupted

        try:
            return func(*args, **kwargs)
        except ConformanceError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except Interrupted as exc:
            click.echo(f"interrupted ({exc}): the suite and its adapters were stopped", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _stops_on_signals(func: F) -> F:
    """SIGINT and SIGTERM stop the command cleanly: the suite's process group (pytest and its
    adapters) is stopped, and what is already finished is kept (docs/command-line.md#exit-codes)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from conformance.processes import stop_on_signals

        with stop_on_signals():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ecs-reboot-conformance")
def main() -> None:
    """Conformance toolkit for the Alibaba Cloud ECS RebootInstance API."""


# -- spec ---------------------------------------------------------------------------------------
@main.group()
def spec() -> None:
    """Build the OpenAPI description and requirement catalogue, or check they are current."""


@spec.command("build")
@click.argument("document", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="OpenAPI file to write")
@_friendly
def spec_build(document: Path | None, out: Path | None) -> None:
    """Parse DOCUMENT (default: the vendored RebootInstance page) and write the spec."""
    from conformance.spec import build_spec

    result = build_spec(document, out)
    for line in result.summary_lines():
        click.echo(line)


@spec.command("check")
@click.option(
    "--metadata",
    "metadata",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="API metadata file to compare with (default: the vendored spec/metadata/*.json)",
)
@_friendly
def spec_check(metadata: tuple[Path, ...]) -> None:
    """Exit 1 if the committed spec is stale against the document and the profile, or
    disagrees with the vendor's API metadata (drift)."""
    from conformance.spec import check_spec

    result = check_spec(metadata=metadata or None)
    for line in result.summary_lines():
        click.echo(line)
    if result.failed:
        sys.exit(1)


# -- emulator -----------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--access-key-id",
    default=None,
    help="accepted AccessKey ID [default: $ALIBABA_CLOUD_ACCESS_KEY_ID, then testid]",
)
@click.option(
    "--access-key-secret",
    default=None,
    help="its secret [default: $ALIBABA_CLOUD_ACCESS_KEY_SECRET, then testsecret]; prefer the "
    "variable: a flag shows in ps",
)
@click.option(
    "--reboot-seconds", default=EmulatorSettings().reboot_seconds, show_default=True, type=float
)
@click.option(
    "--control-token",
    default=None,
    help="bearer token for /_conformance [default: $ECS_CONFORMANCE_CONTROL_TOKEN]; prefer the "
    "variable: a flag shows in ps",
)
@click.option("--no-control", is_flag=True, help="serve without the test-control API")
@click.option("--mutant", default=None, help="serve a deliberately faulty variant (see selftest)")
@click.option("--quiet", is_flag=True, help="no per-request log lines")
@_friendly
def emulator(
    host: str,
    port: int,
    access_key_id: str | None,
    access_key_secret: str | None,
    reboot_seconds: float,
    control_token: str | None,
    no_control: bool,
    mutant: str | None,
    quiet: bool,
) -> None:
    """Serve the reference emulator (RebootInstance, DescribeInstances, test control)."""
    import logging

    from conformance.emulator.server import serve

    credentials = emulator_credentials(access_key_id, access_key_secret)
    behaviour = None
    if mutant is not None:
        from conformance.mutants import get_mutant

        chosen = get_mutant(mutant)
        click.echo(f"mutant {mutant}: {chosen.description}")
        behaviour = chosen.behaviour
    settings = EmulatorSettings(
        credentials=(credentials,),
        reboot_seconds=reboot_seconds,
        control=not no_control,
        control_token=control_token_from_env(control_token),
        log_requests=not quiet,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    click.echo(f"ECS emulator on http://{host}:{port}/ (AccessKeyId {credentials.access_key_id})")
    if settings.control:
        click.echo(f"test control at http://{host}:{port}/_conformance")
    serve(settings, host, port, behaviour=behaviour)


# -- server and client suites -------------------------------------------------------------------
# Options of the runs themselves (where reports go, how pytest runs); the suite's own options
# come from its table (`conformance.suite.options.click_options`).
_REPORT_DIR = click.option("--report-dir", default="reports", show_default=True, type=Path)
_WAIVERS = click.option("--waivers", default=None, type=click.Path(path_type=Path))
_WORKERS = click.option("-n", "--workers", default=0, type=int, help="pytest-xdist workers")
_SELECT = click.option(
    "-k", "--select", default=None, help="only tests matching this pytest -k expression"
)


def _options(command: str, *run_options: Callable[[F], F], **defaults: object) -> Callable[[F], F]:
    """The run options given, then the suite options `command` offers."""
    from conformance.suite.options import click_options

    decorators = [*run_options, *click_options(command, defaults=defaults)]

    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


@main.command()
@click.argument("url")
@_options("server", _REPORT_DIR, _WAIVERS, _WORKERS, _SELECT)
@_friendly
@_stops_on_signals
def server(url: str, **given: Any) -> None:
    """Judge the server at URL ('embedded' for the in-process reference emulator)."""
    from conformance.runner import check_reachable

    fixtures = given["fixtures"]
    if fixtures is not None and not fixtures.is_file():
        raise ConfigError(f"fixtures file {fixtures} does not exist")
    if url != "embedded":
        check_reachable(url)
    env = {}
    token = control_token_from_env(given.pop("control_token"))
    if token:
        env[ENV_CONTROL_TOKEN] = token
    sys.exit(_run_and_report("server", url, {"target": url, **given}, env=env))


@main.command()
@click.argument("adapter", required=False)
@_options("client", _REPORT_DIR, _WAIVERS, _WORKERS, _SELECT)
@_friendly
@_stops_on_signals
def client(adapter: str | None, **given: Any) -> None:
    """Judge a client through ADAPTER (module:attr or a shipped name) or --command 'CMD'."""
    command = given["client_command"]
    if (adapter is None) == (command is None):
        raise ConfigError(
            "give exactly one of ADAPTER or --command",
            hint="e.g. `ecs-conformance client reference` or --command 'python my_adapter.py'",
        )
    name = f"command: {command}" if command is not None else str(adapter)
    sys.exit(_run_and_report("client", name, {"client": adapter, **given}))


def _run_and_report(
    kind: str, name: str, given: dict[str, Any], *, env: dict[str, str] | None = None
) -> int:
    from conformance.runner import SuiteRun, run_suite
    from conformance.suite.options import option_args

    report_dir, waivers = given.pop("report_dir"), given.pop("waivers")
    workers, select = given.pop("workers"), given.pop("select")
    credentials = credentials_from_env(given.pop("access_key_id"), given.pop("access_key_secret"))
    credentials.check_redactable()
    waiver_list = _load_waivers(waivers)
    seed = _seed(given.pop("seed"))
    click.echo(f"{kind} suite against {name} (seed {seed})")
    result = run_suite(
        SuiteRun(
            kind,
            option_args(given),
            credentials,
            seed,
            workers=workers,
            env=env or {},
            extra_pytest_args=("-k", select) if select else (),
        ),
        echo=_progress_echo(),
    )
    report = _write(kind, name, seed, result, waiver_list, credentials, report_dir)
    _print_summary([report], report_dir)
    return int(report.exit_code)


# -- the main job -------------------------------------------------------------------------------
@main.command()
@_options(
    "run",
    _REPORT_DIR,
    _WAIVERS,
    click.option("-n", "--workers", default=0, type=int, help="pytest-xdist workers per suite"),
)
@_friendly
@_stops_on_signals
def run(
    report_dir: Path, waivers: Path | None, workers: int, seed: int | None, **given: Any
) -> None:
    """The main job: the server suite against the embedded reference emulator, the client
    suite against the reference client and every installed official SDK adapter, reports."""
    from conformance.client.registry import main_job_adapters
    from conformance.runner import SuiteRun, run_suite
    from conformance.suite.options import option_args

    credentials = credentials_from_env(environ={})
    waiver_list = _load_waivers(waivers)
    seed = _seed(seed)
    plan: list[tuple[str, str, dict[str, Any]]] = [("server", "embedded", {"target": "embedded"})]
    for name in main_job_adapters():
        plan.append(("client", name, {"client": name}))
    from conformance.processes import Interrupted
    from conformance.reports.index import Interruption, remove_run_index, write_run_index

    runs: list[tuple[Any, Path]] = []
    started = datetime.now(UTC)
    # An overview left by an earlier run would describe other subdirectories than this run's.
    remove_run_index(report_dir)
    for index, (kind, name, options) in enumerate(plan, 1):
        click.secho(f"[{index}/{len(plan)}] {kind} suite: {name} (seed {seed})", bold=True)
        try:
            result = run_suite(
                SuiteRun(
                    kind, option_args({**options, **given}), credentials, seed, workers=workers
                ),
                echo=_progress_echo(),
            )
        except Interrupted as exc:
            # The finished targets' reports are kept; the overview says what was not run.
            stopped = Interruption(
                str(exc),
                exc.exit_code,
                f"{kind}: {name}",
                [f"{k}: {n}" for k, n, _ in plan[index:]],
            )
            if runs:
                _print_summary([r for r, _ in runs], report_dir)
            index_path = write_run_index(runs, report_dir, started_at=started, interrupted=stopped)
            click.echo(f"overview: {index_path} (the run was interrupted during {kind}: {name})")
            raise
        target_dir = report_dir / f"{kind}-{_slug(name)}"
        report = _write(kind, name, seed, result, waiver_list, credentials, target_dir)
        runs.append((report, target_dir))
    _print_summary([r for r, _ in runs], report_dir)
    index_path = write_run_index(runs, report_dir, started_at=started)
    click.echo(f"overview: {index_path} (each target's four reports in its subdirectory)")
    sys.exit(max(int(r.exit_code) for r, _ in runs))


# -- selftest -----------------------------------------------------------------------------------
@main.command()
@_options(
    "selftest",
    _REPORT_DIR,
    click.option("--parallel", default=2, show_default=True, type=int, help="suite runs at once"),
    click.option("--no-clients", is_flag=True, help="skip the faulty-client half"),
    examples=DEFAULT_EXAMPLES,
)
@_friendly
@_stops_on_signals
def selftest(
    report_dir: Path, parallel: int, no_clients: bool, seed: int | None, examples: int
) -> None:
    """Run the suites against the references, every mutant and faulty client (power: each must
    fail) and every legitimate variant (precision: each must pass); print both halves."""
    from conformance.selftest.run import run_selftest

    seed = _seed(seed)
    click.echo(f"selftest (seed {seed}, {parallel} runs at once)")
    result = run_selftest(
        report_dir=report_dir,
        seed=seed,
        examples=examples,
        parallel=parallel,
        echo=_progress_echo(),
        include_clients=not no_clients,
    )
    for line in result.kill_matrix_lines():
        click.echo(line)
    click.echo(f"selftest report: {(report_dir / 'selftest.json').resolve()}")
    sys.exit(0 if result.ok else 1)


# -- helpers ------------------------------------------------------------------------------------
def _seed(given: int | None) -> int:
    from conformance.suite.options import draw_seed

    return given if given is not None else draw_seed()


def _load_waivers(path: Path | None) -> Sequence[Any]:
    if path is None:
        return ()
    from conformance.spec import load_spec
    from conformance.waivers import load_waivers

    if not path.is_file():
        raise ConfigError(f"waivers file {path} does not exist")
    known = {r.id for r in load_spec().requirements}
    return load_waivers(path, today=date.today(), known_ids=known)


def _write(
    kind: str,
    name: str,
    seed: int,
    result: Any,
    waivers: Sequence[Any],
    credentials: Credentials,
    report_dir: Path,
) -> Any:
    from conformance.reports import build_report, write_reports
    from conformance.spec import load_spec

    spec = load_spec()
    in_ledger = {rid for record in result.ledger for rid in record.requirements}
    report = build_report(
        spec,
        result.ledger,
        kind=kind,
        name=name,
        fingerprint=name,
        seed=seed,
        started_at=result.started_at,
        duration_s=result.duration_s,
        waivers=waivers,
        today=date.today(),
        redact=credentials.redact,
        # A client suite judges what a client does, a server suite what a server does: what
        # the other side alone can break is out of scope rather than "not verified".
        scope=(lambda r: not r.client_only) if kind == "server" else (lambda r: r.id in in_ledger),
    )
    write_reports(report, report_dir)
    return report


def _progress_echo() -> Callable[[str], None]:
    def echo(line: str) -> None:
        if line.strip():
            click.echo("  " + line)

    return echo


def _print_summary(reports: Sequence[Any], report_dir: Path) -> None:
    header = (
        f"{'target':<36} {'level':<9} {'passed':>6} {'failed':>6} {'not ver.':>8} {'waived':>6}"
    )
    click.echo("")
    click.secho(header, bold=True)
    for report in reports:
        label = f"{report.target.kind}: {report.target.name}"[:36]
        for level, c in report.summary.by_level.items():
            click.echo(
                f"{label:<36} {level:<9} {c.passed:>6} {c.failed:>6} "
                f"{c.not_verified:>8} {c.waived:>6}"
            )
            label = ""
        verdict = "conformant" if report.exit_code == 0 else "NOT conformant"
        why = "" if report.exit_code == 0 else ": " + "; ".join(report.exit_reasons)
        click.secho(
            f"{'':<36} -> {verdict}{why} ({report.duration_s:.1f} s)",
            fg="green" if report.exit_code == 0 else "red",
        )
    click.echo(f"reports in {report_dir.resolve()}")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-")[:60]


if __name__ == "__main__":  # pragma: no cover
    main()
