"""OpenAPI generation, the requirement catalogue, `load_spec`, and `spec build`/`spec check`."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from conformance import resources
from conformance.errors import SpecError
from conformance.spec import build_spec, check_spec, load_spec, read_document
from conformance.spec.catalogue import build_requirements
from conformance.spec.openapi import build_openapi, wire_booleans
from conformance.spec.profile import EffectiveProfile, load_profile

PAGES = Path(__file__).parent / "pages"
SPEC_DIR = resources.spec_dir()
DOCUMENT = SPEC_DIR / "source" / "RebootInstance.txt"


@pytest.fixture(scope="module")
def profile() -> EffectiveProfile:
    """The profile as RebootInstance sees it (shared <- family <- operation)."""
    return load_profile().for_action("RebootInstance")


@pytest.fixture(scope="module")
def committed() -> dict:
    return yaml.safe_load((SPEC_DIR / "RebootInstance.openapi.yaml").read_text())


def test_committed_openapi_is_valid(committed: dict) -> None:
    validate(committed)
    assert set(committed["paths"]["/"]) == {"get", "post"}


@pytest.mark.parametrize("page", ["StopInstance.txt", "StartInstance.txt"])
def test_other_pages_give_valid_openapi(page: str) -> None:
    op = read_document(PAGES / page)
    own = load_profile().for_action(op.action)
    doc = build_openapi(op, own, document_sha256="0" * 64, profile_sha256="1" * 64)
    validate(doc)
    post = doc["paths"]["/"]["post"]
    assert post["x-action"] == op.action
    assert post["x-state-precondition"]["status"] in own["lifecycle"]["statuses"]
    names = [p["name"] for p in post["parameters"]]
    assert names[: len(op.parameters)] == [p.name for p in op.parameters]


def test_x_error_codes_keep_every_document_row(committed: dict) -> None:
    op = read_document(DOCUMENT)
    for method in ("get", "post"):
        responses = committed["paths"]["/"][method]["responses"]
        listed = [
            (int(status), e["code"], e["message"])
            for status, r in responses.items()
            for e in r.get("x-error-codes", [])
            if e["source"] == "document"
        ]
        assert sorted(listed) == sorted((e.http_status, e.code, e.message) for e in op.errors)
    repeated = [c for c, n in Counter(e.code for e in op.errors).items() if n > 1]
    assert repeated


def test_dryrun_and_gateway_errors_come_from_the_profile(
    committed: dict, profile: EffectiveProfile
) -> None:
    post = committed["paths"]["/"]["post"]
    dry = profile["dryrun"]
    entries = post["responses"][str(dry["http_status"])]["x-error-codes"]
    assert {"code": dry["code"], "message": dry["message"], "source": "profile"}.items() <= next(
        e for e in entries if e["code"] == dry["code"]
    ).items()
    for situation, entry in profile["gateway_errors"].items():
        listed = post["x-gateway-errors"][situation]
        assert len(listed) == len(entry["variants"])
        for v, out in zip(entry["variants"], listed, strict=True):
            assert str(v["http_status"]) in post["responses"]
            assert (out["code"], out["http_status"]) == (v["code"], v["http_status"])
            assert out["emulator_message"] == v["emulator_message"]
            assert out["message"] == v.get("message")


def test_booleans_are_booleans(committed: dict, profile: EffectiveProfile) -> None:
    """The document says `ForceStop Query Boolean No false` and `Default value: false`: the
    schema is a boolean defaulting to false; the spellings SDKs send are an extension."""
    params = {p["name"]: p for p in committed["paths"]["/"]["get"]["parameters"]}
    spec = load_spec()
    assert spec.boolean_parameters
    for p in spec.boolean_parameters:
        schema = params[p.name]["schema"]
        assert schema["type"] == "boolean" and "enum" not in schema
        assert schema["default"] is False and p.default == "false"
        wire = schema["x-wire-booleans"]
        assert wire == wire_booleans(profile)
        for true, false in profile["booleans"]["sent_by"].values():
            assert true in wire["true"] and false in wire["false"]
        assert wire["case-insensitive"] is True


def test_load_spec_round_trip() -> None:
    spec = load_spec()
    op = read_document(DOCUMENT)
    assert spec.action == op.action
    assert spec.parameters == op.parameters
    assert spec.response_fields == op.response_fields
    assert spec.errors == op.errors
    assert load_spec() is spec  # cached


def test_load_spec_state_and_lock_facts(profile: EffectiveProfile) -> None:
    spec = load_spec()
    op = read_document(DOCUMENT)
    assert f"in the {spec.precondition_status} " in op.description[0]
    assert f"changes to {spec.resulting_status} " in op.description[1]
    assert spec.settled_status == profile["lifecycle"]["settle"][spec.resulting_status]
    assert spec.dryrun.code == profile["dryrun"]["code"]
    conditions = {k: v["code"] for k, v in profile["conditions"].items() if isinstance(v, dict)}
    assert dict(spec.conditions) == conditions
    for reason, code in spec.lock_errors.items():
        assert code in spec.error_codes and reason in profile["lifecycle"]["lock_reasons"]
    assert spec.gateway_error("missing_parameter", Name="InstanceId").code.endswith("InstanceId")
    assert spec.version == profile["api"]["version"]


def test_load_spec_errors_clearly(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.openapi.yaml")
    broken = tmp_path / "X.openapi.yaml"
    broken.write_text("openapi: 3.1.0\npaths: {}\n")
    with pytest.raises(SpecError, match=r"no 'paths\./'"):
        load_spec(broken)


EXPECTED_DOC_IDS_BY_RULE = {
    "state": ["doc.state.only-running", "doc.state.starting-after-call"],
    "forced-restart": ["doc.forcestop.forced-restart"],
    "lock": ["doc.lock.security"],
    "dryrun": ["doc.dryrun.passes", "doc.dryrun.fails-like-the-call", "doc.dryrun.no-side-effects"],
}


def test_catalogue_ids(profile: EffectiveProfile) -> None:
    op = read_document(DOCUMENT)
    reqs = build_requirements(op, profile)
    ids = [r.id for r in reqs]
    assert len(ids) == len(set(ids))
    for kind, expected in EXPECTED_DOC_IDS_BY_RULE.items():
        assert sorted(r.id for r in reqs if r.kind == kind and r.level == "doc") == sorted(expected)
    for p in op.parameters:
        assert f"doc.param.{p.name}.{'required' if p.required else 'optional'}" in ids
        assert f"doc.param.{p.name}.type" in ids
        assert (f"doc.default.{p.name}" in ids) == (p.default is not None)
        for v in p.valid_values:
            assert f"doc.param.{p.name}.value.{v.value}" in ids
    errors = [r for r in reqs if r.kind == "error"]
    assert len(errors) == len(op.errors)
    distinct = {(e.http_status, e.code) for e in op.errors}
    assert len({r.id.split(".message-")[0] for r in errors}) == len(distinct) < len(errors)
    for r in reqs:
        assert r.level in ("doc", "protocol", "interop") and r.text
        if r.level == "doc":
            line = int(r.source.split(":")[1])
            assert r.text.splitlines()[0][:40] in op.source_lines[line - 1]
    for rid in ("protocol.signature.v2", "protocol.dryrun.outcome", "interop.retries.none"):
        assert rid in ids


def test_committed_catalogue_matches_load_spec() -> None:
    spec = load_spec()
    data = yaml.safe_load((SPEC_DIR / "RebootInstance.requirements.yaml").read_text())
    assert [r["id"] for r in data["requirements"]] == [r.id for r in spec.requirements]
    assert data["document_sha256"] == spec.document_sha256


def test_committed_spec_is_fresh() -> None:
    result = check_spec()
    assert not result.stale, result.summary


def _copy_spec(tmp_path: Path) -> Path:
    target = tmp_path / "spec"
    (target / "source").mkdir(parents=True)
    shutil.copy(DOCUMENT, target / "source" / DOCUMENT.name)
    shutil.copy(SPEC_DIR / "profile.yaml", target / "profile.yaml")
    shutil.copytree(SPEC_DIR / "metadata", target / "metadata")
    return target


def test_check_catches_a_stale_spec(tmp_path: Path) -> None:
    spec_dir = _copy_spec(tmp_path)
    first = build_spec(
        spec_dir / "source" / DOCUMENT.name,
        spec_dir / "RebootInstance.openapi.yaml",
        profile=spec_dir / "profile.yaml",
    )
    assert first.first_build and first.requirement_count > 0
    assert not check_spec(spec_dir).stale
    # a hand edit of the generated file
    openapi = spec_dir / "RebootInstance.openapi.yaml"
    openapi.write_text(openapi.read_text().replace("ECS RebootInstance", "ECS Something"))
    result = check_spec(spec_dir)
    assert result.stale and result.stale_files == (openapi,)
    assert "RebootInstance.openapi.yaml: differs" in result.summary
    # a changed document
    doc = spec_dir / "source" / DOCUMENT.name
    doc.write_text(
        doc.read_text().replace(
            "Valid values:\n\n  • true: forcibly", "Valid values:\n\n  • yes: forcibly"
        )
    )
    result = check_spec(spec_dir)
    assert result.document_changed and "changed since the last build" in result.summary
    assert "doc.param.ForceStop.value.yes" in result.added
    assert "doc.param.ForceStop.value.true" in result.removed
    assert any("added (1)" in line for line in result.summary_lines())


def read_spec_requirements(openapi: Path) -> tuple:
    load_spec.cache_clear()
    return load_spec(openapi).requirements


def test_build_reports_added_removed_changed(tmp_path: Path) -> None:
    spec_dir = _copy_spec(tmp_path)
    doc = spec_dir / "source" / DOCUMENT.name
    out = spec_dir / "RebootInstance.openapi.yaml"
    build_spec(doc, out)
    again = build_spec(doc, out)
    assert (again.added, again.removed, again.changed) == ((), (), ())
    assert "requirements unchanged" in again.summary_lines()
    text = doc.read_text()
    op = read_document(doc)
    last = op.errors[-1]
    row = op.source_lines[last.line - 1]
    text = text.replace(row + "\n", "")  # drop a row: a requirement disappears
    bullet = op.description[0]
    text = text.replace(bullet, bullet.rstrip(".") + " at any time.")  # a changed text
    row_of_last_param = op.source_lines[op.parameters[-1].line - 1]
    new_row = "Hibernate Query Boolean No false\n\nWhether to hibernate.\n\n"
    text = text.replace(row_of_last_param, new_row + row_of_last_param)
    doc.write_text(text)
    result = build_spec(doc, out)
    assert "doc.param.Hibernate.optional" in result.added
    assert any(r.endswith(".message-2") for r in result.removed)
    changed = next(r.id for r in read_spec_requirements(out) if r.text.endswith(" at any time."))
    assert changed in result.changed
    assert result.document_changed
    lines = result.summary_lines()
    assert any(line.startswith("removed") for line in lines)


@pytest.mark.parametrize("page", ["StopInstance.txt", "StartInstance.txt"])
def test_building_other_pages(page: str, tmp_path: Path) -> None:
    out = tmp_path / "out.openapi.yaml"
    result = build_spec(PAGES / page, out)
    op = read_document(PAGES / page)
    assert result.action == op.action
    assert result.requirements_path == tmp_path / f"{op.action}.requirements.yaml"
    spec = load_spec(out)
    assert spec.parameters == op.parameters and spec.errors == op.errors
    ids = [r.id for r in spec.requirements]
    assert f"doc.state.only-{spec.precondition_status.lower()}" in ids
    assert f"doc.state.{spec.resulting_status.lower()}-after-call" in ids
    validate(spec.openapi)


def test_profile_missing_key_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load((SPEC_DIR / "profile.yaml").read_text())
    del data["shared"]["dryrun"]["message"]
    broken = tmp_path / "profile.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match=r"'shared\.dryrun\.message'"):
        load_profile(broken)
    with pytest.raises(SpecError, match="does not exist"):
        load_profile(tmp_path / "none.yaml")
