"""`report.html`: one self-contained page (docs/contracts.md#reports) with the traceability
matrix.

Document sentence, requirement id, tests and verdict per row; filters by level and verdict in
plain inline JavaScript; each failure's evidence and reproduction command. No network fetch: the
CSS and the script are inline, fonts are the system's. Every value is HTML-escaped by jinja2's
autoescape, and no report value is ever placed inside the script.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from conformance.files import write_text
from conformance.reports.model import RunReport
from conformance.verdicts import VERDICTS

__all__ = ["FILENAME", "LABELS", "TEMPLATE", "environment", "render", "short_test", "write"]

FILENAME = "report.html"
TEMPLATE = "report.html.j2"
_TEMPLATES = Path(__file__).with_name("templates")
LABELS = {
    "passed": "passed",
    "failed": "failed",
    "not_verified": "not verified",
    "waived": "waived",
}


def environment() -> jinja2.Environment:
    """The templates of every HTML page (a target's report and the run's overview): escaped,
    and a name the template does not get is an error, never an empty cell."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["short_test"] = short_test
    return env


def render(report: RunReport) -> str:
    """The HTML text of `report`."""
    template = environment().get_template(TEMPLATE)
    return template.render(report=report, verdicts=VERDICTS, labels=LABELS, zip=zip)


def short_test(nodeid: str) -> str:
    """A test's node id without its directories (`test_x.py::test_y[p]`); the page shows the
    full id as a tooltip."""
    path, sep, rest = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


def write(report: RunReport, directory: Path) -> Path:
    """Write `report.html` into `directory`; returns its path."""
    path = Path(directory) / FILENAME
    return write_text(path, render(report))
