"""`spec build` and `spec check`: generate the OpenAPI file and the catalogue, or prove them fresh.

Generation is pure and byte-stable (same document + profile -> same bytes), so `check_spec`
regenerates in memory and compares with the committed files (docs/architecture.md#the-spec-pipeline;
`spec check` exits 1 when they differ). Both also hold each generated operation against the
vendor's API metadata (`spec/metadata/`, a second source): `spec check` fails on any
disagreement, `spec build` reports it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from conformance import resources
from conformance.errors import SpecError
from conformance.spec.catalogue import build_requirements, requirements_document
from conformance.spec.document import parse_document
from conformance.spec.metadata import (
    MetadataComparison,
    compare_operation,
    default_metadata_files,
    load_metadata,
)
from conformance.spec.model import Requirement
from conformance.spec.openapi import build_openapi, dump_yaml
from conformance.spec.profile import PROFILE_FILE, load_profile, profile_sha256

__all__ = [
    "DEFAULT_DOCUMENT",
    "BuildResult",
    "CheckResult",
    "GeneratedSpec",
    "build_spec",
    "check_spec",
    "generate",
    "openapi_name",
    "requirements_name",
]

DEFAULT_DOCUMENT = Path("source") / "RebootInstance.txt"


def openapi_name(action: str) -> str:
    """File name of an action's OpenAPI description."""
    return f"{action}.openapi.yaml"


def requirements_name(action: str) -> str:
    """File name of an action's requirement catalogue."""
    return f"{action}.requirements.yaml"


@dataclass(frozen=True)
class GeneratedSpec:
    """The two generated files, in memory."""

    action: str
    openapi_text: str
    requirements_text: str
    requirements: tuple[Requirement, ...]
    document_sha256: str
    profile_sha256: str

    def compare_metadata(self, files: tuple[Path, ...]) -> tuple[MetadataComparison, ...]:
        """This operation held against each metadata file (see `spec.metadata`)."""
        openapi = yaml.safe_load(self.openapi_text)
        return tuple(compare_operation(openapi, load_metadata(f)) for f in files)


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"the {what} does not exist", path=str(path)) from None
    except OSError as exc:
        raise SpecError(
            f"the {what} cannot be read: {exc.strerror or exc}", path=str(path)
        ) from None


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.name


