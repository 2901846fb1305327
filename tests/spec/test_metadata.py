"""The vendor's API metadata as a second, checked source: `spec check` compares the generated
operation with the metadata entry of its Action and fails on drift."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conformance import resources
from conformance.cli import main
from conformance.errors import SpecError
from conformance.spec import build_spec, check_spec
from conformance.spec.metadata import compare_operation, default_metadata_files, load_metadata

SPEC_DIR = resources.spec_dir()
METADATA = SPEC_DIR / "metadata" / "ecs-2014-05-26.json"
OPENAPI = SPEC_DIR / "RebootInstance.openapi.yaml"
PAGES = Path(__file__).parent / "pages"


def _altered(tmp_path: Path, change: Any) -> Path:
    """A copy of the vendored metadata with `change(data)` applied."""
    data = json.loads(METADATA.read_text(encoding="utf-8"))
    change(data)
    out = tmp_path / METADATA.name
    out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return out


def _reboot_param(data: dict[str, Any], name: str) -> dict[str, Any]:
    params = data["apis"]["RebootInstance"]["parameters"]
    found: dict[str, Any] = next(p for p in params if p["name"] == name)
    return found


def test_the_vendored_file_is_unchanged_and_its_hash_noted() -> None:
    readme = (METADATA.parent / "README.md").read_text(encoding="utf-8")
    noted = re.search(r"sha256 of the vendored file: ([0-9a-f]{64})", readme)
    assert noted and noted.group(1) == hashlib.sha256(METADATA.read_bytes()).hexdigest()
    assert default_metadata_files() == (METADATA,)


def test_the_reboot_instance_spec_agrees_with_the_metadata() -> None:
    comparison = compare_operation(yaml.safe_load(OPENAPI.read_text()), load_metadata(METADATA))
    assert comparison.found and not comparison.drift, comparison.summary_lines()
    assert comparison.compared == 3
    result = check_spec()
    assert not result.failed and not result.drifted
    assert any("agrees with ecs-2014-05-26.json" in line for line in result.summary_lines())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: _reboot_param(d, "ForceStop")["schema"].update(type="string"),
            "ForceStop: type boolean in the spec, string in the metadata",
        ),
        (
            lambda d: _reboot_param(d, "DryRun")["schema"].update(required=True),
            "DryRun: optional in the spec, required in the metadata",
        ),
        (
            lambda d: _reboot_param(d, "InstanceId").update({"in": "body"}),
            "InstanceId: position query in the spec, body in the metadata",
        ),
        (
            lambda d: _reboot_param(d, "InstanceId").update(style="repeatList"),
            "InstanceId: style none in the spec, repeatList in the metadata",
        ),
        (
            lambda d: d["apis"]["RebootInstance"]["parameters"].append(
                {"name": "HibernationOptions", "in": "query", "schema": {"type": "string"}}
            ),
            "HibernationOptions: absent in the spec, listed in the metadata",
        ),
        (
            lambda d: d["apis"]["RebootInstance"]["parameters"].pop(),
            "DryRun: listed in the spec, absent in the metadata",
        ),
        (
            lambda d: d["apis"]["RebootInstance"].update(methods=["post"]),
            "methods: GET, POST in the spec, POST in the metadata",
        ),
    ],
    ids=["type", "required", "position", "style", "new-parameter", "gone-parameter", "methods"],
)
def test_drift_is_listed_by_name_and_fails(tmp_path: Path, change: Any, expected: str) -> None:
    altered = _altered(tmp_path, change)
    result = check_spec(metadata=(altered,))
    assert result.drifted and result.failed and not result.stale
    assert f"  {expected}" in result.summary_lines(), result.summary
    runner = CliRunner()
    out = runner.invoke(main, ["spec", "check", "--metadata", str(altered)])
    assert out.exit_code == 1, out.output
    assert "metadata drift: RebootInstance disagrees" in out.output and expected in out.output


def test_an_action_absent_from_the_metadata_is_said_not_failed(tmp_path: Path) -> None:
    altered = _altered(tmp_path, lambda d: d["apis"].pop("RebootInstance"))
    result = check_spec(metadata=(altered,))
    assert not result.failed
    assert "metadata: RebootInstance is not in ecs-2014-05-26.json: not compared" in result.summary
    built = build_spec(PAGES / "StopInstance.txt", tmp_path / "out" / "StopInstance.openapi.yaml")
    assert any("StopInstance is not in" in line for line in built.summary_lines())


def test_a_document_change_is_drift_too(tmp_path: Path) -> None:
    """When the document changes (here ForceStop printed as a String), check says what moved."""
    spec_dir = tmp_path / "spec"
    (spec_dir / "source").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "profile.yaml", spec_dir / "profile.yaml")
    shutil.copytree(SPEC_DIR / "metadata", spec_dir / "metadata")
    doc = spec_dir / "source" / "RebootInstance.txt"
    text = (SPEC_DIR / "source" / "RebootInstance.txt").read_text()
    doc.write_text(text.replace("ForceStop Query Boolean No", "ForceStop Query String No"))
    build_spec(doc, spec_dir / "RebootInstance.openapi.yaml")
    result = check_spec(spec_dir)
    assert not result.stale and result.drifted
    assert "  ForceStop: type string in the spec, boolean in the metadata" in result.summary_lines()


def test_a_broken_metadata_file_is_a_spec_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="cannot be read as JSON"):
        load_metadata(bad)
    bad.write_text("[]")
    with pytest.raises(SpecError, match="no 'info' and 'apis'"):
        load_metadata(bad)
    with pytest.raises(SpecError, match="does not exist"):
        load_metadata(tmp_path / "none.json")
