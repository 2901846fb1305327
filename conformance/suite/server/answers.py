"""Judging one answer of a server, whoever provoked it: the server suite's tests (which arranged
the condition and predicted the answer) and the checking proxy (which only watched the request
go by) read an answer with these same functions, so both hold a server to the same sources,
as strictly as each source speaks.

Each function looks at one `WireResponse` and returns what is wrong with it as a `Mismatch`
(what was expected, what came), or None; none of them raises or decides which requirement
fails: the caller names the ids its evidence supports.

    >>> from conformance.spec import load_spec
    >>> from conformance.protocol.envelopes import parse_response
    >>> spec = load_spec()
    >>> r = parse_response(404, {"content-type": "application/json"}, b'{"Code": "X"}')
    >>> error_envelope_mismatch(spec, r).received
    'HTTP 404, missing RequestId, HostId, Message, Recommend'
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.protocol.envelopes import WireResponse
from conformance.spec.model import ErrorRow, Spec

__all__ = [
    "DRYRUN_PASSES",
    "STATUS_AND_CODE",
    "XML_EXACT_REQUIREMENT",
    "Mismatch",
    "content_type_verdict",
    "error_code_verdict",
    "error_envelope_mismatch",
    "error_row_ids",
    "error_rows_with_ids",
    "extra_fields",
    "format_mismatch",
    "request_id_mismatch",
    "sample_shape",
    "success_envelope_mismatch",
]

XML_EXACT_REQUIREMENT = "interop.content-type.xml-exact"
"""An `sdk` fact whose clients compare the whole Content-Type header (`content_type_verdict`)."""
STATUS_AND_CODE = "interop.error.status-and-code"
"""An error carries its documented HTTP status and its Code in the body, both."""
DRYRUN_PASSES = ("doc.dryrun.passes", "protocol.dryrun.outcome", "doc.param.DryRun.value.true")
"""What a DryRun=true call answered with the DryRun outcome (its status and message) verifies."""


@dataclass(frozen=True)
class Mismatch:
    """What an answer should have been, and what it was (the two lines of a failure)."""

    expected: str
    received: str


_MEMO: dict[tuple[int, str], tuple[Spec, Any]] = {}


def _memo(spec: Spec, key: str, make: Any) -> Any:
    """`make()` computed once per spec (a `Spec` is not hashable: its id, the spec kept alive
    beside the value so that the id cannot be reused)."""
    hit = _MEMO.get((id(spec), key))
    if hit is None or hit[0] is not spec:
        hit = (spec, make())
        _MEMO[(id(spec), key)] = hit
    return hit[1]


def sample_shape(spec: Spec, fmt: str) -> tuple[str | None, frozenset[str]]:
    """The XML root element (None for JSON) and the field names of the document's sample
    success response in `fmt` (`JSON` or `XML`)."""
    fmt = fmt.upper()
    shape: tuple[str | None, frozenset[str]] = _memo(
        spec, "sample-" + fmt, lambda: _sample_shape(spec, fmt)
    )
    return shape


def _sample_shape(spec: Spec, fmt: str) -> tuple[str | None, frozenset[str]]:
    text = spec.requirement(f"doc.sample.response.{fmt.lower()}").text
    if fmt == "JSON":
        return None, frozenset(json.loads(text))
    root = ET.fromstring(text.strip())
    return root.tag, frozenset(child.tag for child in root)


def format_mismatch(response: WireResponse, fmt: str) -> Mismatch | None:
    """The body is a readable `fmt` (`JSON` or `XML`) document."""
    r = response
    if r.format is not None and r.format.value == fmt and r.parse_error is None:
        return None
    return Mismatch(
        f"a {fmt} body",
        f"{r.format.value if r.format else 'unknown'} body ({r.parse_error or 'parsed'})",
    )


def content_type_verdict(
    spec: Spec, requirement: str, got: str | None, wanted: str
) -> tuple[bool, str]:
    """Does Content-Type `got` meet `wanted` as strictly as `requirement` is held? `exact`
    (and an sdk fact whose clients compare the whole header, such as the XML error type):
    the whole value, spaces and case aside; `observable`: the media type, which is all the
    official clients read for it. Returns the verdict and what was expected, as text."""

    def norm(value: str) -> str:
        return value.replace(" ", "").lower()

    strict = spec.requirement(requirement).strictness
    if strict == "observable" and requirement != XML_EXACT_REQUIREMENT:
        media = norm(wanted).split(";")[0]
        return norm(got or "").split(";")[0] == media, f"{media} (any parameters)"
    return norm(got or "") == norm(wanted), wanted


def success_envelope_mismatch(
    spec: Spec, response: WireResponse, fmt: str, action: str | None = None
) -> Mismatch | None:
    """A success answer has the shape of the document's sample response in `fmt`: every field
    of the sample, each a non-empty string, and (XML) the sample's root element (for `action`,
    by default the spec's own). Extra fields are not judged here (`extra_fields`)."""
    r = response
    root, fields = sample_shape(spec, fmt)
    data = r.data or {}
    if not (fields <= set(data) and all(isinstance(data[f], str) and data[f] for f in fields)):
        return Mismatch(f"the fields of the document's sample: {sorted(fields)}", f"{sorted(data)}")
    if root is not None and action is not None and action != spec.action:
        root = spec.profile.envelopes.success_xml_root.replace("{Action}", action)
    if root is not None and r.xml_root != root:
        return Mismatch(f"XML root <{root}>", f"<{r.xml_root}>")
    return None


