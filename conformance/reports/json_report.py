"""`conformance.json`: the machine-readable report (docs/contracts.md#conformancejson), described
by `conformance.schema.json` next to this module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.files import write_text
from conformance.reports.model import RunReport

__all__ = ["FILENAME", "SCHEMA_PATH", "load_schema", "render", "validate", "write"]

FILENAME = "conformance.json"
SCHEMA_PATH = Path(__file__).with_name("conformance.schema.json")


def render(report: RunReport) -> str:
    """The JSON text of `report` (UTF-8, indented, stable key order)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    """Write `conformance.json` into `directory`; returns its path."""
    path = Path(directory) / FILENAME
    return write_text(path, render(report))


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every `conformance.json` satisfies."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def validate(document: Any) -> None:
    """Raise `jsonschema.ValidationError` unless `document` is a valid `conformance.json`."""
    import jsonschema

    jsonschema.Draft202012Validator(
        load_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)
