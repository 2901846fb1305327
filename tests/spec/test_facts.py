"""The typed profile: `Spec.profile` gives frozen views of `x-protocol`, and `Spec` names the
parameters that play a part (instance id, DryRun, forced restart)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import resources
from conformance.errors import SpecError
from conformance.spec import build_spec, load_spec
from conformance.spec.facts import BooleanFacts, Fact, Profile

PAGES = Path(__file__).parent / "pages"
OPENAPI = resources.spec_dir() / "RebootInstance.openapi.yaml"


@pytest.fixture(scope="module")
def x_protocol() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())["paths"]["/"]["get"]["x-protocol"]
    return data


def test_the_views_are_the_x_protocol_facts(x_protocol: dict[str, Any]) -> None:
    p = load_spec().profile
    assert p.api.version == x_protocol["api"]["version"]
    assert p.api.methods == tuple(m.upper() for m in x_protocol["api"]["methods"])
    assert p.formats.default_v2 == x_protocol["formats"]["default_v2"]
    assert p.formats.content_type("json") == x_protocol["formats"]["content_types"]["JSON"]
    envelopes = x_protocol["envelopes"]
    assert p.envelopes.request_id_header == envelopes["request_id_header"]
    assert p.envelopes.error_fields == tuple(envelopes["error"]["fields"])
    assert p.envelopes.success_status == envelopes["success"]["http_status"]
    assert p.timestamp.max_skew_seconds == x_protocol["timestamp"]["max_skew_seconds"]
    assert p.signatures.v3_algorithm == x_protocol["signatures"]["v3"]["algorithm"]
    assert p.lifecycle is not None
    assert p.lifecycle.disk_ok_status == x_protocol["lifecycle"]["disk_ok_status"]
    assert p.lifecycle.transient_alternatives == tuple(
        x_protocol["lifecycle"]["transient_alternatives"]["statuses"]
    )
    assert p.tolerated_parameters.names == tuple(x_protocol["tolerated_parameters"]["names"])
    assert p.hidden_parameters is not None
    assert p.hidden_parameters.names == tuple(x_protocol["hidden_parameters"]["names"])
    assert p.injectable_fault_codes == tuple(x_protocol["injectable_faults"]["extra_codes"])
    assert p.common_parameter("Version").value == x_protocol["api"]["version"]
    assert p.client_facts["retries"].tag == "sdk"
    assert p.booleans.fact == Fact(x_protocol["booleans"]["text"], "sdk")


def test_the_views_are_frozen() -> None:
    p = load_spec().profile
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.formats.default_v2 = "JSON"  # type: ignore[misc]


def test_a_missing_key_is_named(x_protocol: dict[str, Any]) -> None:
    broken = {**x_protocol, "timestamp": {"format": "%Y"}}
    with pytest.raises(SpecError, match=r"'timestamp\.max_skew_seconds'"):
        Profile.from_mapping(broken)
    with pytest.raises(SpecError, match=r"'envelopes'"):
        Profile.from_mapping({k: v for k, v in x_protocol.items() if k != "envelopes"})


def test_booleans() -> None:
    b = load_spec().profile.booleans
    assert b.spelling(True) == "true" and b.spelling(False) == "false"
    for spelling in ("true", "True", "TRUE", "tRuE"):
        assert b.parse(spelling) is True
    for spelling in ("1", "yes", " true", ""):
        assert b.parse(spelling) is None
    strict = BooleanFacts("true", "false", False, {"node": ("true", "false")}, Fact(""))
    assert strict.parse("true") is True and strict.parse("True") is True  # a listed spelling
    assert strict.parse("tRuE") is None
    assert strict.all_accepted == ("true", "false", "True", "False", "TRUE", "FALSE")


def test_the_loader_reads_x_wire_booleans(tmp_path: Path) -> None:
    """What a server must accept comes from the Boolean schemas' extension."""
    doc = yaml.safe_load(OPENAPI.read_text())
    for operation in doc["paths"]["/"].values():
        for p in operation["parameters"]:
            wire = p["schema"].get("x-wire-booleans")
            if wire is not None:
                wire["true"].append("yes")
                wire["case-insensitive"] = False
    out = tmp_path / "RebootInstance.openapi.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "RebootInstance.requirements.yaml").write_text(
        (OPENAPI.parent / "RebootInstance.requirements.yaml").read_text()
    )
    load_spec.cache_clear()
    b = load_spec(out).profile.booleans
    assert "yes" in b.accepted(True) and b.parse("yes") is True and not b.case_insensitive
    for operation in doc["paths"]["/"].values():
        flag = next(p for p in operation["parameters"] if "x-wire-booleans" in p["schema"])
        flag["schema"]["x-wire-booleans"] = {**flag["schema"]["x-wire-booleans"], "true": ["true"]}
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    load_spec.cache_clear()
    with pytest.raises(SpecError, match="other boolean spellings"):
        load_spec(out)
    load_spec.cache_clear()


def test_parameter_roles() -> None:
    spec = load_spec()
    get = spec.openapi["paths"]["/"]["get"]
    assert spec.dry_run_parameter.name == get["x-dryrun"]["parameter"]
    assert spec.force_parameter.name == get["x-forced-restart"]["parameter"]
    assert spec.instance_parameter.name == get["x-instance-id"]["parameter"]
    assert spec.instance_parameter.required and spec.instance_parameter.type == "String"
    assert {spec.dry_run_parameter, spec.force_parameter} <= set(spec.boolean_parameters)


def test_a_missing_role_is_a_spec_error(tmp_path: Path) -> None:
    out = tmp_path / "RenewInstance.openapi.yaml"
    build_spec(PAGES / "RenewInstance.txt", out)
    load_spec.cache_clear()
    spec = load_spec(out)
    assert spec.instance_parameter.name == "InstanceId"
    with pytest.raises(SpecError, match="names no DryRun parameter"):
        _ = spec.dry_run_parameter
    load_spec.cache_clear()
