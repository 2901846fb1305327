"""The vendor's API metadata as a second, checked source (`spec/metadata/*.json`).

Alibaba Cloud publishes, for its SDK generators, a machine-readable description of each
operation: HTTP methods and, per parameter, name, position, type, format, style and required.
It is not an input of the generator. `compare_operation` holds a generated OpenAPI operation
against the metadata entry of the same Action and lists every disagreement by name, so that
`spec check` says what moved when Alibaba changes the document or the metadata (drift
detection). An Action the metadata does not describe is said, not failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import resources
from conformance.errors import SpecError

__all__ = [
    "METADATA_DIR",
    "Drift",
    "MetadataComparison",
    "MetadataEntry",
    "MetadataFile",
    "MetadataParameter",
    "compare_operation",
    "default_metadata_files",
    "load_metadata",
]

METADATA_DIR = "metadata"


@dataclass(frozen=True)
class MetadataParameter:
    """One parameter as the metadata describes it."""

    name: str
    position: str  # lower-case: query, body, header, ...
    type: str
    format: str | None
    style: str | None  # repeatList, flat, json... (None: a plain value)
    required: bool


@dataclass(frozen=True)
class MetadataEntry:
    """One operation (`apis.<Action>`) of the metadata."""

    action: str
    methods: tuple[str, ...]  # upper-case
    parameters: tuple[MetadataParameter, ...]

    def parameter(self, name: str) -> MetadataParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class MetadataFile:
    """A metadata file: product, version, style and its operations."""

    path: Path
    product: str
    version: str
    style: str
    entries: Mapping[str, MetadataEntry]


def default_metadata_files(spec_dir: Path | None = None) -> tuple[Path, ...]:
    """The vendored metadata files: `spec/metadata/*.json`."""
    base = (spec_dir or resources.spec_dir()) / METADATA_DIR
    return tuple(sorted(base.glob("*.json")))


def load_metadata(path: Path) -> MetadataFile:
    """Read one metadata file; a file of another shape is a SpecError that says what is wrong."""
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("the metadata file does not exist", path=where) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(f"the metadata file cannot be read as JSON: {exc}", path=where) from None
    info = data.get("info") if isinstance(data, dict) else None
    apis = data.get("apis") if isinstance(data, dict) else None
    if not isinstance(info, dict) or not isinstance(apis, dict):
        raise SpecError(
            "the metadata file has no 'info' and 'apis' objects (is it an API metadata file?)",
            path=where,
        )
    entries = {str(action): _entry(str(action), api, where) for action, api in apis.items()}
    return MetadataFile(
        path=path,
        product=str(info.get("product", "")),
        version=str(info.get("version", "")),
        style=str(info.get("style", "")),
        entries=entries,
    )


def _entry(action: str, api: Any, where: str) -> MetadataEntry:
    if not isinstance(api, dict):
        raise SpecError(f"the metadata's 'apis.{action}' is not an object", path=where)
    params: list[MetadataParameter] = []
    for n, item in enumerate(api.get("parameters") or ()):
        schema = item.get("schema") if isinstance(item, dict) else None
        if not isinstance(schema, dict) or "name" not in item:
            raise SpecError(
                f"the metadata's 'apis.{action}.parameters[{n}]' has no name or schema",
                path=where,
            )
        params.append(
            MetadataParameter(
                name=str(item["name"]),
                position=str(item.get("in", "query")).lower(),
                type=str(schema.get("type", "string")),
                format=None if schema.get("format") is None else str(schema["format"]),
                style=None if item.get("style") is None else str(item["style"]),
                required=bool(schema.get("required", False)),
            )
        )
    return MetadataEntry(
        action=action,
        methods=tuple(str(m).upper() for m in api.get("methods") or ()),
        parameters=tuple(params),
    )


@dataclass(frozen=True)
class Drift:
    """One disagreement between the generated spec and the metadata."""

    subject: str  # a parameter name, or "methods"
    aspect: str  # methods, presence, position, type, format, style, required
    spec: str
    metadata: str

    def line(self) -> str:
        """`ForceStop: type string in the spec, boolean in the metadata`."""
        label = f"{self.aspect} " if self.aspect in _LABELLED else ""
        return f"{self.subject}: {label}{self.spec} in the spec, {self.metadata} in the metadata"


# Aspects whose values need their name to read ("type boolean"); "optional"/"listed" do not.
_LABELLED = frozenset({"position", "type", "format", "style"})


@dataclass(frozen=True)
class MetadataComparison:
    """What `compare_operation` found for one Action and one metadata file."""

    action: str
    source: str  # the metadata file's name
    found: bool  # does the file describe the Action?
    drift: tuple[Drift, ...] = ()
    compared: int = 0  # parameters compared
    notes: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.drift)

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        if not self.found:
            return [f"metadata: {self.action} is not in {self.source}: not compared"]
        if not self.drift:
            lines = [
                f"metadata: {self.action} agrees with {self.source} "
                f"(methods, {self.compared} parameters: names, positions, types, required)"
            ]
        else:
            lines = [
                f"metadata drift: {self.action} disagrees with {self.source} "
                f"({len(self.drift)} difference(s))"
            ]
            lines += [f"  {d.line()}" for d in self.drift]
        lines += [f"  note: {n}" for n in self.notes]
        return lines


def _operation_parameters(operation: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The operation's own parameters (the document's), without the common ones."""
    out: dict[str, Mapping[str, Any]] = {}
    for p in operation.get("parameters") or ():
        if p.get("x-common") or not str(p.get("x-source", "")).startswith("document:"):
            continue
        if p.get("name") == "Action":  # a common parameter the document also lists
            continue
        out[str(p["name"])] = p
    return out


