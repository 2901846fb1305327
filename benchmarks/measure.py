"""Peak-memory measurement and the goal records shared by the benchmark scripts.

Two ways, for two shapes of run:

- `run_measured(cmd)`: the run is one command. It is started with `subprocess.Popen` and reaped
  with `os.wait4`, whose rusage is the child's own plus that of every descendant it waited for.
  Its `ru_maxrss` is therefore the largest peak RSS reached by any single process of the run's
  tree (the kernel keeps a maximum, not a sum), and `ru_utime + ru_stime` the tree's CPU time.
- `RssSampler`: the run lives partly in this process (embedded emulators) and partly in
  subprocesses it starts itself. It samples the summed RSS of this process and all its
  descendants from /proc every `interval_s`, so its peak is what the machine held at once.

Both are Linux-first (/proc; `ru_maxrss` in KiB); `run_measured` also handles macOS (bytes).

`goal(...)` is one entry of a script's JSON `goals` list: the figure, its value, the goal, and
whether it is met; `run_all.py` gathers every script's goals into one table. `write_report`
writes a script's JSON report (`DIR/bench_<name>.json`, the convention `run_all.py` reads).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["Measured", "RssSampler", "goal", "run_measured", "write_report"]

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
# ru_maxrss is in KiB on Linux and in bytes on macOS (getrusage(2) of each).
_MAXRSS_PER_MIB = 1024 * 1024 if sys.platform == "darwin" else 1024


@dataclass(frozen=True)
class Measured:
    """The outcome of one `run_measured` command.

    `returncode` is the command's exit status (negative: killed by that signal; after a
    timeout, the kill). `peak_rss_mib` is the largest peak RSS of any one process of the run's
    tree; `cpu_s` the user + system CPU time of the whole tree.
    """

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    timed_out: bool = False


def _read_back(fh: IO[bytes]) -> str:
    fh.seek(0)
    return fh.read().decode("utf-8", errors="replace")


def _kill_group(pgid: int) -> None:
    # ProcessLookupError: the whole group is gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_measured(
    cmd: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Measured:
    """Run `cmd` to completion; its output, wall time, CPU time and peak RSS (see module doc).

    Output goes to temporary files (no pipe to fill, whatever its size). The command runs in a
    session of its own, so a timeout (or an exception here, e.g. Ctrl-C) kills its whole
    process group, descendants included; the run is then still reaped and measured.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        fired = threading.Event()

        def on_timeout() -> None:
            fired.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, on_timeout) if timeout is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        wall = time.perf_counter() - t0
        # Popen did not reap the child itself: tell it, so that it never waits for it again.
        proc.returncode = os.waitstatus_to_exitcode(status)
        if fired.is_set():
            _kill_group(proc.pid)  # descendants that outlived the killed leader, if any
        return Measured(
            returncode=proc.returncode,
            stdout=_read_back(out),
            stderr=_read_back(err),
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mib=usage.ru_maxrss / _MAXRSS_PER_MIB,
            timed_out=fired.is_set(),
        )


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


class RssSampler:
    """Samples the summed RSS of this process tree in a background thread."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.peak_kib = 0
        # The largest RSS of any one process seen: comparable with `ru_maxrss`, and still known
        # for a run killed before anything waited for its processes.
        self.peak_one_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            tree = _children()
            pids, todo = [], [root]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo.extend(tree.get(pid, []))
            sizes = [_rss_kib(p) for p in pids]
            self.peak_kib = max(self.peak_kib, sum(sizes))
            self.peak_one_kib = max(self.peak_one_kib, max(sizes, default=0))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def goal(figure: str, value: str, target: str, met: bool, issue: str = "") -> dict[str, object]:
    """One goal of a benchmark, for its JSON report's `goals` list (read by run_all.py):
    `figure` what is measured, `value` as measured, `target` the goal (`<= 30 s`), `issue`
    where it was set (`16.2`: issue 16, item 2)."""
    return {"figure": figure, "value": value, "goal": target, "met": bool(met), "issue": issue}


def write_report(
    report_dir: Path, name: str, data: Any, *, default: Callable[[Any], Any] | None = None
) -> Path:
    """Write `data` as indented JSON to `report_dir/name` (the directory made if missing);
    `default` as for `json.dumps`. Returns the path."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / name
    path.write_text(json.dumps(data, indent=2, default=default) + "\n", encoding="utf-8")
    return path
