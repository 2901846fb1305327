"""`junit.xml`: one testcase per requirement, for CI test dashboards (GitLab, Jenkins, ...).

`classname` is the requirement's level and `name` its id, so dashboards group by level.
`failed` becomes `<failure>` (evidence and reproduction in the body), `not_verified` and `waived`
become `<skipped>` with the reason: a waived failure must not redden a dashboard, yet stay visible.
Each testcase carries its `provenance` and `strictness` as properties; observations (what no
source describes) are one passing testcase each under `classname="observation"`, their evidence
in `system-out`, so dashboards show them without a red mark.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.files import write_text
from conformance.reports.model import RequirementResult, RunReport

__all__ = ["FILENAME", "render", "write"]

FILENAME = "junit.xml"
_SUITE_NAME = "ecs-conformance"


def render(report: RunReport) -> str:
    """The JUnit XML text of `report`."""
    s = report.summary
    root = ET.Element(
        "testsuites",
        name=_SUITE_NAME,
        tests=str(s.requirements),
        failures=str(s.failed),
        errors="0",
        skipped=str(s.not_verified + s.waived),
        time=f"{report.duration_s:.3f}",
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"{_SUITE_NAME} {report.target.kind} {report.target.name}",
        tests=str(s.requirements),
        failures=str(s.failed),
        errors="0",
        skipped=str(s.not_verified + s.waived),
        time=f"{report.duration_s:.3f}",
        # JUnit wants a local time without zone; the report keeps UTC.
        timestamp=report.started_at.removesuffix("Z"),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("suite_version", report.suite_version),
        ("document_sha256", report.spec.document_sha256),
        ("openapi_sha256", report.spec.openapi_sha256),
        ("target_kind", report.target.kind),
        ("target_name", report.target.name),
        ("target_fingerprint", report.target.fingerprint or ""),
        ("seed", "" if report.seed is None else str(report.seed)),
        ("exit_code", str(report.exit_code)),
        ("observations", str(len(report.observations))),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for r in report.requirements:
        _testcase(suite, r)
    for index, o in enumerate(report.observations, 1):
        case = ET.SubElement(
            suite, "testcase", classname="observation", name=f"{index}. {o.kind}", time="0"
        )
        lines = [o.text, f"seen {o.count} time(s), first by {o.test}"]
        if o.requirement:
            lines.append(f"under requirement {o.requirement}")
        if o.evidence:
            lines += ["", o.evidence]
        ET.SubElement(case, "system-out").text = "\n".join(lines)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    """Write `junit.xml` into `directory`; returns its path."""
    path = Path(directory) / FILENAME
    return write_text(path, render(report))


def _testcase(suite: ET.Element, r: RequirementResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=r.level, name=r.id, time="0")
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="provenance", value=r.provenance)
    ET.SubElement(props, "property", name="strictness", value=r.strictness)
    if r.verdict == "failed":
        failure = ET.SubElement(case, "failure", message=r.reason, type="RequirementFailed")
        failure.text = _failure_body(r)
    elif r.verdict == "waived":
        ET.SubElement(case, "skipped", message=r.reason, type="waived")
    elif r.verdict == "not_verified":
        ET.SubElement(case, "skipped", message=r.reason, type="not_verified")
    lines = [f"requirement {r.id} ({r.source}): {r.text}"]
    lines += [f"test: {t}" for t in r.tests]
    if r.waiver_unneeded:
        lines.append(f"waiver unneeded: {r.id} passes; remove its waiver")
    ET.SubElement(case, "system-out").text = "\n".join(lines)


def _failure_body(r: RequirementResult) -> str:
    parts = [f"{r.id}: {r.text}"]
    for test, evidence, command in zip(r.failed_tests, r.evidence, r.reproduce, strict=True):
        parts.append(f"--- {test}\n{evidence}\nreproduce: {command}")
    return "\n\n".join(parts)
