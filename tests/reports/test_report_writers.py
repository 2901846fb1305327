"""The four files of docs/contracts.md#reports: conformance.json (schema), junit.xml, summary.md,
report.html."""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from report_builders import (
    CURL,
    SECRET,
    XSS,
    build_mixed_report,
    build_simple_report,
    ledger_of,
    record,
    requirement,
)

from conformance.reports import json_report, junit, markdown, write_reports
from conformance.reports.model import RunReport

GOLDEN = Path(__file__).with_name("golden")
CONTRACT = ("suite_version", "spec", "target", "seed", "started_at", "duration_s", "summary")


@pytest.fixture
def written(tmp_path: Path, mixed_report: RunReport) -> dict[str, Path]:
    paths = write_reports(mixed_report, tmp_path / "nested" / "reports")
    return {p.name: p for p in paths}


def test_write_reports_creates_the_directory_and_the_four_files(
    written: dict[str, Path],
) -> None:
    assert sorted(written) == ["conformance.json", "junit.xml", "report.html", "summary.md"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written.values())


# -- conformance.json -----------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_report.load_schema())


def test_conformance_json_validates_and_holds_the_contract(written: dict[str, Path]) -> None:
    doc = json.loads(written["conformance.json"].read_text(encoding="utf-8"))
    jsonschema.validate(doc, json_report.load_schema(), cls=jsonschema.Draft202012Validator)
    json_report.validate(doc)
    assert set(CONTRACT) <= set(doc)
    assert set(doc["spec"]) >= {"document_sha256", "openapi_sha256"}
    assert doc["target"]["kind"] == "server" and doc["target"]["name"]
    assert set(doc["summary"]) >= {"requirements", "passed", "failed", "not_verified", "waived"}
    for r in doc["requirements"]:
        assert set(r) >= {"id", "level", "text", "verdict", "tests", "reason"}
    assert doc["outcome"] == {
        "conformant": False,
        "exit_code": 1,
        "reasons": ["2 requirement(s) failed without a waiver"],
    }


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["requirements"][0].update(verdict="ok"),
        lambda d: d["summary"].pop("waived"),
        lambda d: d["target"].update(kind="gateway"),
        lambda d: d["spec"].update(document_sha256="not-a-hash"),
        lambda d: d["requirements"][1].update(reproduce=[]),  # a failure without reproduction
        lambda d: d.update(started_at="yesterday"),
    ],
)
def test_the_schema_rejects_broken_reports(mixed_report: RunReport, break_it) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(mixed_report.to_dict())
    json_report.validate(doc)
    break_it(doc)
    with pytest.raises(jsonschema.ValidationError):
        json_report.validate(doc)


# -- junit.xml ------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_requirement(
    written: dict[str, Path], mixed_report: RunReport
) -> None:
    root = ET.parse(written["junit.xml"]).getroot()
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (r.level, r.id) for r in mixed_report.requirements
    ]
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(failures) == mixed_report.summary.failed == int(root.get("failures", "-1"))
    s = mixed_report.summary
    assert len(skipped) == s.not_verified + s.waived == int(root.get("skipped", "-1"))
    beta = next(c for c in cases if c.get("name") == "doc.beta.fails")
    body = beta.findtext("failure") or ""
    assert CURL in body and XSS in body  # escaped on disk, intact once parsed
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["seed"] == "1234" and props["exit_code"] == "1"


# -- summary.md -----------------------------------------------------------------------------


def _table_rows(markdown: str) -> dict[str, list[int]]:
    section = markdown.split("## Requirements by level", 1)[1].split("\n\n", 2)[1]
    rows: dict[str, list[int]] = {}
    for line in section.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("*")] = [int(c) for c in cells[1:]]
    return rows


