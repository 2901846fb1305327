"""The CI examples (examples/): valid YAML that runs the suite, publishes the reports and gates."""

from __future__ import annotations

from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SUITE = (
    "ecs-conformance server http://127.0.0.1:8080 --report-dir reports "
    "--waivers examples/waivers.yaml --example-db .hypothesis"
)
EMULATOR = "ecs-conformance emulator --host 127.0.0.1 --port 8080 "


def _run_lines(steps: list[dict[str, object]]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps)


def test_github_workflow_runs_publishes_caches_and_gates() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    runs = _run_lines(steps)
    assert EMULATOR in runs and SUITE in " ".join(runs.replace("\\\n", " ").split())
    assert 'cat reports/summary.md >> "$GITHUB_STEP_SUMMARY"' in runs
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert uses["actions/upload-artifact"]["if"] == "always()"
    assert uses["actions/cache/restore"]["with"]["path"] == ".hypothesis"
    assert uses["actions/cache/save"]["if"] == "always()"
    assert "github.ref_name" in uses["actions/cache/save"]["with"]["key"]
    assert 'exit "$code"' in steps[-1]["run"]  # the last step gates on the suite's exit code


def test_gitlab_job_runs_publishes_caches_and_gates() -> None:
    config = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = config["conformance"]
    assert any(EMULATOR in line for line in job["before_script"])
    assert job["script"] == [SUITE]  # its exit code is the job's
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    (cache,) = job["cache"]
    assert cache["paths"] == [".hypothesis/"] and "$CI_COMMIT_REF_SLUG" in cache["key"]
    assert cache["when"] == "always"
