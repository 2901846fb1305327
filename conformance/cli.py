"""`ecs-conformance`: parse, build a config, call the library, map the result to an exit code.

Exit codes (docs/command-line.md#exit-codes): 0 conformant, 1 non-conformant, 2 usage or
configuration error, 3 target unreachable or infrastructure error. Nothing below this module prints
or exits.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from conformance.config import (
    ENV_CONTROL_TOKEN,
    Credentials,
    EmulatorSettings,
    color_from_env,
    control_token_from_env,
    credentials_from_env,
    emulator_credentials,
)
from conformance.errors import ConfigError, ConformanceError
from conformance.selftest.defaults import (
    DEFAULT_CLIENT_MAX_FAILURES,
    DEFAULT_EXAMPLES,
    DEFAULT_PARALLEL,
    DEFAULT_RUN_TIMEOUT_S,
)

if TYPE_CHECKING:
    from conformance.client.registry import AdapterEntry
    from conformance.suite.options import SuiteOptions

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


class _Command(click.Command):
    """A command whose help ends with sections computed only when help is shown (the shipped
    adapters, the mutants): `sections` returns (title, rows of (name, text))."""

    def __init__(
        self,
        *args: Any,
        sections: Callable[[], list[tuple[str, list[tuple[str, str]]]]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sections = sections

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        for title, rows in self.sections() if self.sections else ():
            with formatter.section(title):
                formatter.write_dl(rows)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ecs-reboot-conformance")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Conformance toolkit for the Alibaba Cloud ECS RebootInstance API.

    Exit codes: 0 conformant, 1 non-conformant, 2 usage or configuration error, 3 target
    unreachable or infrastructure error. NO_COLOR turns colours off.
    """
    if color_from_env() is False:
        ctx.color = False


# -- requirements -------------------------------------------------------------------------------
@main.command()
@click.option(
    "--level",
    type=click.Choice(["doc", "protocol", "interop"]),
    default=None,
    help="only this level",
)
@click.option("--json", "as_json", is_flag=True, help="the catalogue entries as a JSON list")
@_friendly
def requirements(level: str | None, as_json: bool) -> None:
    """List the requirement catalogue: every id the suites judge, with its source sentence."""
    import json
    from dataclasses import asdict

    from conformance.spec import load_spec

    chosen = [r for r in load_spec().requirements if level is None or r.level == level]
    if as_json:
        entries = [
            {**asdict(r), "strictness": r.strictness, "client_only": r.client_only} for r in chosen
        ]
        click.echo(json.dumps(entries, indent=1, ensure_ascii=False))
        return
    width = max((len(r.id) for r in chosen), default=0)
    for r in chosen:
        line = f"{r.id:<{width}}  {r.level:<8} {r.kind:<14} {r.strictness:<11}"
        click.echo(f"{line} {' '.join(r.text.split())}")
    click.echo(f"{len(chosen)} requirements", err=True)


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
def _mutant_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    from conformance.mutants import all_mutants

    return [("Mutants (--mutant NAME)", [(m.name, m.description) for m in all_mutants()])]


@main.command(cls=_Command, sections=_mutant_sections)
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
@click.option("--mutant", default=None, help="serve a deliberately faulty variant (listed below)")
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


@dataclass(frozen=True)
class _Run:
    """What a suite command was given besides the suite's options, checked before it starts."""

    report_dir: Path
    waivers: Sequence[Any]
    workers: int | None = 0  # None: `run` chooses per suite (`_main_job_workers`)
    select: str | None = None
    jobs: int | None = None  # `run`: targets judged at once (None: all)


def _prepare(given: dict[str, Any], **suite: Any) -> tuple[_Run, dict[str, Any], SuiteOptions]:
    """Split `given` into the run's own options and the suite's, and check everything that can
    be checked without the target: the report directory, the waivers, the option values."""
    from conformance.files import check_writable_dir
    from conformance.suite.options import SuiteOptions

    report_dir = given.pop("report_dir")
    check_writable_dir(report_dir)
    run = _Run(
        report_dir,
        _load_waivers(given.pop("waivers", None)),
        given.pop("workers", 0),
        given.pop("select", None),
        given.pop("jobs", None),
    )
    values = {**given, **suite}
    options = SuiteOptions.from_values(values)
    options.check()
    return run, values, options


