"""Run a conformance suite in a pytest subprocess and turn its ledger into a report.

A subprocess keeps every run independent (fresh imports, fresh hypothesis state, its own
embedded emulator), lets selftest run several at once, and bounds a run's time: a target or
adapter that wedges the suite cannot wedge the caller.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from conformance import processes
from conformance.config import Credentials
from conformance.errors import ConfigError, TargetUnreachable
from conformance.suite import progress
from conformance.suite.ledger import Ledger
from conformance.suite.options import option_args

__all__ = [
    "HEARTBEAT_S",
    "SUITE_PLUGINS",
    "SuiteRun",
    "SuiteRunResult",
    "run_suite",
    "stop_running",
]

SUITE_MODULES = {"server": "conformance.suite.server", "client": "conformance.suite.client"}
# pytest's own exit codes (pytest.ExitCode) that mean "the run itself went wrong".
_PYTEST_USAGE_ERROR = 4
_PYTEST_INTERNAL_ERROR = 3
_PYTEST_INTERRUPTED = 2
# A run that prints nothing for this long says which test it is in (issue: no blank minutes).
HEARTBEAT_S = 5.0
# Lines of pytest's own output that say nothing to a person once the progress lines are there.
# (pytest-xdist says "bringing up nodes..." as its workers start.)
_NOISE = re.compile(r"^\s*(\[\s*\d+%\])?\s*$|^bringing up nodes\.\.\.$")
# A suite run loads only the pytest plugins a suite needs, ours and hypothesis': autoloading
# every installed plugin (schemathesis' own imports its whole runner) costs 2-3 s of each
# run's start-up, more than a client suite's own tests take. The suites use schemathesis as
# a library, not as a plugin; `-n` loads xdist explicitly.
SUITE_PLUGINS = ("conformance.suite.plugin", "_hypothesis_pytestplugin")
_NO_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# The suite processes running now, so that an interruption of a caller running several at
# once (`ecs-conformance run`) can stop them all from its main thread.
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class SuiteRun:
    """One suite run: which suite, which `--ecs-*` options, how long it may take."""

    kind: str  # server | client
    options: Sequence[str]  # --ecs-* arguments for the plugin
    credentials: Credentials
    seed: int
    workers: int = 0  # pytest-xdist workers; 0 runs serially
    timeout_s: float = 1800.0
    extra_pytest_args: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Added to the suite's niceness (its process group: pytest and its adapters). `run` lowers
    # the client suites, which mostly wait on timeouts, below the server suite, its longest.
    niceness: int = 0


@dataclass(frozen=True)
class SuiteRunResult:
    ledger: Ledger
    pytest_exit_code: int
    started_at: str
    duration_s: float
    output_tail: str


def run_suite(run: SuiteRun, *, echo: Callable[[str], None] | None = None) -> SuiteRunResult:
    """Run the suite in a pytest subprocess; stream its progress lines to `echo`."""
    with tempfile.TemporaryDirectory(prefix="ecs-conformance-") as tmp:
        results = Path(tmp) / "ledger.json"
        # An empty ini keeps a user's own pytest configuration out of the suite's run, while the
        # current directory stays importable for `module:attr` adapters
        # (docs/contracts.md#python-adapters-moduleattr).
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            SUITE_MODULES[run.kind],
            *run.options,
            # The seed goes to the suite's own option, not --hypothesis-seed: hypothesis turns
            # its example database off under a global seed, and the database must replay.
            *option_args({"results": results, "seed": run.seed}),
            "-q",
            "--no-header",
            "--tb=no",
            "-rN",
            "-o",
            "console_output_style=classic",
            "-p",
            "no:cacheprovider",
            "-p",
            progress.__name__,
            *(arg for plugin in SUITE_PLUGINS for arg in ("-p", plugin)),
            "-c",
            str(ini),
            "--rootdir",
            tmp,
            "-W",
            "ignore::DeprecationWarning",
            *run.extra_pytest_args,
        ]
        if run.workers:
            cmd += ["-p", "xdist", "-n", str(run.workers)]
        env = {**os.environ, **_NO_AUTOLOAD, **run.env, "PYTHONDONTWRITEBYTECODE": "1"}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.getcwd(), env.get("PYTHONPATH", "")) if p
        )
        # The secret reaches the suite through the environment, never on a command line
        # (a command line shows up in `ps` and in reproductions).
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = run.credentials.access_key_id
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = run.credentials.access_key_secret
        started = datetime.now(UTC)
        t0 = time.monotonic()
        tail: list[str] = []
        # pytest runs in a session of its own: on an interruption (or past the time limit) its
        # whole process group is stopped, and what its adapters detached is found afterwards.
        before = set(processes.children()) if processes.become_subreaper() else None
        proc = processes.spawn(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        if run.niceness:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PGRP, proc.pid, run.niceness)
        watchdog = threading.Timer(run.timeout_s, processes.kill_group, args=(proc.pid,))
        watchdog.start()
        lines = _ProgressLines(echo)
        beating = threading.Event()
        heart = threading.Thread(target=lines.beat, args=(beating,), daemon=True)
        heart.start()
        try:
            for line in proc.stdout:
                line = run.credentials.redact(line.rstrip("\n"))
                if progress.parse(line) is None:
                    tail = [*tail[-60:], line]
                lines.feed(line)
            code = proc.wait()
        except BaseException:  # an interruption, or anything else: the run must not outlive it
            processes.stop(proc)
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
            watchdog.cancel()
            processes.release(proc)
            if before is not None:
                processes.kill_strays(before)
            beating.set()
        duration = time.monotonic() - t0
        if duration >= run.timeout_s:
            raise TargetUnreachable(
                f"the {run.kind} suite ran past its {run.timeout_s:.0f} s limit and was stopped"
            )
        ledger = Ledger.load(results) if results.exists() else None
        _raise_for_setup(run.kind, code, tail, recorded=None if ledger is None else len(ledger))
        ledger = ledger or Ledger()
        return SuiteRunResult(
            ledger=ledger,
            pytest_exit_code=code,
            started_at=started.isoformat(timespec="seconds"),
            duration_s=round(duration, 3),
            output_tail="\n".join(tail),
        )


def stop_running(grace_s: float = processes.STOP_GRACE_S) -> None:
    """Stop every suite process running now (`processes.stop_all`: SIGINT to each process
    group, SIGKILL after `grace_s`); their output is left to the `run_suite` reading it, which
    then returns or raises in its own thread."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    processes.stop_all(running, grace_s, drain=False)


