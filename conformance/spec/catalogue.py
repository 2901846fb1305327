"""The requirement catalogue: every normative fact of the document and the profile, with an id.

Ids are readable and stable (docs/architecture.md#the-spec-pipeline): they derive from names in the
document (parameter names, values, codes, statuses) or fixed profile keys, never from positions that
shift when the page gains a line, except `doc.description.<n>` for description bullets no rule
recognises.

Each requirement carries the provenance of its source fact (`doc` for every row of the page, the
profile's tag for the rest), and the catalogue file states the strictness that follows from it
(see `conformance.spec.model`). A fact the operation's profile layers do not give (the lifecycle
alternatives, retries, a financial lock) yields no requirement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from conformance.spec.model import Operation, Parameter, Requirement

if TYPE_CHECKING:
    from conformance.spec.profile import EffectiveProfile

__all__ = [
    "BulletFact",
    "build_requirements",
    "classify_bullet",
    "dryrun_sentences",
    "requirements_document",
]

_ONLY_STATE = re.compile(
    r"\bOnly instances (?:that are )?in the (?P<status>[A-Z]\w*)(?: \(\w+\))? state"
)
_CHANGES_TO = re.compile(r"\bchanges to (?P<status>[A-Z]\w*)")
_LOCK = re.compile(r'"LockReason"\s*:\s*"(?P<reason>\w+)"')
_FORCED = re.compile(r"\bforc(?:ed|ibly|e)\b", re.IGNORECASE)


@dataclass(frozen=True)
class BulletFact:
    """What one description bullet states, as the catalogue and the OpenAPI extensions read it."""

    kind: str  # state-precondition, state-after-call, forced-restart, lock, description
    value: str | None  # the status, lock reason or parameter name it names
    text: str


def classify_bullet(text: str, op: Operation) -> BulletFact:
    """Recognise the normative sentence shapes of the Description section."""
    m = _ONLY_STATE.search(text)
    if m:
        return BulletFact("state-precondition", m.group("status"), text)
    m = _CHANGES_TO.search(text)
    if m:
        return BulletFact("state-after-call", m.group("status"), text)
    m = _LOCK.search(text)
    if m:
        return BulletFact("lock", m.group("reason"), text)
    if _FORCED.search(text):
        for p in op.parameters:
            if p.is_boolean and re.search(
                rf"\({re.escape(p.name)}\)|\b{re.escape(p.name)}\b", text
            ):
                return BulletFact("forced-restart", p.name, text)
    return BulletFact("description", None, text)


def dryrun_sentences(param: Parameter) -> dict[str, str]:
    """The DryRun rules stated by the `true` valid value of a Boolean DryRun parameter.

    Keys: `no-side-effects`, `fails-like-the-call`, `passes` (only those the text states).
    """
    if param.name != "DryRun" or not param.is_boolean:
        return {}
    true = next((v for v in param.valid_values if v.value.lower() == "true"), None)
    if true is None:
        return {}
    found: dict[str, str] = {}
    for sentence in re.split(r"(?<=\.)\s+", true.description):
        s = sentence.strip()
        low = s.lower()
        if "not made" in low or "not actually" in low or "not executed" in low:
            found.setdefault("no-side-effects", s)
        elif "fails" in low or "failed" in low:
            found.setdefault("fails-like-the-call", s)
        elif "succeeds" in low or "passes" in low or "dryrunoperation" in low:
            found.setdefault("passes", s)
    return found


def _slug(value: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", value).strip("-")
    return slug or "empty"


def _line_of(op: Operation, needle: str, start: int) -> int:
    """1-based line at or after `start` whose text contains `needle` (or `start` if none)."""
    lines = op.source_lines
    probe = needle[:60]
    for i in range(max(start - 1, 0), len(lines)):
        if probe in lines[i]:
            return i + 1
    return start


def _row_text(op: Operation, line: int, fallback: str) -> str:
    if 0 < line <= len(op.source_lines):
        return op.source_lines[line - 1].strip()
    return fallback


def _doc_requirements(op: Operation) -> list[Requirement]:
    out: list[Requirement] = []

    def add(rid: str, kind: str, text: str, line: int) -> None:
        out.append(Requirement(rid, "doc", kind, text, f"document:{line}"))

    for n, bullet in enumerate(op.description, start=1):
        line = _line_of(op, bullet, 1)
        fact = classify_bullet(bullet, op)
        if fact.kind == "state-precondition" and fact.value:
            add(f"doc.state.only-{fact.value.lower()}", "state", bullet, line)
        elif fact.kind == "state-after-call" and fact.value:
            add(f"doc.state.{fact.value.lower()}-after-call", "state", bullet, line)
        elif fact.kind == "forced-restart" and fact.value:
            add(f"doc.{fact.value.lower()}.forced-restart", "forced-restart", bullet, line)
        elif fact.kind == "lock" and fact.value:
            add(f"doc.lock.{fact.value}", "lock", bullet, line)
        else:
            add(f"doc.description.{n}", "description", bullet, line)

    for p in op.parameters:
        row = _row_text(op, p.line, p.name)
        add(
            f"doc.param.{p.name}.{'required' if p.required else 'optional'}",
            "parameter",
            row,
            p.line,
        )
        add(f"doc.param.{p.name}.type", "type", row, p.line)
        if p.default is not None:
            m = re.search(rf"[^.]*Default value:?\s+{re.escape(p.default)}\.", p.description)
            text = m.group(0).strip() if m else f"Default value: {p.default}."
            add(f"doc.default.{p.name}", "default", text, _line_of(op, text, p.line))
        for v in p.valid_values:
            text = f"{v.value}: {v.description}" if v.description else v.value
            add(
                f"doc.param.{p.name}.value.{_slug(v.value)}",
                "valid-value",
                text,
                _line_of(op, text, p.line),
            )
        for key, sentence in dryrun_sentences(p).items():
            add(f"doc.dryrun.{key}", "dryrun", sentence, _line_of(op, sentence, p.line))

    for f in op.response_fields:
        add(
            f"doc.response.{f.name}",
            "response",
            f.description or _row_text(op, f.line, f.name),
            _line_of(op, f.description, f.line) if f.description else f.line,
        )

    for n, req in enumerate(op.sample_requests, start=1):
        first = req.splitlines()[0]
        rid = "doc.sample.request" if n == 1 else f"doc.sample.request.{n}"
        add(rid, "sample", req, _line_of(op, first, 1))
    for fmt in sorted(op.sample_responses):
        sample = op.sample_responses[fmt]
        add(
            f"doc.sample.response.{fmt.lower()}",
            "sample",
            sample,
            _line_of(op, sample.splitlines()[0], 1),
        )

    seen: dict[str, int] = {}
    for err in op.errors:
        seen[err.code] = seen.get(err.code, 0) + 1
        rid = f"doc.error.{err.http_status}.{err.code}"
        if seen[err.code] > 1:
            rid = f"{rid}.message-{seen[err.code]}"
        add(rid, "error", _row_text(op, err.line, err.code), err.line)
    return _unique(out)


def _common(profile: Mapping[str, Any], name: str) -> dict[str, Any]:
    for item in profile["common_parameters"]:
        if item.get("name") == name:
            return dict(item)
    return {"name": name, "description": ""}


def _profile_requirements(op: Operation, profile: EffectiveProfile) -> list[Requirement]:
    out: list[Requirement] = []

    def add(rid: str, level: str, kind: str, key: str, text: str | None = None) -> None:
        if not profile.has(key):
            return  # a fact of another layer: this operation's profile does not give it
        if text is None:
            node = _walk(profile, key)
            text = str(node["text"]) if isinstance(node, dict) and "text" in node else str(node)
        tag = profile.tag(key)
        if tag is None:
            raise ValueError(f"the profile gives no provenance tag for {key!r}")
        out.append(Requirement(rid, level, kind, text, f"profile:{profile.locate(key)}", tag))

    methods = [str(m) for m in profile["api"]["methods"]]
    for m in methods:
        add(
            f"protocol.method.{m}",
            "protocol",
            "method",
            "api.methods",
            f"{m} is an allowed method for {op.action} (api.methods: {', '.join(methods)}).",
        )
    add("protocol.params.merged", "protocol", "transport", "api.merged_parameters")
    add("protocol.signature.v2", "protocol", "signature", "signatures.v2")
    add("protocol.signature.v3", "protocol", "signature", "signatures.v3")
    add("protocol.signature.v2.algorithm", "protocol", "signature", "signatures.v2.algorithm")
    add(
        "protocol.signature.v3.signed-headers",
        "protocol",
        "signature",
        "signatures.v3.signed_headers",
    )
    add("protocol.signature.mismatch", "protocol", "signature", "gateway_errors.signature_mismatch")
    add("protocol.nonce.replay", "protocol", "nonce", "gateway_errors.nonce_used")
    add("protocol.nonce.unique", "protocol", "nonce", "clients.nonce")
    add("protocol.timestamp.expired", "protocol", "timestamp", "gateway_errors.timestamp_expired")
    add("protocol.timestamp.format", "protocol", "timestamp", "gateway_errors.timestamp_format")
    add(
        "protocol.access-key.unknown",
        "protocol",
        "authentication",
        "gateway_errors.access_key_not_found",
    )
    add("protocol.action.unknown", "protocol", "action", "gateway_errors.action_not_found")
    action = _common(profile, "Action")
    add(
        "protocol.action.value",
        "protocol",
        "action",
        "common_parameters.Action",
        f"Action: {action.get('description', '')} Value {op.action}.".replace("  ", " "),
    )
    version = _common(profile, "Version")
    add(
        "protocol.version.value",
        "protocol",
        "version",
        "common_parameters.Version",
        f"Version: {version.get('description', '')} "
        f"Value {version.get('value', profile['api']['version'])}.",
    )
    add("protocol.param.missing", "protocol", "parameter", "gateway_errors.missing_parameter")
    add("protocol.param.invalid", "protocol", "parameter", "gateway_errors.invalid_parameter")
    fmt = _common(profile, "Format")
    fmt_text = str(fmt.get("description", ""))
    add("protocol.format.json", "protocol", "format", "common_parameters.Format.enum", fmt_text)
    add("protocol.format.xml", "protocol", "format", "common_parameters.Format.enum", fmt_text)
    add(
        "protocol.format.default",
        "protocol",
        "format",
        "common_parameters.Format.default",
        fmt_text,
    )
    add(
        "protocol.format.case-insensitive",
        "protocol",
        "format",
        "common_parameters.Format.case_insensitive",
        fmt_text,
    )
    add("protocol.envelope.success", "protocol", "envelope", "envelopes.success")
    add("protocol.envelope.error", "protocol", "envelope", "envelopes.error")
    add("protocol.request-id.unique", "protocol", "envelope", "envelopes.request_id")
    types = profile["formats"]["content_types"]
    add(
        "protocol.content-type",
        "protocol",
        "envelope",
        "formats.content_types",
        "; ".join(f"{k}: {types[k]}" for k in sorted(types)),
    )
    add("protocol.lock.financial", "protocol", "lock", "conditions.lock_financial")
    add("protocol.dryrun.outcome", "protocol", "dryrun", "dryrun")
    add("protocol.fault.injected", "protocol", "fault", "conditions.injected_fault")

    booleans_text = str(profile["booleans"]["text"])
    add(
        "interop.boolean.capitalised",
        "interop",
        "boolean",
        "booleans.sent_by.python",
        booleans_text,
    )
    add("interop.boolean.lowercase", "interop", "boolean", "booleans.sent_by.node", booleans_text)
    add(
        "interop.boolean.uppercase",
        "interop",
        "boolean",
        "booleans.case_insensitive",
        booleans_text,
    )
    add("interop.params.tolerated", "interop", "parameter", "tolerated_parameters")
    hidden = profile.get("hidden_parameters") or {}
    names = ", ".join(str(n) for n in hidden.get("names", []))
    add(
        "interop.params.hidden",
        "interop",
        "parameter",
        "hidden_parameters",
        str(
            hidden.get("text")
            or f"The metadata also lists hidden {names}: a server accepts and ignores them."
        ),
    )
    add("interop.encoding.plus-space", "interop", "encoding", "signatures.v2.plus_space")
    add("interop.v3.json", "interop", "format", "formats.v3_json")
    add("interop.content-type.xml-exact", "interop", "envelope", "formats")
    add("interop.error.status-and-code", "interop", "envelope", "envelopes.both_signals")
    add(
        "interop.signature-mismatch.colon",
        "interop",
        "signature",
        "gateway_errors.signature_mismatch.colon",
    )
    add("interop.transient.stopping", "interop", "state", "lifecycle.transient_alternatives")
    add("interop.retries.none", "interop", "retries", "clients.retries")
    add("interop.retries.after-5xx", "interop", "retries", "clients.retries_after_5xx")
    add("interop.client.unusable-response", "interop", "client", "clients.unusable_response")
    return out


def _walk(node: Any, key: str) -> Any:
    for part in key.split("."):
        if isinstance(node, list):
            node = next(i for i in node if isinstance(i, Mapping) and i.get("name") == part)
        else:
            node = node[part]
    return node


def _unique(items: Iterable[Requirement]) -> list[Requirement]:
    """Keep ids unique: a second bullet of the same shape gets `-2`, `-3`..."""
    out: list[Requirement] = []
    seen: dict[str, int] = {}
    for r in items:
        if r.id in seen:
            seen[r.id] += 1
            r = replace(r, id=f"{r.id}-{seen[r.id]}")
        else:
            seen[r.id] = 1
        out.append(r)
    return out


def build_requirements(op: Operation, profile: EffectiveProfile) -> tuple[Requirement, ...]:
    """Every requirement of the document (level doc) and the profile (protocol, interop)."""
    reqs = _doc_requirements(op) + _profile_requirements(op, profile)
    ids = [r.id for r in reqs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate requirement ids: {duplicates}"
    return tuple(reqs)


def requirements_document(
    op: Operation,
    requirements: Iterable[Requirement],
    *,
    document: str,
    document_sha256: str,
    profile_sha256: str,
) -> dict[str, Any]:
    """The catalogue file's content (`spec/<Action>.requirements.yaml`)."""
    return {
        "action": op.action,
        "document": document,
        "document_sha256": document_sha256,
        "profile_sha256": profile_sha256,
        "requirements": [
            {
                "id": r.id,
                "level": r.level,
                "kind": r.kind,
                "text": r.text,
                "source": r.source,
                "provenance": r.provenance,
                "strictness": r.strictness,
            }
            for r in requirements
        ],
    }