def _client_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    from conformance.client.faulty import FAULTY
    from conformance.client.registry import ADAPTERS, unavailable_reason

    shipped = []
    for entry in ADAPTERS.values():
        if entry.name.startswith("faulty-"):
            continue
        why = unavailable_reason(entry)
        shipped.append((entry.name, "ready" if why is None else why.splitlines()[0]))
    faulty = [(f"faulty-{name}", f.description) for name, f in FAULTY.items()]
    return [
        ("Shipped adapters (ADAPTER)", shipped),
        ("Faulty reference clients (selftest's subjects)", faulty),
    ]


@main.command()
@click.argument("url")
@_options("server", _REPORT_DIR, _WAIVERS, _WORKERS, _SELECT)
@_friendly
@_stops_on_signals
def server(url: str, **given: Any) -> None:
    """Judge the server at URL ('embedded' for the in-process reference emulator, with
    --mutant NAME for one of its mutants)."""
    from conformance.spec import load_spec
    from conformance.suite.preflight import check_server

    run, values, options = _prepare(given, target=url)
    setup = check_server(options, load_spec())
    for note in setup.notes:
        _note(note)
    env = {ENV_CONTROL_TOKEN: options.control_token} if options.control_token else {}
    name = url
    if options.mutant or options.variant:
        name += f" (mutant {options.mutant})" if options.mutant else f" (variant {options.variant})"
    sys.exit(_run_and_report("server", name, values, run, options.credentials, env=env))


@main.command(cls=_Command, sections=_client_sections)
@click.argument("adapter", required=False)
@_options("client", _REPORT_DIR, _WAIVERS, _WORKERS, _SELECT)
@_friendly
@_stops_on_signals
def client(adapter: str | None, **given: Any) -> None:
    """Judge a client through ADAPTER (module:attr or a shipped name, listed below) or
    --command 'CMD' (JSON in, JSON out; see examples/command_adapter.py)."""
    from conformance.client.contract import AdapterUnavailable
    from conformance.client.registry import ADAPTERS
    from conformance.spec import load_spec
    from conformance.suite.preflight import check_client

    command = given["client_command"]
    if (adapter is None) == (command is None):
        raise ConfigError(
            "give exactly one of ADAPTER or --command",
            hint="e.g. `ecs-conformance client reference` or --command 'python my_adapter.py'",
        )
    run, values, options = _prepare(given, client=adapter)
    entry = ADAPTERS.get(adapter or "")
    if entry is not None and entry.install is not None and not entry.available():
        _install(entry)
    loaded = check_client(options, load_spec())
    if isinstance(loaded, AdapterUnavailable):
        raise loaded
    loaded.close()
    name = f"command: {command}" if command is not None else str(adapter)
    sys.exit(_run_and_report("client", name, values, run, options.credentials))


def _run_and_report(
    kind: str,
    name: str,
    values: dict[str, Any],
    run: _Run,
    credentials: Credentials,
    *,
    env: dict[str, str] | None = None,
) -> int:
    from conformance.runner import SuiteRun, run_suite
    from conformance.suite.options import option_args

    credentials.check_redactable()
    seed = _seed(values.pop("seed", None))
    click.echo(f"{kind} suite against {name} (seed {seed})")
    result = run_suite(
        SuiteRun(
            kind,
            option_args(values),
            credentials,
            seed,
            workers=run.workers or 0,
            env=env or {},
            extra_pytest_args=("-k", run.select) if run.select else (),
        ),
        echo=_progress_echo(),
    )
    report = _write(kind, name, seed, result, run.waivers, credentials, run.report_dir)
    _print_summary([report], run.report_dir)
    return int(report.exit_code)


