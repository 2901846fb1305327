"""`summary.md`: the run at a glance, fit for a CI job summary (`$GITHUB_STEP_SUMMARY`).

Order: the verdict and why, a table of counts per level, the failures with their reproduction,
waivers to remove, expired waivers, the observations (never failing), then what was waived or
not verified. Text from tests and
targets is escaped (inline) or fenced (evidence), and long evidence is cut: job summaries are
capped at 1 MiB, and `report.html` has everything.
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance.files import write_text
from conformance.reports.model import (
    Counts,
    ObservationEntry,
    RequirementResult,
    RunReport,
    WaiverEntry,
)

__all__ = ["FILENAME", "render", "write"]

FILENAME = "summary.md"
_MAX_FAILURES = 50
_MAX_EVIDENCE = 4000
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]#|~])")


def render(report: RunReport) -> str:
    """The Markdown text of `report`."""
    out: list[str] = []
    verdict = "✅ conformant" if report.conformant else "❌ non-conformant"
    out.append(f"# ECS RebootInstance conformance: {verdict}")
    out.append("")
    t = report.target
    seed = "none" if report.seed is None else f"`{report.seed}`"
    out.append(
        f"**Target** {t.kind} `{_code(t.name)}`"
        + (f" ({_inline(t.fingerprint)})" if t.fingerprint else "")
        + f" · **suite** {_inline(report.suite_version)} · **seed** {seed}"
        + f" · **started** {report.started_at} · **duration** {report.duration_s:.1f} s"
        + f" · **tests** {report.stats.tests} · **checks** {report.stats.checks}"
        + f" · **observations** {len(report.observations)}"
        + f" · **exit code** {report.exit_code}"
    )
    out.append("")
    for reason in report.exit_reasons:
        out.append(f"- {_inline(reason)}")
    if report.exit_reasons:
        out.append("")
    out += _counts_table(report)
    out += _failures(report)
    out += _waiver_table(
        "Waivers to remove",
        "These requirements pass: delete their waivers.",
        report.unneeded_waivers,
    )
    out += _waiver_table(
        "Expired waivers",
        "An expired waiver fails the run: fix the requirement, or renew the waiver.",
        report.expired_waivers,
    )
    out += _observations(report.observations)
    out += _collapsed(report, "waived", "Waived")
    out += _collapsed(report, "not_verified", "Not verified")
    out.append(
        f"<sub>spec document sha256 `{report.spec.document_sha256[:12]}` · openapi sha256 "
        f"`{report.spec.openapi_sha256[:12]}` · full details in report.html and "
        "conformance.json</sub>"
    )
    return "\n".join(out) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    """Write `summary.md` into `directory`; returns its path."""
    path = Path(directory) / FILENAME
    return write_text(path, render(report))


def _counts_table(report: RunReport) -> list[str]:
    rows = [
        "## Requirements by level",
        "",
        "| Level | Requirements | Passed | Failed | Not verified | Waived |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for level, counts in report.summary.by_level.items():
        rows.append(_counts_row(_inline(level), counts))
    rows.append(_counts_row("**all**", report.summary))
    return [*rows, ""]


def _counts_row(label: str, c: Counts) -> str:
    cells = (c.requirements, c.passed, c.failed, c.not_verified, c.waived)
    return f"| {label} | " + " | ".join(str(n) for n in cells) + " |"


def _failures(report: RunReport) -> list[str]:
    failures = report.failures
    if not failures:
        return []
    out = [f"## Failures ({len(failures)})", ""]
    for r in failures[:_MAX_FAILURES]:
        out.append(
            f"### `{_code(r.id)}` ({_inline(r.level)}, {_inline(r.provenance)} source, "
            f"judged {_inline(r.strictness)})"
        )
        out.append("")
        out.append(f"> {_inline(r.text)}")
        out.append("")
        out.append(f"**Why:** {_inline(r.reason)}")
        out.append("")
        for test, evidence, command in zip(r.failed_tests, r.evidence, r.reproduce, strict=True):
            out.append(f"Reproduce `{_code(test)}`:")
            out.append("")
            out += _fenced(command, "sh")
            out.append("<details><summary>Evidence</summary>")
            out.append("")
            out += _fenced(_cut(evidence), "text")
            out.append("</details>")
            out.append("")
    if len(failures) > _MAX_FAILURES:
        out.append(f"... and {len(failures) - _MAX_FAILURES} more failures: see report.html.")
        out.append("")
    return out


def _observations(observations: list[ObservationEntry]) -> list[str]:
    if not observations:
        return []
    out = [
        f"<details><summary>Observations ({len(observations)}): what no source describes, "
        "never failing</summary>",
        "",
        "| Kind | Seen | Requirement | What | Test |",
        "|---|---:|---|---|---|",
    ]
    for o in observations[:_MAX_FAILURES]:
        out.append(
            f"| {_inline(o.kind)} | {o.count} | `{_code(o.requirement or '-')}` | "
            f"{_inline(o.text)} | `{_code(o.test)}` |"
        )
    if len(observations) > _MAX_FAILURES:
        out.append(f"... and {len(observations) - _MAX_FAILURES} more: see report.html.")
    return [*out, "", "</details>", ""]


def _waiver_table(title: str, advice: str, waivers: list[WaiverEntry]) -> list[str]:
    if not waivers:
        return []
    out = [f"## {title} ({len(waivers)})", "", advice, ""]
    out += ["| Requirement | Reason | Link | Expires |", "|---|---|---|---|"]
    for w in waivers:
        out.append(f"| `{_code(w.id)}` | {_inline(w.reason)} | {_inline(w.link)} | {w.expires} |")
    return [*out, ""]


def _collapsed(report: RunReport, verdict: str, title: str) -> list[str]:
    rows: list[RequirementResult] = [r for r in report.requirements if r.verdict == verdict]
    if not rows:
        return []
    out = [f"<details><summary>{title} ({len(rows)})</summary>", ""]
    out += ["| Requirement | Level | Strictness | Reason |", "|---|---|---|---|"]
    out += [
        f"| `{_code(r.id)}` | {_inline(r.level)} | {_inline(r.strictness)} | {_inline(r.reason)} |"
        for r in rows
    ]
    return [*out, "", "</details>", ""]


def _inline(text: str) -> str:
    """One line of plain text, safe inside a table cell: no Markdown, no HTML."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _INLINE_SPECIALS.sub(r"\\\1", text)


def _code(text: str) -> str:
    """Text for a single-backtick code span (inside a table cell too)."""
    text = " ".join(text.split()).replace("`", "'").replace("|", "\\|")
    return text


def _fenced(text: str, language: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text.rstrip("\n"), fence, ""]


def _cut(text: str) -> str:
    if len(text) <= _MAX_EVIDENCE:
        return text
    return text[:_MAX_EVIDENCE] + f"\n[... {len(text) - _MAX_EVIDENCE} more characters]"