def _raise_for_setup(kind: str, code: int, tail: Sequence[str], *, recorded: int | None) -> None:
    """The suite's own setup checks stopped it (`conformance.suite.preflight`): a usage error
    (pytest exit 4, `ERROR: ...` lines) is a `ConfigError`, an unreachable target before any
    test (exit 3, an `ecs-conformance: ...` line) a `TargetUnreachable`; a run that ended
    otherwise without a ledger did not complete. `recorded`: the ledger's size (None: none)."""
    if code == _PYTEST_USAGE_ERROR:
        refused = _first_error(tail) or "\n".join(tail[-15:])
        raise ConfigError(f"the {kind} suite refused its setup: {refused}")
    if code == TargetUnreachable.exit_code and not recorded:
        marker = "ecs-conformance: "
        at = [i for i, line in enumerate(tail) if marker in line]
        if at:
            said = [tail[at[-1]].split(marker, 1)[1], *tail[at[-1] + 1 : at[-1] + 2]]
            message = "\n".join(s.strip(" !") for s in said if s.strip(" !"))
            raise TargetUnreachable(f"the {kind} suite stopped: {message}")
    if code != 0 and recorded is None:
        message = "\n".join(tail[-15:])
        raise TargetUnreachable(
            f"the {kind} suite did not complete (pytest exit {code}):\n{message}"
        )


def _first_error(tail: Sequence[str]) -> str:
    """The first `ERROR:` line of `tail` and the indented lines after it (its hint), or ""."""
    start = next((i for i, line in enumerate(tail) if line.startswith("ERROR: ")), None)
    if start is None:
        return ""
    out = [tail[start].removeprefix("ERROR: ")]
    for line in tail[start + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line)
    return "\n".join(out)


class _ProgressLines:
    """Turns the progress plugin's events (`conformance.suite.progress`) into lines for a
    person, passes pytest's other lines through (blank ones dropped), and says where the run
    is whenever nothing was said for `HEARTBEAT_S` seconds: the group, how far into it, and
    the test running now."""

    def __init__(self, echo: Callable[[str], None] | None) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._said_at = time.monotonic()
        self._labels: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._started: dict[str, int] = {}
        self._group = ""
        self._test = ""
        self._test_since = 0.0

    def _say(self, text: str) -> None:
        with self._lock:
            self._said_at = time.monotonic()
            if self._echo is not None:
                self._echo(text)

    def feed(self, line: str) -> None:
        event = progress.parse(line)
        if event is None:
            if not _NOISE.match(line):
                self._say(line)
            return
        kind, group = event.get("event"), str(event.get("group", ""))
        if kind == "collected":
            self._say(f"{event.get('tests')} tests in {event.get('groups')} groups")
        elif kind == "group":
            with self._lock:
                self._labels[group] = f"[{event.get('index')}/{event.get('of')}] {group}"
                self._sizes[group] = int(event.get("tests") or 0)
        elif kind == "test":
            with self._lock:
                self._group = group
                self._started[group] = self._started.get(group, 0) + 1
                self._test, self._test_since = str(event.get("test", "")), time.monotonic()
        elif kind == "done":
            counts = ", ".join(
                f"{event[k]} {k.replace('_', ' ')}"
                for k in ("passed", "failed", "not_verified")
                if event.get(k)
            )
            label = f"[{event.get('index')}/{event.get('of')}] {group}"
            self._say(f"{label}: {counts or 'no tests'} ({event.get('duration_s')} s)")

    def beat(self, stop: threading.Event) -> None:
        """Run in a thread until `stop` is set."""
        while not stop.wait(1.0):
            with self._lock:
                quiet = time.monotonic() - self._said_at
                group, test, since = self._group, self._test, self._test_since
                label = self._labels.get(group, group)
                at, size = self._started.get(group, 0), self._sizes.get(group, 0)
            if quiet < HEARTBEAT_S or not test:
                continue
            running = time.monotonic() - since
            where = f"test {at} of {size}" if size else "test"
            took = f" ({running:.0f} s so far)" if running >= 1 else ""
            self._say(f"{label}: {where}, {test}{took}")
