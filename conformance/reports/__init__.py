"""Reports of a run (docs/contracts.md#reports): `build_report()` makes a `RunReport`; writers
render it.

Usage, e.g. in the CLI: `report = build_report(spec, ledger, kind="server", name=url, seed=seed,
started_at=start, duration_s=elapsed, waivers=waivers, redact=credentials.redact)`, then
`write_reports(report, Path("reports"))` (conformance.json, junit.xml, summary.md, report.html),
then exit with `report.exit_code` (docs/command-line.md#exit-codes; only the CLI exits).
"""

from __future__ import annotations

from pathlib import Path

from conformance.reports import html, json_report, junit, markdown
from conformance.reports.model import RunReport, build_report, reproduction_command

__all__ = [
    "WRITERS",
    "RunReport",
    "build_report",
    "html",
    "json_report",
    "junit",
    "markdown",
    "reproduction_command",
    "write_reports",
]

# The four files of docs/contracts.md#reports, in the order they are written.
WRITERS = (json_report.write, junit.write, markdown.write, html.write)


def write_reports(report: RunReport, directory: Path | str) -> list[Path]:
    """Write conformance.json, junit.xml, summary.md and report.html into `directory`
    (created if needed), each atomically (`conformance.files.write_text`); returns their
    paths. `ReportWriteError` (exit 3) when one cannot be written: those before it are whole."""
    target = Path(directory)
    return [write(report, target) for write in WRITERS]