def compare_operation(openapi: Mapping[str, Any], metadata: MetadataFile) -> MetadataComparison:
    """Hold the generated OpenAPI document against `metadata`'s entry for the same Action:
    HTTP methods, and per parameter presence, position, type (and format where both give one),
    style and required."""
    operations = openapi["paths"]["/"]
    first = next(iter(operations.values()))
    action = str(first["x-action"])
    source = metadata.path.name
    entry = metadata.entries.get(action)
    if entry is None:
        return MetadataComparison(action, source, found=False)
    drift: list[Drift] = []
    methods = sorted(m.upper() for m in operations)
    if methods != sorted(entry.methods):
        drift.append(Drift("methods", "methods", _list(methods), _list(sorted(entry.methods))))
    own = _operation_parameters(first)
    hidden = set(_hidden(first))
    notes: list[str] = []
    compared = 0
    for name, param in own.items():
        meta = entry.parameter(name)
        if meta is None:
            drift.append(Drift(name, "presence", "listed", "absent"))
            continue
        compared += 1
        drift += _parameter_drift(name, param, meta)
    for meta in entry.parameters:
        if meta.name in own:
            continue
        if meta.name in hidden:
            continue  # hidden by the document, listed by the profile's hidden_parameters
        drift.append(Drift(meta.name, "presence", "absent", "listed"))
    missing_hidden = sorted(hidden - {p.name for p in entry.parameters})
    if missing_hidden:
        notes.append(
            "the profile's hidden parameters "
            f"{', '.join(missing_hidden)} are not in this metadata entry (not compared)"
        )
    return MetadataComparison(action, source, True, tuple(drift), compared, tuple(notes))


def _hidden(operation: Mapping[str, Any]) -> Iterable[str]:
    hidden = (operation.get("x-protocol") or {}).get("hidden_parameters") or {}
    return [str(n) for n in hidden.get("names") or ()]


def _parameter_drift(name: str, param: Mapping[str, Any], meta: MetadataParameter) -> list[Drift]:
    out: list[Drift] = []
    schema = param.get("schema") or {}
    position = str(param.get("x-position") or param.get("in") or "query").lower()
    if position != meta.position:
        out.append(Drift(name, "position", position, meta.position))
    kind = str(schema.get("type", "string"))
    if kind != meta.type:
        out.append(Drift(name, "type", kind, meta.type))
    elif schema.get("format") and meta.format and schema["format"] != meta.format:
        out.append(Drift(name, "format", str(schema["format"]), meta.format))
    style = param.get("x-style")
    if (style or meta.style) and style != meta.style:
        out.append(Drift(name, "style", str(style or "none"), str(meta.style or "none")))
    required = bool(param.get("required"))
    if required != meta.required:
        out.append(Drift(name, "required", _required(required), _required(meta.required)))
    return out


def _required(value: bool) -> str:
    return "required" if value else "optional"


def _list(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"
