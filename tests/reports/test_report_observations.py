"""Observations (what no source describes) and strictness (how a requirement is judged) in
every report format; observations never fail the gate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
from report_builders import SECRET, build_simple_report, ledger_of, record, requirement

from conformance.config import Credentials
from conformance.reports import json_report, junit, markdown, write_reports

UNSURE = replace(requirement("protocol.example.unsure"), provenance="unsure")
SEEN = {
    "kind": "undocumented-code",
    "text": "HTTP 400 with Code InvalidParameter.Format: a code the document does not list",
    "requirement": "protocol.example.unsure",
    "evidence": f"POST / ... AccessKeySecret={SECRET}",
}


def _report() -> object:
    ledger = ledger_of(
        record("t.py::test_a", [UNSURE.id], "passed", observations=[dict(SEEN)]),
        record("t.py::test_b", [UNSURE.id], "passed", observations=[dict(SEEN)]),
    )
    redact = Credentials("id", SECRET).redact
    return build_simple_report([UNSURE], ledger, redact=redact)


def test_observations_are_counted_listed_and_never_fail(tmp_path: Path) -> None:
    report = _report()
    assert report.conformant and report.exit_code == 0  # type: ignore[attr-defined]
    (entry,) = report.observations  # type: ignore[attr-defined]
    assert entry.count == 2 and entry.test == "t.py::test_a"
    assert SECRET not in entry.evidence
    written = {p.name: p for p in write_reports(report, tmp_path)}  # type: ignore[arg-type]
    doc = json.loads(written["conformance.json"].read_text(encoding="utf-8"))
    jsonschema.validate(doc, json_report.load_schema(), cls=jsonschema.Draft202012Validator)
    assert doc["observations"][0]["kind"] == "undocumented-code"
    assert doc["requirements"][0]["strictness"] == "any-variant"
    xml = junit.render(report)  # type: ignore[arg-type]
    assert 'classname="observation"' in xml and 'name="strictness" value="any-variant"' in xml
    assert "<failure" not in xml
    md = markdown.render(report)  # type: ignore[arg-type]
    assert "Observations (1)" in md and "**observations** 1" in md
    html = written["report.html"].read_text(encoding="utf-8")
    assert 'id="observations"' in html and "any-variant" in html
