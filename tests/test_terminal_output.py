"""Issue 11 (8, 9): a failing run says what failed and what to fix first, with the reason (not
an exception's class) wherever a failure is shown; progress moves while a suite runs; the
small commands a newcomer reaches for (--version, --help lists, requirements, NO_COLOR)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance import runner
from conformance.cli import main
from conformance.mutants import get_mutant

MUTANT = "forcestop-default-true"
SLICE = "test_defaults or test_dryrun"
CLASS_NAME = "RequirementFailure"


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`ecs-conformance server embedded --mutant forcestop-default-true` on a slice, as a
    person runs it: the terminal output and the report directory."""
    reports = tmp_path_factory.mktemp("reports")
    command = ["server", "embedded", "--mutant", MUTANT, "--select", SLICE, "--examples", "5"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            *command,
            "--seed",
            "3",
            "--report-dir",
            str(reports),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    yield proc.stdout + proc.stderr, reports


def test_a_failing_run_names_each_failed_requirement_with_its_reason(
    failing_run: tuple[str, Path],
) -> None:
    output, reports = failing_run
    doc = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    failed = [r for r in doc["requirements"] if r["verdict"] == "failed"]
    assert failed
    summary = output.split("what failed", 1)[1]
    for r in failed:
        assert r["id"] in summary
    assert "expected" in summary and "received" in summary


def test_the_closest_known_fault_comes_first(failing_run: tuple[str, Path]) -> None:
    output, _ = failing_run
    summary = output.split("what failed", 1)[1].splitlines()
    assert summary[1].strip().startswith("closest known fault: ")
    assert f"(mutant {MUTANT};" in summary[1]
    assert get_mutant(MUTANT).description in summary[1]
    # The group of the fault's own ids leads: its first line is the first thing to fix.
    first_id = summary[3].split()[0]
    assert first_id in get_mutant(MUTANT).breaks


def test_no_report_shows_the_exception_class_as_the_reason(failing_run: tuple[str, Path]) -> None:
    output, reports = failing_run
    assert CLASS_NAME not in output
    junit = (reports / "junit.xml").read_text(encoding="utf-8")
    messages = re.findall(r'<failure message="([^"]*)"', junit)
    assert messages and not any(CLASS_NAME in m for m in messages)
    assert all(m.startswith(("expected", "doc.", "protocol.", "interop.")) for m in messages)
    html = (reports / "report.html").read_text(encoding="utf-8")
    reasons = re.findall(r'<div class="reason">([^<]*)</div>', html)
    assert reasons and not any(CLASS_NAME in r for r in reasons)
    markdown = (reports / "summary.md").read_text(encoding="utf-8")
    headings = markdown.split("## Failures", 1)[1] if "## Failures" in markdown else markdown
    assert f"conformance.suite.failures.{CLASS_NAME}:" not in headings.split("```")[0]


def test_reproductions_name_the_mutant_and_join_their_values(failing_run: tuple[str, Path]) -> None:
    _, reports = failing_run
    doc = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    commands = [c for r in doc["requirements"] for c in r["reproduce"]]
    assert commands
    for command in commands:
        assert f"--ecs-mutant={MUTANT}" in command
        assert "(mutant" not in command  # not the display name as a target
        assert not re.search(r"--ecs-[a-z-]+ [^-]", command)  # --ecs-x=value, never a space


def test_progress_names_each_test_group(failing_run: tuple[str, Path]) -> None:
    output, _ = failing_run
    assert re.search(r"\[1/2\] defaults: \d+ passed", output), output[:2000]
    assert re.search(r"\[2/2\] dryrun: .*\(\d+(\.\d)? s\)", output), output[:2000]
    assert not re.search(r"^\s*[.FEs]{5,}", output, flags=re.M)  # no rows of pytest's dots


def test_a_long_test_gets_a_heartbeat_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "HEARTBEAT_S", 0.3)
    said: list[str] = []
    lines = runner._ProgressLines(said.append)
    lines.feed(
        'ecs-progress {"event": "group", "group": "schemathesis", "index": 9, "of": 10, "tests": 1}'
    )
    lines.feed('ecs-progress {"event": "test", "group": "schemathesis", "test": "test_x[v2]"}')
    stop = threading.Event()
    beat = threading.Thread(target=lines.beat, args=(stop,))
    beat.start()
    time.sleep(2.5)
    stop.set()
    beat.join()
    beats = [s for s in said if "test_x[v2]" in s]
    assert len(beats) >= 2, said  # it moves while the test runs
    assert beats[0].startswith("[9/10] schemathesis: test 1 of 1, test_x[v2]")


def test_skipped_and_installed_clients_are_announced(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import cli
    from conformance.client.contract import AdapterUnavailable
    from conformance.client.registry import AdapterEntry

    def unavailable(_: float) -> object:
        raise AdapterUnavailable("sdk-x is not installed (missing sdkx)", hint="pip install sdk-x")

    installs: list[int] = []
    gone = AdapterEntry("sdk-x", unavailable, lambda: False, main_job=True)  # type: ignore[arg-type]
    fetched = AdapterEntry(
        "node-y",
        unavailable,  # type: ignore[arg-type]
        lambda: False,
        main_job=True,
        install=lambda: installs.append(1),
        installs="the Node SDK y",
    )
    assert cli._ready(gone) == "sdk-x is not installed (missing sdkx) (pip install sdk-x)"
    assert cli._ready(fetched) is None and installs == [1]
    out = capsys.readouterr().out
    assert "installing the Node SDK y (first use only) ..." in out
    assert re.search(r"installed in \d+ s", out)


# -- the small commands --------------------------------------------------------------------------
def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and re.search(r"\d+\.\d+", result.output)


def test_client_help_lists_the_shipped_adapters() -> None:
    result = CliRunner().invoke(main, ["client", "--help"])
    assert result.exit_code == 0
    for name in ("reference", "aliyun-python-sdk-ecs", "node-ecs20140526", "faulty-fixed-nonce"):
        assert name in result.output


def test_emulator_help_lists_the_mutants() -> None:
    result = CliRunner().invoke(main, ["emulator", "--help"])
    assert result.exit_code == 0
    assert "dryrun-executes" in result.output and "post-unsupported" in result.output


def test_requirements_lists_the_catalogue() -> None:
    from conformance.spec import load_spec

    spec = load_spec()
    text = CliRunner().invoke(main, ["requirements"])
    assert text.exit_code == 0
    assert all(r.id in text.output for r in spec.requirements)
    doc = CliRunner().invoke(main, ["requirements", "--level", "doc", "--json"])
    entries = json.loads(doc.stdout)
    assert {e["level"] for e in entries} == {"doc"}
    assert {e["id"] for e in entries} == {r.id for r in spec.requirements if r.level == "doc"}
    assert all(e["text"] and e["source"] for e in entries)
    by_id = {r.id: r for r in spec.requirements}
    assert all(e["strictness"] == by_id[e["id"]].strictness for e in entries)


def test_no_color_turns_colours_off(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    args = ["server", "embedded", "--report-dir", str(tmp_path / "file")]
    coloured = CliRunner().invoke(main, args, color=True)
    plain = CliRunner().invoke(main, args, color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" in coloured.output
    assert plain.exit_code == 2 and "\x1b[" not in plain.output