# -- the main job -------------------------------------------------------------------------------
@main.command()
@_options(
    "run",
    _REPORT_DIR,
    _WAIVERS,
    click.option(
        "-n",
        "--workers",
        default=None,
        type=click.IntRange(min=0),
        help="pytest-xdist workers per suite [default: 2 for the server suite on a machine "
        "with 2 CPUs or more, none for the client suites]",
    ),
    click.option(
        "-j",
        "--jobs",
        default=None,
        type=click.IntRange(min=1),
        help="targets judged at once [default: all; 1: one after the other]",
    ),
)
@_friendly
@_stops_on_signals
def run(seed: int | None, **given: Any) -> None:
    """The main job: the server suite against the embedded reference emulator, the client
    suite against the reference client and every official SDK adapter that can run here
    (the Node SDK is installed on first use where Node.js and npm are), reports."""
    from conformance.client.registry import main_job_entries
    from conformance.runner import SuiteRun
    from conformance.suite.options import option_args

    run_options, values, _ = _prepare(given)
    credentials = credentials_from_env(environ={})
    seed = _seed(seed)
    plan: list[tuple[str, str, dict[str, Any]]] = [("server", "embedded", {"target": "embedded"})]
    skipped: list[tuple[str, str]] = []
    for entry in main_job_entries():
        why = _ready(entry)
        if why is None:
            plan.append(("client", entry.name, {"client": entry.name}))
        else:
            skipped.append((entry.name, why))
            _note(f"skipping client {entry.name}: {why}")
    from conformance.processes import Interrupted
    from conformance.reports.index import Interruption, remove_run_index, write_run_index
    from conformance.side_by_side import Planned, Schedule

    jobs = run_options.jobs or len(plan)
    several = jobs > 1 and len(plan) > 1
    reports: dict[int, tuple[Any, Path]] = {}

    def finished(index: int, planned: Planned, result: Any) -> None:
        kind, name, _ = plan[index]
        target_dir = run_options.report_dir / f"{kind}-{_slug(name)}"
        report = _write(kind, name, seed, result, run_options.waivers, credentials, target_dir)
        reports[index] = (report, target_dir)

    def announce_end(index: int, planned: Planned, result: Any) -> None:
        if several:
            verdict = "conformant" if reports[index][0].exit_code == 0 else "NOT conformant"
            took = f"{result.duration_s:.1f} s"
            _say(f"[{index + 1}/{len(plan)}] {planned.label}: {verdict} ({took})")

    schedule = Schedule(
        [
            Planned(
                f"{kind}: {name}",
                SuiteRun(
                    kind,
                    option_args({**options, **values}),
                    credentials,
                    seed,
                    workers=_main_job_workers(kind, run_options.workers),
                    # Side by side, the client suites (mostly waiting on timeouts) yield the CPU
                    # to the server suite, the longest run.
                    niceness=_CLIENT_NICENESS if several and kind == "client" else 0,
                ),
            )
            for kind, name, options in plan
        ],
        jobs=jobs,
        started=lambda index, _: _say(
            f"[{index + 1}/{len(plan)}] {plan[index][0]} suite: {plan[index][1]} (seed {seed})",
            bold=True,
        ),
        echo=lambda planned: _progress_echo(planned.label if several else None),
        ended=announce_end,
    )

    started = datetime.now(UTC)
    # An overview left by an earlier run would describe other subdirectories than this run's.
    remove_run_index(run_options.report_dir)
    try:
        schedule.run(finished)
    except Interrupted as exc:
        # The finished targets' reports are kept; the overview says what was not run.
        runs = [reports[i] for i in sorted(reports)]
        labels = [planned.label for planned in schedule.plan]
        stopped = Interruption(
            str(exc),
            exc.exit_code,
            ", ".join(labels[i] for i in schedule.running) or "the report writing",
            [labels[i] for i in schedule.not_started],
        )
        if runs:
            _print_summary([r for r, _ in runs], run_options.report_dir)
        index_path = write_run_index(
            runs,
            run_options.report_dir,
            started_at=started,
            interrupted=stopped,
            skipped=skipped,
        )
        click.echo(f"overview: {index_path} (the run was interrupted during {stopped.during})")
        raise
    runs = [reports[i] for i in sorted(reports)]
    _print_summary([r for r, _ in runs], run_options.report_dir)
    index_path = write_run_index(runs, run_options.report_dir, started_at=started, skipped=skipped)
    click.echo(f"overview: {index_path} (each target's four reports in its subdirectory)")
    sys.exit(max(int(r.exit_code) for r, _ in runs))


