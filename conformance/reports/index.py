"""The overview of a multi-target run (`ecs-conformance run`): `run.json` and `summary.md`.

Each target keeps its own four reports (docs/contracts.md#reports) in a subdirectory; the overview
links them and repeats their counts, so a CI job summary shows the whole run at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from conformance.reports.model import RunReport

__all__ = ["write_run_index"]


def write_run_index(
    runs: Sequence[tuple[RunReport, Path]], directory: Path, *, started_at: datetime
) -> Path:
    """Write `run.json` and `summary.md` into `directory`; returns the summary's path."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for report, target_dir in runs:
        entries.append(
            {
                "kind": report.target.kind,
                "name": report.target.name,
                "reports": target_dir.relative_to(directory).as_posix(),
                "exit_code": report.exit_code,
                "duration_s": report.duration_s,
                "summary": {
                    "requirements": report.summary.requirements,
                    "passed": report.summary.passed,
                    "failed": report.summary.failed,
                    "not_verified": report.summary.not_verified,
                    "waived": report.summary.waived,
                },
            }
        )
    overall = max((report.exit_code for report, _ in runs), default=1)
    doc = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "exit_code": overall,
        "runs": entries,
    }
    (directory / "run.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    lines = [
        "# ECS RebootInstance conformance run: "
        + ("✅ conformant" if overall == 0 else "❌ non-conformant"),
        "",
        "| target | level | passed | failed | not verified | waived | reports |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for report, target_dir in runs:
        label = f"{report.target.kind}: `{report.target.name}`"
        link = f"[report]({target_dir.relative_to(directory).as_posix()}/report.html)"
        for level, c in report.summary.by_level.items():
            lines.append(
                f"| {label} | {level} | {c.passed} | {c.failed} | {c.not_verified} "
                f"| {c.waived} | {link} |"
            )
            label, link = "", ""
    lines.append("")
    summary = directory / "summary.md"
    summary.write_text("\n".join(lines), encoding="utf-8")
    return summary
