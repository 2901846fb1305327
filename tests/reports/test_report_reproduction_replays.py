"""A synthesized reproduction command really replays the failed test, and only it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from conformance.reports.model import reproduction_command

FAILING = """\
import pytest

@pytest.mark.parametrize("case", ["v2-GET", "v3-POST"])
def test_reboot(case):
    assert case != "v3-POST", "received 200"

def test_other():
    pass
"""


def test_the_pytest_command_reruns_exactly_the_failed_test(tmp_path: Path) -> None:
    package = tmp_path / "replay_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "test_replay.py").write_text(FAILING, encoding="utf-8")
    command = reproduction_command("replay_pkg/test_replay.py::test_reboot[v3-POST]", seed=5)
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "pytest"]
    done = subprocess.run(
        # Only the hypothesis plugin (the command passes --hypothesis-seed): loading every
        # installed plugin (schemathesis...) costs seconds and proves nothing here.
        [sys.executable, *argv[1:], "-p", "_hypothesis_pytestplugin", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 2 deselected" in done.stdout, done.stdout
    assert "test_reboot[v3-POST]" in done.stdout and "test_other" not in done.stdout