def test_summary_numbers_equal_conformance_json(written: dict[str, Path]) -> None:
    doc = json.loads(written["conformance.json"].read_text(encoding="utf-8"))
    rows = _table_rows(written["summary.md"].read_text(encoding="utf-8"))
    fields = ("requirements", "passed", "failed", "not_verified", "waived")
    expected = {lv: [c[f] for f in fields] for lv, c in doc["summary"]["by_level"].items()}
    expected["all"] = [doc["summary"][f] for f in fields]
    assert rows == expected


def test_summary_lists_failures_with_reproductions_and_waivers_to_remove(
    written: dict[str, Path], mixed_report: RunReport
) -> None:
    md = written["summary.md"].read_text(encoding="utf-8")
    assert md.startswith("# ECS RebootInstance conformance: ❌ non-conformant")
    failures = md.split("## Failures (2)", 1)[1]
    for r in mixed_report.failures:
        assert f"### `{r.id}`" in failures
        assert f"\n{r.reproduce[0]}\n" in failures
    assert "## Waivers to remove (1)" in md and "`protocol.zeta.waiver-unneeded`" in md
    assert "Expired waivers" not in md
    expired = build_mixed_report(today=date(2027, 1, 1))
    assert "## Expired waivers (2)" in markdown.render(expired)


def test_summary_keeps_markup_from_the_target_inert(written: dict[str, Path]) -> None:
    md = written["summary.md"].read_text(encoding="utf-8")
    outside_fences = re.sub(r"(`{3,})[a-z]*\n.*?\n\1\n", "", md, flags=re.S)
    assert "<script>" not in outside_fences and "<img" not in outside_fences
    assert "The beta sentence \\| with a pipe &amp; &lt;markup&gt;." in md


def test_summary_matches_its_golden_file(mixed_report: RunReport) -> None:
    text = markdown.render(replace(mixed_report, suite_version="0.0.0"))
    golden = GOLDEN / "summary.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), "UPDATE_GOLDEN=1 rewrites the golden file"


# -- report.html (static checks; tests/reports/test_report_html_chromium.py renders it) ------


def test_html_is_self_contained(written: dict[str, Path]) -> None:
    html = written["report.html"].read_text(encoding="utf-8")
    assert not re.search(r"<(link|iframe|object|embed)\b", html, flags=re.I)
    assert not re.search(r"<script[^>]*\bsrc=", html, flags=re.I)
    assert not re.search(r"@import|url\(|@font-face", html, flags=re.I)
    # The only <script> is ours: the target's markup arrives escaped.
    assert html.count("<script>") == 1
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html


def test_html_shows_every_requirement_and_reproduction(
    written: dict[str, Path], mixed_report: RunReport
) -> None:
    html = written["report.html"].read_text(encoding="utf-8")
    for r in mixed_report.requirements:
        assert f'id="req-{r.id}"' in html
    assert "curl -s &#39;http://127.0.0.1:8080/?Action=Example&amp;DryRun=true&#39;" in html


# -- redaction --------------------------------------------------------------------------------


def test_no_written_report_contains_the_secret(written: dict[str, Path]) -> None:
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
        assert "***" in text, path.name


def test_an_empty_run_still_writes_valid_reports(tmp_path: Path) -> None:
    report = build_simple_report([], ledger_of())
    paths = {p.name: p for p in write_reports(report, tmp_path)}
    json_report.validate(json.loads(paths["conformance.json"].read_text(encoding="utf-8")))
    ET.parse(paths["junit.xml"])
    assert _table_rows(paths["summary.md"].read_text(encoding="utf-8")) == {"all": [0] * 5}
    assert report.exit_code == 1  # verified nothing


def test_control_characters_never_reach_the_xml(tmp_path: Path) -> None:
    req = requirement("doc.example.ctl")
    ledger = ledger_of(
        record("t.py::a", [req.id], "failed", reason="\x1b[31mred\x00", evidence="a\x07b\x1b[0m")
    )
    path = junit.write(build_simple_report([req], ledger), tmp_path)
    failure = ET.parse(path).getroot().find("./testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "red"