def _main_job_workers(kind: str, given: int | None) -> int:
    """pytest-xdist workers of one of the main job's suites: `-n` when given, else two for the
    server suite where there are two CPUs (it is CPU-bound and the longest; each worker judges
    an embedded emulator of its own, and the suite's CPU time stays the same), none for the
    client suites (they mostly wait; a worker's start-up would cost more than it saves)."""
    if given is not None:
        return given
    return 2 if kind == "server" and (os.cpu_count() or 1) >= 2 else 0


# How much lower the client suites run beside the server suite (see `run`).
_CLIENT_NICENESS = 10
_SAY_LOCK = threading.Lock()


def _say(text: str, **style: Any) -> None:
    """One whole line, whichever thread says it."""
    with _SAY_LOCK:
        click.secho(text, **style)


def _ready(entry: AdapterEntry) -> str | None:
    """None when the main job can judge `entry` (installing it first if it must), else why
    it is skipped."""
    from conformance.client.contract import AdapterUnavailable
    from conformance.client.registry import unavailable_reason

    if entry.available():
        return None
    if entry.install is not None:
        try:
            _install(entry)
        except AdapterUnavailable as exc:
            return str(exc).replace("\n  hint: ", " (") + (")" if exc.hint else "")
        return None
    why = unavailable_reason(entry)
    return why.replace("\n  hint: ", " (") + ")" if why and "\n  hint: " in why else why


def _install(entry: AdapterEntry) -> None:
    """Install what `entry` needs, saying so and how long it took (the first Node SDK install
    is a network round trip of a minute or two)."""
    assert entry.install is not None
    click.echo(f"installing {entry.installs} (first use only) ...")
    t0 = time.monotonic()
    entry.install()
    click.echo(f"installed in {time.monotonic() - t0:.0f} s")


# -- proxy --------------------------------------------------------------------------------------
@main.command()
@_options(
    "proxy",
    click.option(
        "--upstream",
        required=True,
        help="base URL to forward to (a gateway, an emulator, the service), or 'embedded' "
        "(the reference emulator, in-process)",
    ),
    click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on"),
    click.option("--port", default=8081, show_default=True, type=int, help="0: a free one"),
    click.option(
        "--listen-any", is_flag=True, help="allow a --host that is not loopback (refused without)"
    ),
    click.option("--report-dir", default="reports/traffic", show_default=True, type=Path),
    _WAIVERS,
    click.option(
        "--duration",
        default=None,
        type=click.FloatRange(min=0, min_open=True),
        help="stop after S seconds [default: at SIGINT or SIGTERM]",
    ),
    click.option("--live", is_flag=True, help="print one line per exchange as it is judged"),
    timeout_s=30.0,
)
@_friendly
def proxy(
    upstream: str,
    host: str,
    port: int,
    listen_any: bool,
    report_dir: Path,
    waivers: Path | None,
    duration: float | None,
    live: bool,
    access_key_id: str | None,
    access_key_secret: str | None,
    timeout_s: float,
) -> None:
    """A checking proxy: forward every request to the upstream and judge, passively, each
    request against the client-side requirements and each answer against the server-side
    ones; write the reports when stopped (SIGINT, SIGTERM, or --duration)."""
    import threading

    from conformance.processes import Interrupted, stop_on_signals
    from conformance.proxy.service import EMBEDDED, CheckingProxy, ProxySettings
    from conformance.reports import write_reports

    credentials = credentials_from_env(access_key_id, access_key_secret)
    credentials.check_redactable()
    waiver_list = _load_waivers(waivers)
    if upstream != EMBEDDED:
        _check_upstream(upstream, credentials, timeout_s)
    settings = ProxySettings(
        upstream=upstream,
        host=host,
        port=port,
        credentials=credentials,
        timeout_s=timeout_s,
        listen_any=listen_any,
    )
    echo = (lambda line: click.echo("  " + credentials.redact(line))) if live else None
    checking = CheckingProxy(settings, live=echo)
    checking.start()
    signal_name = None
    try:
        click.echo(
            f"checking proxy on {checking.url} -> {checking.upstream_url}"
            + (" (the embedded reference emulator)" if upstream == EMBEDDED else "")
        )
        click.echo(
            f"  point clients at endpoint {checking.host_port} (protocol http); AccessKeyId "
            f"{credentials.access_key_id}; "
            + (
                f"stops after {duration:g} s"
                if duration
                else "stop it with Ctrl-C (SIGINT) or SIGTERM"
            )
        )
        with stop_on_signals():
            threading.Event().wait(duration)
    except Interrupted as exc:
        signal_name = str(exc)
    finally:
        if checking.backlog:  # judging waits for quiet traffic: under load it falls behind
            click.echo(f"judging the {checking.backlog:,} exchange(s) still queued ...")
        checking.stop()
    report = checking.report(name=f"proxy to {upstream}", waivers=waiver_list)
    write_reports(report, report_dir)
    click.echo(f"stopped ({signal_name or 'duration reached'}): {checking.judge.stats_line()}")
    for side in ("client", "server"):
        for rid, reason in checking.judge.failures(side):
            click.secho(f"  {side}-side FAILED {rid}: {credentials.redact(reason)}", fg="red")
    _print_summary([report], report_dir)
    sys.exit(report.exit_code)


