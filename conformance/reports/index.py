"""The overview of a multi-target run (`ecs-conformance run`): `run.json` and `summary.md`.

Each target keeps its own four reports (docs/contracts.md#reports) in a subdirectory; the overview
links them and repeats their counts, so a CI job summary shows the whole run at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from conformance.reports.model import RunReport

__all__ = ["INDEX_FILES", "Interruption", "remove_run_index", "write_run_index"]

INDEX_FILES = ("run.json", "summary.md")
"""The overview's files, beside the targets' subdirectories."""


@dataclass(frozen=True)
class Interruption:
    """Why and where a run stopped early: the signal, the target it was running, the targets
    it never started."""

    signal: str
    exit_code: int  # the command's: 128 + the signal's number
    during: str
    not_run: list[str]


def remove_run_index(directory: Path) -> None:
    """Remove an overview an earlier run left in `directory` (its subdirectories stay)."""
    for name in INDEX_FILES:
        (directory / name).unlink(missing_ok=True)


def write_run_index(
    runs: Sequence[tuple[RunReport, Path]],
    directory: Path,
    *,
    started_at: datetime,
    interrupted: Interruption | None = None,
) -> Path:
    """Write `run.json` and `summary.md` into `directory`; returns the summary's path. An
    `interrupted` run lists the targets it finished and says which it did not."""
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
    doc: dict[str, object] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "exit_code": overall,
        "runs": entries,
    }
    if interrupted is not None:
        doc["exit_code"] = interrupted.exit_code
        doc["interrupted"] = asdict(interrupted)
    (directory / "run.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    if interrupted is not None:
        verdict = f"⚠️ interrupted ({interrupted.signal}) during {interrupted.during}"
    else:
        verdict = "✅ conformant" if overall == 0 else "❌ non-conformant"
    lines = [
        "# ECS RebootInstance conformance run: " + verdict,
        "",
    ]
    if interrupted is not None:
        not_run = ", ".join(f"`{n}`" for n in interrupted.not_run) or "none"
        lines += [
            f"The run was stopped by {interrupted.signal} while it judged "
            f"`{interrupted.during}`, whose reports were not written; not started: {not_run}. "
            f"The {len(runs)} finished target(s) below keep their reports.",
            "",
        ]
    lines += [
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
