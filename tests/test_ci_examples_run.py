"""Issue 11 (7): the CI examples work as written. Each example's shell commands run, in order,
in a fresh clone of this repository, as far as they run off the CI host: the install from the
checkout, the emulator in the background, the suite with its waivers file and example
database, the job summary and the gate. What only the CI host does (actions, caches,
artifacts) is left out; the port is a free one instead of 8080 (other runs may hold it)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository's committed tree."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    target = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True, timeout=120)
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv for the examples' `pip install .`: its dependencies come from this
    environment (a .pth line), so the install builds and installs only the toolkit itself."""
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    site = next((path / "lib").glob("python3*/site-packages"))
    (site / "_toolkit_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


def _run(script: str, cwd: Path, env: dict[str, str], started: list[int]) -> int:
    """One CI step's shell script, as the CI host runs it (bash, stop at the first error)."""
    proc = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        start_new_session=True,  # the emulator it starts in the background is in this group
        stdin=subprocess.DEVNULL,
    )
    started.append(proc.pid)
    return proc.wait(timeout=600)


Host = tuple[dict[str, str], int, list[int]]


@pytest.fixture
def host(clone: Path, venv: Path, tmp_path: Path) -> Iterator[Host]:
    """The CI host's environment (the venv first on PATH), a free port, and the process groups
    the steps start (each stopped afterwards: the emulator runs in the background)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONPATH", None)
    env["GITHUB_OUTPUT"] = str(tmp_path / "github-output")
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "step-summary.md")
    started: list[int] = []
    yield env, _free_port(), started
    for group in started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGTERM)


def _steps_github(port: int) -> list[tuple[str, str]]:
    workflow = yaml.safe_load((REPO / "examples" / "github-actions.yml").read_text())
    (job,) = workflow["jobs"].values()
    steps = []
    for step in job["steps"]:
        if "run" in step:  # `uses:` steps are the CI host's own (checkout, caches, artifacts)
            steps.append((str(step.get("name", "")), str(step["run"]).replace("8080", str(port))))
    return steps


def _check_reports(clone: Path) -> None:
    for name in ("conformance.json", "junit.xml", "summary.md", "report.html"):
        assert (clone / "reports" / name).is_file(), name
    assert (clone / "examples" / "waivers.yaml").is_file()
    assert (clone / ".hypothesis" / "examples").is_dir() or (clone / ".hypothesis").is_dir()


def test_the_github_workflow_runs_as_written(clone: Path, host: Host) -> None:
    env, port, started = host
    outputs: dict[str, str] = {}
    for name, script in _steps_github(port):
        script = re.sub(
            r"\$\{\{ steps\.suite\.outputs\.exit_code \}\}", outputs.get("exit_code", ""), script
        )
        assert "${{" not in script, f"{name}: an expression only the CI host can fill"
        code = _run(script, clone, env, started)
        output_file = Path(env["GITHUB_OUTPUT"])
        if output_file.exists():
            outputs.update(
                line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
            )
        assert code == 0, f"step {name!r} exited {code}"
    assert outputs.get("exit_code") == "0", outputs  # the reference emulator is conformant
    _check_reports(clone)
    assert "conformance" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


def test_the_gitlab_job_runs_as_written(clone: Path, host: Host) -> None:
    env, port, started = host
    job = yaml.safe_load((REPO / "examples" / "gitlab-ci.yml").read_text())["conformance"]
    # GitLab runs before_script and script in one shell, stopping at the first failing line.
    script = "\n".join([*job["before_script"], *job["script"]]).replace("8080", str(port))
    code = _run(script, clone, env, started)
    assert code == 0
    _check_reports(clone)