def _check_upstream(url: str, credentials: Credentials, timeout_s: float) -> None:
    """The upstream is an http(s) URL that answers (the server command's setup check)."""
    from conformance.proxy.forwarding import Upstream
    from conformance.spec import load_spec
    from conformance.suite.preflight import probe_server

    Upstream(url, timeout_s)  # ConfigError when it is not an http(s) URL
    probe_server(
        url,
        credentials,
        timeout_s,
        load_spec().version,
        what="the upstream",
        hint="is it running, and is this its base URL? The reference emulator starts with "
        "`ecs-conformance emulator` (or use --upstream embedded)",
    )


# -- selftest -----------------------------------------------------------------------------------
@main.command()
@_options(
    "selftest",
    _REPORT_DIR,
    click.option(
        "--parallel",
        default=DEFAULT_PARALLEL,
        show_default="twice the CPUs, at most 8",
        type=click.IntRange(min=1),
        help="suite runs at once",
    ),
    click.option("--no-clients", is_flag=True, help="skip the faulty-client half"),
    click.option(
        "--update-signatures",
        is_flag=True,
        help="write each mutant's and faulty client's failure signature (the ids it fails) "
        "into the package, for the 'closest known fault' line of failing runs",
    ),
    examples=DEFAULT_EXAMPLES,
)
@_friendly
@_stops_on_signals
def selftest(
    report_dir: Path,
    parallel: int,
    no_clients: bool,
    update_signatures: bool,
    seed: int | None,
    examples: int,
) -> None:
    """Run the suites against the references, every mutant and faulty client (power: each must
    fail) and every legitimate variant (precision: each must pass); print both halves."""
    from conformance.files import check_writable_dir
    from conformance.reports.diagnosis import load_signatures, signatures_examples
    from conformance.selftest.run import run_selftest

    check_writable_dir(report_dir)
    seed = _seed(seed)
    click.echo(f"selftest (seed {seed}, {parallel} runs at once)")
    result = run_selftest(
        report_dir=report_dir,
        seed=seed,
        examples=examples,
        parallel=parallel,
        echo=_progress_echo(),
        include_clients=not no_clients,
        # A faulty client's whole signature, not the first few failures only (a client that
        # hangs then costs its timeout on every test: such runs get longer).
        client_max_failures=None if update_signatures else DEFAULT_CLIENT_MAX_FAILURES,
        timeout_s=_SIGNATURE_RUN_TIMEOUT_S if update_signatures else DEFAULT_RUN_TIMEOUT_S,
        signatures=None if update_signatures else load_signatures(),
        signatures_examples=signatures_examples(),
    )
    for line in result.kill_matrix_lines():
        click.echo(line)
    click.echo(f"selftest report: {(report_dir / 'selftest.json').resolve()}")
    if update_signatures:
        _update_signatures(result, no_clients)
    sys.exit(0 if result.ok else 1)


