"""report.html rendered by a real browser: headless Chromium runs the page's inline script.

Checks the DOM after load: the matrix with every requirement id, the filter script ran (it writes
`data-filters-ready` and the shown count), a `#verdict=...` link filters, and the target's markup
in the evidence stayed text. Needs the Debian package `chromium` (.ci/run installs it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conformance.reports import html
from conformance.reports.model import RunReport

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"
)


def dump_dom(page: Path, profile: Path, fragment: str = "") -> str:
    """The DOM after load as headless Chromium serialises it; no network (no host resolves)."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri() + fragment,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def page(tmp_path: Path, mixed_report: RunReport) -> Path:
    return html.write(mixed_report, tmp_path)


def body_attr(dom: str, name: str) -> str | None:
    body = re.search(r"<body\b[^>]*>", dom)
    assert body, dom[:500]
    found = re.search(rf'\b{name}="([^"]*)"', body.group(0))
    return found.group(1) if found else None


def shown(dom: str) -> int:
    found = re.search(r'id="shown"[^>]*data-shown="(\d+)"|data-shown="(\d+)"[^>]*id="shown"', dom)
    assert found, "the shown-count element is missing"
    return int(found.group(1) or found.group(2))


def test_the_rendered_page_has_the_matrix_and_the_script_ran(
    page: Path, tmp_path: Path, mixed_report: RunReport
) -> None:
    dom = dump_dom(page, tmp_path / "profile")
    assert body_attr(dom, "data-filters-ready") == "true"
    assert 'id="matrix"' in dom
    for r in mixed_report.requirements:
        assert re.search(rf'<tr class="req {r.verdict}" id="req-{re.escape(r.id)}"', dom), r.id
    total = len(mixed_report.requirements)
    assert shown(dom) == total
    assert f"Showing all {total} requirements." in dom
    # The XSS payload in the evidence never ran, and is still there as text.
    assert body_attr(dom, "data-pwned") is None
    assert "<title>ECS RebootInstance conformance" in dom
    assert "&lt;script&gt;document.title=" in dom


def test_a_fragment_filters_by_verdict_and_level(
    page: Path, tmp_path: Path, mixed_report: RunReport
) -> None:
    dom = dump_dom(page, tmp_path / "profile", "#verdict=failed,waived&level=doc,interop")
    expected = [
        r
        for r in mixed_report.requirements
        if r.verdict in ("failed", "waived") and r.level in ("doc", "interop")
    ]
    assert len(expected) == 2
    assert shown(dom) == len(expected)
    visible = re.findall(r'<tr class="req [a-z_]+" id="req-([^"]+)"(?![^>]*\bhidden)[^>]*>', dom)
    assert visible == [r.id for r in expected]