def generate(document: Path, out_dir: Path, profile_path: Path | None = None) -> GeneratedSpec:
    """Parse `document`, merge the profile, render both files (nothing is written)."""
    data = _read_bytes(document, "document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            "the document is not UTF-8 text",
            path=str(document),
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    op = parse_document(text, path=str(document))
    profile_path = profile_path or resources.spec_dir() / PROFILE_FILE
    profile = load_profile(profile_path).for_action(op.action)
    doc_sha = hashlib.sha256(data).hexdigest()
    prof_sha = profile_sha256(profile_path)
    rel = _relative(document, out_dir)
    openapi = build_openapi(
        op, profile, document_sha256=doc_sha, profile_sha256=prof_sha, document=rel
    )
    reqs = build_requirements(op, profile)
    catalogue = requirements_document(
        op, reqs, document=rel, document_sha256=doc_sha, profile_sha256=prof_sha
    )
    return GeneratedSpec(
        action=op.action,
        openapi_text=dump_yaml(openapi),
        requirements_text=dump_yaml(catalogue),
        requirements=reqs,
        document_sha256=doc_sha,
        profile_sha256=prof_sha,
    )


def _catalogue_index(text: str | None) -> tuple[dict[str, tuple[str, str, str]], str | None]:
    """id -> (level, kind, text) and the document hash of a catalogue file's text."""
    if text is None:
        return {}, None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    index: dict[str, tuple[str, str, str]] = {}
    for item in data.get("requirements") or []:
        if isinstance(item, dict) and "id" in item:
            index[str(item["id"])] = (
                str(item.get("level")),
                str(item.get("kind")),
                str(item.get("text")),
            )
    sha = data.get("document_sha256")
    return index, str(sha) if sha is not None else None


def _diff(
    old: Mapping[str, tuple[str, str, str]], new: Mapping[str, tuple[str, str, str]]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    added = tuple(i for i in new if i not in old)
    removed = tuple(i for i in old if i not in new)
    changed = tuple(i for i in new if i in old and old[i] != new[i])
    return added, removed, changed


def _new_index(reqs: tuple[Requirement, ...]) -> dict[str, tuple[str, str, str]]:
    return {r.id: (r.level, r.kind, r.text) for r in reqs}


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class BuildResult:
    """What `build_spec` wrote, and how the catalogue moved against the previous one."""

    action: str
    openapi_path: Path
    requirements_path: Path
    requirement_count: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    document_sha256: str
    previous_document_sha256: str | None
    first_build: bool
    metadata: tuple[MetadataComparison, ...] = ()

    @property
    def document_changed(self) -> bool:
        """Did the document hash differ from the previous catalogue's?"""
        return (
            self.previous_document_sha256 is not None
            and self.previous_document_sha256 != self.document_sha256
        )

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        lines = [
            f"wrote {self.openapi_path}",
            f"wrote {self.requirements_path} ({self.requirement_count} requirements)",
        ]
        if self.first_build:
            lines.append("no previous catalogue at that place: every requirement is new")
            return lines + _metadata_lines(self.metadata)
        if self.document_changed:
            lines.append(
                "document changed: sha256 "
                f"{self.previous_document_sha256} -> {self.document_sha256}"
            )
        if not (self.added or self.removed or self.changed):
            lines.append("requirements unchanged")
        lines += _id_lines(self.added, self.removed, self.changed)
        return lines + _metadata_lines(self.metadata)


def _metadata_lines(comparisons: tuple[MetadataComparison, ...]) -> list[str]:
    return [line for c in comparisons for line in c.summary_lines()]


def _id_lines(
    added: tuple[str, ...], removed: tuple[str, ...], changed: tuple[str, ...]
) -> list[str]:
    lines: list[str] = []
    for label, ids in (("added", added), ("removed", removed), ("changed", changed)):
        if ids:
            lines.append(f"{label} ({len(ids)}): {', '.join(ids)}")
    return lines


def build_spec(
    document: Path | None = None,
    out: Path | None = None,
    *,
    profile: Path | None = None,
    metadata: tuple[Path, ...] | None = None,
) -> BuildResult:
    """Generate `out` (OpenAPI) and its sibling `<Action>.requirements.yaml` from `document`.

    Defaults: `spec/source/RebootInstance.txt` -> `spec/RebootInstance.openapi.yaml`, with the
    shipped `spec/profile.yaml`; the result is compared with the shipped metadata files (or
    `metadata`), for information.
    """
    spec_dir = resources.spec_dir()
    document = Path(document) if document is not None else spec_dir / DEFAULT_DOCUMENT
    out_dir = Path(out).parent if out is not None else spec_dir
    generated = generate(document, out_dir, profile)
    out_path = Path(out) if out is not None else spec_dir / openapi_name(generated.action)
    req_path = out_path.parent / requirements_name(generated.action)
    previous_text = _read_text(req_path)
    old, old_sha = _catalogue_index(previous_text)
    added, removed, changed = _diff(old, _new_index(generated.requirements))
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(generated.openapi_text, encoding="utf-8")
        req_path.write_text(generated.requirements_text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            f"cannot write the spec: {exc.strerror or exc}", path=str(out_path)
        ) from None
    return BuildResult(
        action=generated.action,
        openapi_path=out_path,
        requirements_path=req_path,
        requirement_count=len(generated.requirements),
        added=added if previous_text is not None else (),
        removed=removed,
        changed=changed,
        document_sha256=generated.document_sha256,
        previous_document_sha256=old_sha,
        first_build=previous_text is None,
        metadata=generated.compare_metadata(
            default_metadata_files() if metadata is None else metadata
        ),
    )


@dataclass(frozen=True)
class CheckResult:
    """Whether the committed spec matches what the shipped document and profile generate, and
    whether it agrees with the vendor's metadata."""

    stale: bool
    summary: str
    stale_files: tuple[Path, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    document_changed: bool
    metadata: tuple[MetadataComparison, ...] = ()

    @property
    def drifted(self) -> bool:
        """Does some operation disagree with the metadata entry of its Action?"""
        return any(c.drifted for c in self.metadata)

    @property
    def failed(self) -> bool:
        """Stale files or metadata drift: `spec check` exits 1."""
        return self.stale or self.drifted

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        return self.summary.splitlines()


def check_spec(
    spec_dir: Path | None = None, *, metadata: tuple[Path, ...] | None = None
) -> CheckResult:
    """Regenerate every `source/*.txt` of `spec_dir` in memory and compare with its files;
    hold each operation against the metadata files (default: `spec_dir/metadata/*.json`)."""
    spec_dir = Path(spec_dir) if spec_dir is not None else resources.spec_dir()
    metadata_files = default_metadata_files(spec_dir) if metadata is None else metadata
    comparisons: list[MetadataComparison] = []
    documents = sorted((spec_dir / "source").glob("*.txt"))
    if not documents:
        raise SpecError(
            "no document under source/ (expected source/<Action>.txt)", path=str(spec_dir)
        )
    profile = spec_dir / PROFILE_FILE
    lines: list[str] = []
    stale_files: list[Path] = []
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    document_changed = False
    for document in documents:
        generated = generate(document, spec_dir, profile)
        openapi_path = spec_dir / openapi_name(generated.action)
        req_path = spec_dir / requirements_name(generated.action)
        for path, expected in (
            (openapi_path, generated.openapi_text),
            (req_path, generated.requirements_text),
        ):
            actual = _read_text(path)
            if actual is None:
                stale_files.append(path)
                lines.append(f"{path}: missing (run `ecs-conformance spec build`)")
            elif actual != expected:
                stale_files.append(path)
                lines.append(
                    f"{path}: differs from what {document.name} and {PROFILE_FILE} generate"
                )
        old, old_sha = _catalogue_index(_read_text(req_path))
        a, r, c = _diff(old, _new_index(generated.requirements))
        added += a
        removed += r
        changed += c
        if old_sha is not None and old_sha != generated.document_sha256:
            document_changed = True
            lines.append(
                f"{document.name} changed since the last build "
                f"(sha256 {old_sha} -> {generated.document_sha256})"
            )
        lines += _id_lines(a, r, c)
        comparisons += generated.compare_metadata(metadata_files)
    stale = bool(stale_files)
    head = (
        "spec is stale: run `ecs-conformance spec build`"
        if stale
        else f"spec is up to date ({len(documents)} document(s))"
    )
    if not metadata_files:
        lines.append("metadata: no metadata file to compare with")
    lines += _metadata_lines(tuple(comparisons))
    return CheckResult(
        stale=stale,
        summary="\n".join([head, *lines]),
        stale_files=tuple(stale_files),
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        document_changed=document_changed,
        metadata=tuple(comparisons),
    )
