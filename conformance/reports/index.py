"""The overview of a multi-target run (`ecs-conformance run`): `run.json`, `summary.md` and
`report.html`.

Each target keeps its own four reports (docs/contracts.md#reports) in a subdirectory; the
overview links them and repeats their counts, so a CI job summary shows the whole run at once.
`report.html` is the matrix of targets x requirements: one coloured cell per verdict, each
linking to that target's report, opened on that requirement (and on its failures, for a failed
cell); the requirements that failed anywhere come first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from conformance.files import write_text
from conformance.reports.html import LABELS, environment
from conformance.reports.model import RunReport, suite_version

__all__ = [
    "HTML_FILENAME",
    "INDEX_FILES",
    "Interruption",
    "MatrixRow",
    "matrix_rows",
    "remove_run_index",
    "render_html",
    "write_run_index",
]

HTML_FILENAME = "report.html"


@dataclass(frozen=True)
class Cell:
    """One target's verdict on one requirement, and where its report shows it."""

    verdict: str  # a verdict, or "" when the requirement is outside that target's scope
    href: str = ""
    reason: str = ""


@dataclass(frozen=True)
class MatrixRow:
    """One requirement across the run's targets."""

    id: str
    level: str
    text: str
    cells: tuple[Cell, ...]

    @property
    def failed(self) -> bool:
        return any(c.verdict == "failed" for c in self.cells)


def _link(folder: str, requirement: str, verdict: str) -> str:
    # The target's report.html reads its filters from the fragment (verdict=..., q=...).
    if verdict == "failed":
        return f"{folder}/report.html#verdict=failed&q={requirement}"
    return f"{folder}/report.html#q={requirement}"


def matrix_rows(runs: Sequence[tuple[RunReport, str]]) -> list[MatrixRow]:
    """Every requirement any target judged, in catalogue order, failed-anywhere first; `runs`
    are (report, its folder relative to the overview)."""
    order: dict[str, tuple[str, str]] = {}
    for report, _ in runs:
        for r in report.requirements:
            order.setdefault(r.id, (r.level, r.text))
    by_target = [{r.id: r for r in report.requirements} for report, _ in runs]
    rows = []
    for rid, (level, text) in order.items():
        cells = []
        for (_, folder), results in zip(runs, by_target, strict=True):
            result = results.get(rid)
            if result is None:
                cells.append(Cell(""))
            else:
                cells.append(
                    Cell(result.verdict, _link(folder, rid, result.verdict), result.reason)
                )
        rows.append(MatrixRow(rid, level, " ".join(text.split()), tuple(cells)))
    return sorted(rows, key=lambda row: not row.failed)


def render_html(
    runs: Sequence[tuple[RunReport, str]],
    *,
    started_at: datetime,
    skipped: Sequence[tuple[str, str]] = (),
) -> str:
    """The overview page (self-contained: inline CSS, no script, no fetch)."""
    rows = matrix_rows(runs)
    overall = max((report.exit_code for report, _ in runs), default=1)
    return (
        environment()
        .get_template("run.html.j2")
        .render(
            runs=runs,
            rows=rows,
            failed_rows=[r for r in rows if r.failed],
            other_rows=[r for r in rows if not r.failed],
            overall=overall,
            started_at=started_at.isoformat(timespec="seconds"),
            skipped=skipped,
            labels=LABELS,
            suite_version=suite_version(),
        )
    )


INDEX_FILES = ("run.json", "summary.md", HTML_FILENAME)
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
    skipped: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write `run.json`, `summary.md` and `report.html` into `directory` (each atomically);
    returns the summary's path. An `interrupted` run lists the targets it finished and says
    which it did not; `skipped` are the clients the run left out, with why."""
    relative = [(report, target.relative_to(directory).as_posix()) for report, target in runs]
    entries = []
    for report, folder in relative:
        entries.append(
            {
                "kind": report.target.kind,
                "name": report.target.name,
                "reports": folder,
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
        "skipped": [{"name": name, "reason": why} for name, why in skipped],
    }
    if interrupted is not None:
        doc["exit_code"] = interrupted.exit_code
        doc["interrupted"] = asdict(interrupted)
    write_text(directory / "run.json", json.dumps(doc, indent=1))
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
    for report, folder in relative:
        label = f"{report.target.kind}: `{report.target.name}`"
        link = f"[report]({folder}/report.html)"
        for level, c in report.summary.by_level.items():
            lines.append(
                f"| {label} | {level} | {c.passed} | {c.failed} | {c.not_verified} "
                f"| {c.waived} | {link} |"
            )
            label, link = "", ""
    if skipped:
        lines.append("")
        lines += [f"- skipped client `{name}`: {why}" for name, why in skipped]
    lines.append("")
    lines.append(f"All targets x requirements: [{HTML_FILENAME}]({HTML_FILENAME})")
    lines.append("")
    write_text(
        directory / HTML_FILENAME, render_html(relative, started_at=started_at, skipped=skipped)
    )
    return write_text(directory / "summary.md", "\n".join(lines))
