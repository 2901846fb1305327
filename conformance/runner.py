"""Run a conformance suite in a pytest subprocess and turn its ledger into a report.

A subprocess keeps every run independent (fresh imports, fresh hypothesis state, its own
embedded emulator), lets selftest run several at once, and bounds a run's time: a target or
adapter that wedges the suite cannot wedge the caller.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from conformance import processes
from conformance.config import Credentials
from conformance.errors import ConfigError, TargetUnreachable
from conformance.suite.ledger import Ledger
from conformance.suite.options import option_args

__all__ = ["SuiteRun", "SuiteRunResult", "check_reachable", "run_suite"]

SUITE_MODULES = {"server": "conformance.suite.server", "client": "conformance.suite.client"}
# pytest's own exit codes (pytest.ExitCode) that mean "the run itself went wrong".
_PYTEST_USAGE_ERROR = 4
_PYTEST_INTERNAL_ERROR = 3
_PYTEST_INTERRUPTED = 2


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


@dataclass(frozen=True)
class SuiteRunResult:
    ledger: Ledger
    pytest_exit_code: int
    started_at: str
    duration_s: float
    output_tail: str


def check_reachable(url: str, timeout_s: float = 5.0) -> None:
    """Raise `TargetUnreachable` (exit 3) unless a TCP connection to `url` opens."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"target {url!r} is not an http(s) URL",
            hint="give a base URL such as http://127.0.0.1:8080, or 'embedded'",
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise TargetUnreachable(
            f"cannot reach {url}: {exc.strerror or exc}",
            hint="is the server running? start the reference one with `ecs-conformance emulator`",
        ) from exc


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
            *option_args({"results": results, "seed": run.seed}),
            f"--hypothesis-seed={run.seed}",
            "-q",
            "--no-header",
            "--tb=no",
            "-rN",
            "-p",
            "no:cacheprovider",
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
        env = {**os.environ, **run.env, "PYTHONDONTWRITEBYTECODE": "1"}
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
        watchdog = threading.Timer(run.timeout_s, processes.kill_group, args=(proc.pid,))
        watchdog.start()
        try:
            for line in proc.stdout:
                line = run.credentials.redact(line.rstrip("\n"))
                tail = [*tail[-60:], line]
                if echo is not None:
                    echo(line)
            code = proc.wait()
        except BaseException:  # an interruption, or anything else: the run must not outlive it
            processes.stop(proc)
            raise
        finally:
            watchdog.cancel()
            processes.release(proc)
            if before is not None:
                processes.kill_strays(before)
        duration = time.monotonic() - t0
        if duration >= run.timeout_s:
            raise TargetUnreachable(
                f"the {run.kind} suite ran past its {run.timeout_s:.0f} s limit and was stopped"
            )
        if code == _PYTEST_USAGE_ERROR or (code != 0 and not results.exists()):
            message = "\n".join(tail[-15:])
            if code == _PYTEST_USAGE_ERROR:
                raise ConfigError(f"the {run.kind} suite refused its options:\n{message}")
            raise TargetUnreachable(
                f"the {run.kind} suite did not complete (pytest exit {code}):\n{message}"
            )
        ledger = Ledger.load(results) if results.exists() else Ledger()
        return SuiteRunResult(
            ledger=ledger,
            pytest_exit_code=code,
            started_at=started.isoformat(timespec="seconds"),
            duration_s=round(duration, 3),
            output_tail="\n".join(tail),
        )
