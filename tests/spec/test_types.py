"""Types as the document states them: every document type mapped to its OpenAPI form, values
typed, and what a server must tolerate kept in extensions."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.spec import build_spec, load_spec
from conformance.spec.model import Parameter, ValidValue
from conformance.spec.openapi import (
    case_insensitive_pattern,
    document_type_schema,
    parameter_schema,
)
from conformance.spec.profile import EffectiveProfile, load_profile

PAGES = Path(__file__).parent / "pages"


@pytest.mark.parametrize(
    ("printed", "schema"),
    [
        ("String", {"type": "string"}),
        ("Integer", {"type": "integer", "format": "int32"}),
        ("Long", {"type": "integer", "format": "int64"}),
        ("Boolean", {"type": "boolean"}),
        ("Float", {"type": "number", "format": "float"}),
        ("Double", {"type": "number", "format": "double"}),
        ("Array of String", {"type": "array", "items": {"type": "string"}}),
        (
            "Array of Integer",
            {"type": "array", "items": {"type": "integer", "format": "int32"}},
        ),
        ("Array of Object", {"type": "array", "items": {"type": "object"}}),
        ("RepeatList", {"type": "array", "items": {"type": "string"}}),
        ("Json", {"type": "string", "contentMediaType": "application/json"}),
        ("Object", {"type": "string", "contentMediaType": "application/json"}),
    ],
)
def test_document_types_map_to_openapi(printed: str, schema: dict) -> None:
    assert document_type_schema(printed) == schema


def test_structured_response_fields_stay_objects() -> None:
    assert document_type_schema("Object", in_query=False) == {"type": "object"}


def _param(type_: str, **kw: object) -> Parameter:
    base: dict = {"name": "P", "position": "Query", "type": type_, "required": False}
    base.update(example=None, description="")
    base.update(kw)
    return Parameter(**base)


@pytest.fixture(scope="module")
def profile() -> EffectiveProfile:
    return load_profile().for_action("RebootInstance")


def test_values_take_the_parameter_type(profile: EffectiveProfile) -> None:
    period = _param(
        "Integer",
        default="1",
        valid_values=(ValidValue("1", "one"), ValidValue("3", "three")),
    )
    assert parameter_schema(period, profile) == {
        "type": "integer",
        "format": "int32",
        "enum": [1, 3],
        "default": 1,
        "x-document-type": "Integer",
    }
    flag = _param("Boolean", default="false")
    schema = parameter_schema(flag, profile)
    assert schema["type"] == "boolean" and schema["default"] is False
    assert "enum" not in schema and schema["x-wire-booleans"]["case-insensitive"]
    odd = _param("Double", default="1.50")  # kept as printed: 1.5 would read differently
    assert parameter_schema(odd, profile)["default"] == "1.50"


def test_a_string_holding_json_says_so(profile: EffectiveProfile) -> None:
    ids = _param(
        "String",
        name="InstanceIds",
        example='["i-bp67acfmxazb4p****", "i-bp67acfmxazb4p****"]',
        description="The IDs of instances. The value can be a JSON array of up to 100 IDs.",
    )
    schema = parameter_schema(ids, profile)
    assert schema == {
        "type": "string",
        "contentMediaType": "application/json",
        "x-document-type": "String",
    }
    plain = _param("String", example="[not json]", description="A label.")
    assert "contentMediaType" not in parameter_schema(plain, profile)


def test_case_insensitive_pattern() -> None:
    import re

    pattern = re.compile(case_insensitive_pattern(["JSON", "XML"]))
    for ok in ("JSON", "json", "Json", "xMl"):
        assert pattern.fullmatch(ok)
    for bad in ("", "JSONX", "yaml", "JSO"):
        assert not pattern.fullmatch(bad)


def test_format_is_a_case_insensitive_string() -> None:
    spec = load_spec()
    params = spec.openapi["paths"]["/"]["get"]["parameters"]
    fmt = next(p for p in params if p["name"] == "Format")
    schema = fmt["schema"]
    assert "enum" not in schema and schema["x-case-insensitive"] is True
    assert {"json", "JSON", "xml", "XML"} == set(schema["x-wire-values"])
    assert schema["default"] == spec.profile.common_parameter("Format").default


def test_a_page_with_integers_enums_and_a_repeat_list(tmp_path: Path) -> None:
    out = tmp_path / "RenewInstance.openapi.yaml"
    build_spec(PAGES / "RenewInstance.txt", out)
    load_spec.cache_clear()
    spec = load_spec(out)
    params = {p["name"]: p for p in spec.openapi["paths"]["/"]["get"]["parameters"]}
    assert params["Period"]["schema"]["type"] == "integer"
    assert params["Period"]["schema"]["enum"] == [1, 2, 3, 6]
    assert params["Period"]["schema"]["default"] == 1
    assert params["PeriodUnit"]["schema"]["enum"] == ["Week", "Month"]
    assert params["ExpectedRenewDay"]["schema"]["format"] == "int64"
    assert {400, 403, 404, 500} <= {e.http_status for e in spec.errors}
    assert spec.parameter("Period").default == "1"  # the loader gives back the printed text
    out = tmp_path / "DescribeInstanceStatus.openapi.yaml"
    build_spec(PAGES / "DescribeInstanceStatus.txt", out)
    load_spec.cache_clear()
    spec = load_spec(out)
    ids = next(
        p for p in spec.openapi["paths"]["/"]["get"]["parameters"] if p["name"] == "InstanceId"
    )
    assert ids["schema"] == {
        "type": "array",
        "items": {"type": "string"},
        "x-document-type": "Array of String",
    }
    assert ids["x-style"] == "repeatList"