def error_envelope_mismatch(spec: Spec, response: WireResponse) -> Mismatch | None:
    """An error answer is a 4xx/5xx carrying every field the profile's error envelope lists."""
    r = response
    fields = spec.profile.envelopes.error_fields
    data = r.data or {}
    missing = [f for f in fields if f not in data]
    if 400 <= r.status < 600 and not missing:
        return None
    return Mismatch(
        f"HTTP 4xx/5xx with fields {', '.join(fields)}",
        f"HTTP {r.status}" + (f", missing {', '.join(missing)}" if missing else ""),
    )


def request_id_mismatch(response: WireResponse) -> Mismatch | None:
    """The body carries a non-empty RequestId (every answer, success or error)."""
    rid = (response.data or {}).get("RequestId")
    if isinstance(rid, str) and rid:
        return None
    return Mismatch("a RequestId in the body", repr(rid))


def extra_fields(documented: Sequence[str], response: WireResponse) -> list[str]:
    """Envelope fields beyond the `documented` ones (an observation: no source forbids them)."""
    return sorted(set(response.data or ()) - set(documented))


def error_rows_with_ids(spec: Spec) -> list[tuple[ErrorRow, str]]:
    """Every row of the document's error table with its requirement id, in table order:
    `doc.error.<status>.<code>`, and `.message-<n>` for a code's n-th row."""
    seen: dict[str, int] = {}
    out = []
    for row in spec.errors:
        seen[row.code] = seen.get(row.code, 0) + 1
        rid = f"doc.error.{row.http_status}.{row.code}"
        out.append((row, rid if seen[row.code] == 1 else f"{rid}.message-{seen[row.code]}"))
    return out


def error_row_ids(spec: Spec, code: str) -> list[str]:
    """The requirement ids of the document's rows for `code` (empty when it has none)."""
    return [rid for row, rid in error_rows_with_ids(spec) if row.code == code]


def _error_patterns(spec: Spec) -> dict[int, tuple[re.Pattern[str], ...]]:
    patterns: dict[int, tuple[re.Pattern[str], ...]] = _memo(
        spec, "error-patterns", lambda: _compile_error_patterns(spec)
    )
    return patterns


def _compile_error_patterns(spec: Spec) -> dict[int, tuple[re.Pattern[str], ...]]:
    out: dict[int, list[re.Pattern[str]]] = {}
    for method in spec.openapi["paths"]["/"].values():
        for status, response in (method.get("responses") or {}).items():
            for entry in response.get("x-error-codes") or []:
                pattern = re.escape(str(entry["code"]))
                pattern = re.sub(r"\\\{[A-Za-z_]+\\\}", "[A-Za-z]+", pattern)
                out.setdefault(int(status), []).append(re.compile(pattern))
    return {status: tuple(patterns) for status, patterns in out.items()}


def error_code_verdict(spec: Spec, status: int, code: str | None) -> tuple[str | None, str]:
    """Judge an error answer's `Code` for HTTP `status`: `(requirement, text)` when a source
    contradicts it (no Code at all breaks the error envelope; a code the document lists, at a
    status none of its rows gives, breaks that row), `(None, text)` for an observation (a code
    the sources do not list), `(None, "")` when it is documented for that status."""
    if status < 400:
        return None, ""
    if code is None:
        return "protocol.envelope.error", f"HTTP {status} without an error Code"
    if any(p.fullmatch(code) for p in _error_patterns(spec).get(status, ())):
        return None, ""
    rows = [r for r in spec.errors if r.code == code]
    if rows:
        listed = sorted({r.http_status for r in rows})
        rid = f"doc.error.{rows[0].http_status}.{code}"
        return rid, f"HTTP {status} with Code {code}, which the document gives for {listed}"
    return None, f"HTTP {status} with Code {code}: a code the sources do not list for {status}"