# `selftest --update-signatures` runs every faulty client to its end: the one that hangs costs
# its adapter timeout on each of its ~50 tests.
_SIGNATURE_RUN_TIMEOUT_S = 900.0


def _update_signatures(result: Any, no_clients: bool) -> None:
    from conformance.reports.diagnosis import load_signatures, write_signatures

    if not all(r.clean for r in result.references) or result.survivors:
        raise ConfigError(
            "not writing failure signatures: the references must be clean and every subject "
            "killed first"
        )
    fresh = {s.name: s for s in result.signatures()}
    kept = [s for s in load_signatures() if no_clients and s.suite == "client"]
    signatures = [*fresh.values(), *(s for s in kept if s.name not in fresh)]
    path = write_signatures(signatures, seed=result.seed, examples=result.examples)
    click.echo(f"failure signatures of {len(signatures)} known faults written to {path}")


# -- helpers ------------------------------------------------------------------------------------
def _note(text: str) -> None:
    click.secho(f"note: {text}", fg="yellow")


def _seed(given: int | None) -> int:
    from conformance.suite.options import draw_seed

    return given if given is not None else draw_seed()


def _load_waivers(path: Path | None) -> Sequence[Any]:
    if path is None:
        return ()
    from conformance.spec import load_spec
    from conformance.waivers import load_waivers

    if not path.is_file():
        raise ConfigError(
            f"waivers file {path} does not exist",
            hint="see fixtures/waivers.example.yaml for the format",
        )
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


def _progress_echo(label: str | None = None) -> Callable[[str], None]:
    """Where a suite's progress lines go: indented, and after `label` when several suites run
    at once (their lines interleave)."""
    prefix = f"  {label} | " if label else "  "

    def echo(line: str) -> None:
        if line.strip():
            _say(prefix + line)

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
    for report in reports:
        _print_diagnosis(report, several=len(reports) > 1)
    click.echo(f"reports in {report_dir.resolve()}")


_SHOWN_PER_CAUSE = 5


def _print_diagnosis(report: Any, *, several: bool) -> None:
    """The failures in fix-first order, each with its one-line reason, and the closest known
    fault (conformance.reports.diagnosis)."""
    from conformance.reports.diagnosis import diagnose

    diagnosis = diagnose(report)
    if not diagnosis.groups:
        return
    width = shutil.get_terminal_size((100, 24)).columns
    click.echo("")
    where = f" ({report.target.kind}: {report.target.name})" if several else ""
    click.secho(f"what failed{where}, what to fix first at the top:", bold=True)
    for known in diagnosis.closest:
        click.secho(f"  closest known fault: {known.describe()}", fg="yellow")
    id_width = max(len(r.id) for _, failures in diagnosis.groups for r in failures)
    for number, (cause, failures) in enumerate(diagnosis.groups, 1):
        why = f" ({cause.why})" if number == 1 and cause.why else ""
        click.echo(_fit(f"  {number}. {cause.title}{why}", width))
        for r in failures[:_SHOWN_PER_CAUSE]:
            # The first failed test's reason (the verdict joins every failed test's).
            reason = r.reason.removeprefix(f"{r.id}: ")
            line = f"     {r.id:<{id_width}}  {reason}"
            if len(line) <= width:
                click.secho(line, fg="red")
                continue
            click.secho(f"     {r.id}", fg="red")
            wrapped = textwrap.wrap(reason, width - 9, max_lines=2, placeholder=" …")
            for part in wrapped:
                click.echo(f"         {part}")
        if len(failures) > _SHOWN_PER_CAUSE:
            more = len(failures) - _SHOWN_PER_CAUSE
            click.echo(f"     ... and {more} more (report.html lists them all)")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(20, width - 1)] + "…"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-")[:60]


if __name__ == "__main__":  # pragma: no cover
    main()
