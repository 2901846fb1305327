"""SIGINT and SIGTERM stop the whole run: the pytest child and the adapters it started are
gone, the finished targets keep their reports, and the overview says the run was interrupted
(issue 12, item 3)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peers import adapter_command, alive

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("ecs-conformance"))
REPO = Path(__file__).resolve().parents[2]


def _descendants(root: int) -> set[int]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            tree.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_sigterm_stops_the_client_suite_and_its_adapter(tmp_path: Path) -> None:
    pidfile = tmp_path / "adapter.pids"
    command = adapter_command("hang", pidfile=pidfile)
    cli = _start(["client", "--command", command, "--report-dir", str(tmp_path / "r")], tmp_path)
    _wait_for(pidfile.exists, 60, "the adapter to start")
    tree = _descendants(cli.pid)
    adapter = [int(p) for p in pidfile.read_text().split()]
    assert set(adapter) <= tree
    started = time.monotonic()
    cli.send_signal(signal.SIGTERM)
    output = cli.communicate(timeout=30)[0]
    assert cli.returncode == 128 + signal.SIGTERM, output[-2000:]
    assert time.monotonic() - started < 20
    assert "interrupted (SIGTERM)" in output
    _wait_for(lambda: not alive(sorted(tree)), 5, "the suite's processes to end")


def test_an_interrupted_run_keeps_finished_targets_and_says_so(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for stale in ("run.json", "summary.md"):
        (reports / stale).write_text("an overview of an earlier run\n")
    cli = _start(["run", "--examples", "2", "--report-dir", str(reports)], tmp_path)
    assert cli.stdout is not None
    finished = re.compile(r"^\[\d+/\d+\] (server|client): (\S+): (conformant|NOT conformant)")
    for line in cli.stdout:  # the targets run side by side: interrupt when the first one ends
        done = finished.match(line)
        if done:
            break
    else:
        pytest.fail("no target of the run ever finished")
    assert not (reports / "run.json").exists(), "the earlier run's overview was left in place"
    tree = _descendants(cli.pid)
    cli.send_signal(signal.SIGINT)
    output = cli.communicate(timeout=60)[0]
    assert cli.returncode == 130, output[-2000:]
    _wait_for(lambda: not alive(sorted(tree)), 5, "the suite's processes to end")
    kind, first = done.group(1), done.group(2)
    assert (reports / f"{kind}-{first}" / "conformance.json").exists()
    overview = json.loads((reports / "run.json").read_text())
    assert overview["exit_code"] == 130
    assert overview["interrupted"]["signal"] == "SIGINT"
    during = overview["interrupted"]["during"].split(", ")
    assert during and f"{kind}: {first}" not in during
    names = [r["name"] for r in overview["runs"]]
    assert first in names
    for label in during:  # what was running when the signal came has no reports
        assert label.split(": ")[1] not in names
        assert not (reports / label.replace(": ", "-")).exists(), f"{label} got reports"
    summary = (reports / "summary.md").read_text()
    assert "interrupted (SIGINT)" in summary and "earlier run" not in summary
