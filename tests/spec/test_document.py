"""The page parser: the shipped document, other pages of the family, bad input, round trips."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from page_renderer import operations, render_page

from conformance import resources
from conformance.errors import SpecError
from conformance.spec.document import (
    ERROR_TABLE_HEADER,
    REQUEST_TABLE_HEADER,
    RESPONSE_TABLE_HEADER,
    parse_document,
    read_document,
    split_error_text,
)
from conformance.spec.model import Operation

HERE = Path(__file__).parent
PAGES = HERE / "pages"
DOCUMENT = resources.spec_dir() / "source" / "RebootInstance.txt"


@pytest.fixture(scope="module")
def reboot() -> Operation:
    return read_document(DOCUMENT)


def _as_data(op: Operation) -> dict[str, object]:
    data = dataclasses.asdict(op)
    data.pop("source_lines")
    data["sample_responses"] = dict(op.sample_responses)
    return yaml.safe_load(yaml.safe_dump(data))  # tuples -> lists


def _without_lines(op: Operation) -> Operation:
    return dataclasses.replace(
        op,
        parameters=tuple(dataclasses.replace(p, line=0) for p in op.parameters),
        response_fields=tuple(dataclasses.replace(f, line=0) for f in op.response_fields),
        errors=tuple(dataclasses.replace(e, line=0) for e in op.errors),
    )


# -- the shipped document ----------------------------------------------------------------------
def test_reboot_document_matches_the_reviewed_model(reboot: Operation) -> None:
    expected = yaml.safe_load((HERE / "expected" / "RebootInstance.parsed.yaml").read_text())
    assert _as_data(reboot) == expected


def test_every_parameter_row_is_found_at_its_line(reboot: Operation) -> None:
    lines = reboot.source_lines
    rows = [ln for ln in lines if ln.split(" ")[1:2] == ["Query"]]
    assert [p.name for p in reboot.parameters] == [r.split(" ")[0] for r in rows]
    for p in reboot.parameters:
        cells = lines[p.line - 1].split(" ")
        assert cells[:4] == [p.name, p.position, p.type, "Yes" if p.required else "No"]
        assert " ".join(cells[4:]) == (p.example or "")


def test_every_error_row_rebuilds_its_line(reboot: Operation) -> None:
    header_at = reboot.source_lines.index(ERROR_TABLE_HEADER)
    table = [ln for ln in reboot.source_lines[header_at + 1 :] if ln[:3].isdigit()]
    assert len(reboot.errors) == len(table)
    for row in reboot.errors:
        line = reboot.source_lines[row.line - 1]
        assert line == f"{row.http_status} {row.code} {row.message} {row.description}"
        assert row.description.startswith("The error message returned because")
        assert row.message == "%s" or row.message.endswith(".")


def test_repeated_codes_keep_every_row(reboot: Operation) -> None:
    counts = Counter(e.code for e in reboot.errors)
    repeated = {code for code, n in counts.items() if n > 1}
    assert len(repeated) == 2
    for code in repeated:
        messages = [e.message for e in reboot.errors if e.code == code]
        assert len(set(messages)) == len(messages)
    dynamic = [e for e in reboot.errors if e.dynamic]
    assert len(dynamic) == 1 and dynamic[0].code in repeated and dynamic[0].message == "%s"
    assert dynamic[0].matches("any text at all")


def test_booleans_defaults_and_valid_values(reboot: Operation) -> None:
    booleans = [p for p in reboot.parameters if p.is_boolean]
    assert len(booleans) == 2
    for p in booleans:
        assert not p.required and p.default == p.example
        assert {v.value for v in p.valid_values} == {"true", "false"}
        assert all(v.description for v in p.valid_values)


def test_samples_are_kept_as_printed(reboot: Operation) -> None:
    (request,) = reboot.sample_requests
    assert request.startswith("https://") and f"Action={reboot.action}" in request
    assert all(line.startswith("&") for line in request.splitlines()[1:])
    assert set(reboot.sample_responses) == {"XML", "JSON"}
    assert reboot.sample_responses["XML"] in "\n".join(reboot.source_lines)
    assert reboot.sample_responses["JSON"] in "\n".join(reboot.source_lines)


# -- other pages of the family -----------------------------------------------------------------
def test_stop_instance_page() -> None:
    op = read_document(PAGES / "StopInstance.txt")
    assert op.action == "StopInstance"
    mode = op.parameter("StoppedMode")
    assert mode.type == "String" and mode.default == "KeepCharging"
    assert mode.enum == ("StopCharging", "KeepCharging")
    assert mode.description.endswith("insufficient resources.")  # prose after the bullets
    assert [p.name for p in op.parameters if p.is_boolean] == ["ForceStop", "ConfirmStop", "DryRun"]
    assert op.parameter("ConfirmStop").default is None
    assert op.parameter("ResourceOwnerAccount").example is None
    assert Counter(e.code for e in op.errors)["IncorrectInstanceStatus"] == 2
    by_code = {e.code: e for e in op.errors}
    assert by_code["OperationDenied.NoStock"].message.endswith("please try again later.")
    assert by_code["OperationDenied.NoStock"].description.startswith("The operation failed")
    assert by_code["InvalidParameter.StoppedMode"].http_status == 400
    assert by_code["InvalidInstanceType.ValueNotSupported"].dynamic
    assert len(op.description) == 5


def test_start_instance_page() -> None:
    op = read_document(PAGES / "StartInstance.txt")
    assert op.action == "StartInstance"
    assert op.parameter("InitLocalDisk").default == "false"
    assert op.parameter("InitLocalDisk").valid_values[0].description.endswith("is lost.")
    assert op.parameter("InstanceId").description.count("\n\n") == 1
    assert op.parameter("Reason").example == "scheduled maintenance window"
    assert "locked for security reasons and cannot be started" in op.description[2]
    by_code = {e.code: e for e in op.errors}
    # no boilerplate opening: the message ends at its first sentence
    assert by_code["InvalidRegionId.MalFormed"].description.startswith("Check the value")
    assert by_code["InstanceNotReady.Starting"].message == "%s"
    assert {e.http_status for e in op.errors} >= {400, 403, 404, 500}


# -- bad input ---------------------------------------------------------------------------------
def _mutate(old: str, new: str) -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            REQUEST_TABLE_HEADER,
            "Name Type Description",
            "Name Type Description",
            "expected the request parameter table header",
        ),
        (
            "InstanceId Query String Yes",
            "InstanceId Query String Maybe",
            "Maybe",
            "expected 'Yes' or 'No' in the Required column",
        ),
        (
            RESPONSE_TABLE_HEADER,
            "Field Kind",
            "Field Kind",
            "expected the response parameter table header",
        ),
        (
            ERROR_TABLE_HEADER,
            "Code Message",
            "Code Message",
            "expected the error code table header",
        ),
        ("\n404 ", "\nfour-oh-four ", "four-oh-four", "expected an error row"),
        (
            "Action Query String Yes",
            "The action is a Query String Yes",
            "The action is",
            "expected a request parameter row",
        ),
        (
            "\nSample requests\n\nhttps://",
            "\nSample requests\n\nsee below https://",
            "see below",
            "expected a sample request URL",
        ),
    ],
)
def test_bad_input_names_the_line(old: str, new: str, needle: str, expected: str) -> None:
    text = _mutate(old, new)
    with pytest.raises(SpecError) as info:
        parse_document(text, path="page.txt")
    err = info.value
    assert expected in err.message
    assert err.line == _line_of(text, needle)
    assert f"page.txt:{err.line}:" in str(err)


def test_missing_action_row() -> None:
    text = _mutate("Action Query String Yes RebootInstance", "Operation Query String Yes Reboot")
    with pytest.raises(SpecError, match="expected an 'Action' row"):
        parse_document(text)


def test_a_page_not_in_the_format() -> None:
    path = PAGES / "NotAnApiPage.txt"
    with pytest.raises(SpecError) as info:
        read_document(path)
    assert "expected the section title 'Request parameters'" in info.value.message
    assert info.value.line == len(path.read_text().splitlines()) + 1


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_page(text: str) -> None:
    with pytest.raises(SpecError, match="document is empty") as info:
        parse_document(text)
    assert info.value.line == 1


def test_missing_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        read_document(tmp_path / "nope.txt")
    with pytest.raises(SpecError, match="cannot be read"):
        read_document(tmp_path)
    binary = tmp_path / "page.txt"
    binary.write_bytes(b"summary\n\xff\xfe broken\n")
    with pytest.raises(SpecError, match="not UTF-8") as info:
        read_document(binary)
    assert info.value.line == 2


def test_split_error_text_rules() -> None:
    assert split_error_text("%s The error message returned because x.") == (
        "%s",
        "The error message returned because x.",
    )
    assert split_error_text("Bad thing happened. Check the input.") == (
        "Bad thing happened.",
        "Check the input.",
    )
    assert split_error_text("A. B. The error code returned because c.") == (
        "A. B.",
        "The error code returned because c.",
    )
    assert split_error_text("Only a message.") == ("Only a message.", "")


# -- round trip --------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=operations(), tight=...)
def test_rendered_models_parse_back(op: Operation, tight: bool) -> None:
    text = render_page(op, tight=tight)
    parsed = parse_document(text)
    assert _without_lines(parsed) == op
    for p in parsed.parameters:
        assert parsed.source_lines[p.line - 1].startswith(f"{p.name} {p.position} ")
    for e in parsed.errors:
        assert parsed.source_lines[e.line - 1].startswith(f"{e.http_status} {e.code} ")


def test_rendering_the_document_model_reproduces_it(reboot: Operation) -> None:
    assert _without_lines(parse_document(render_page(reboot, tight=True))) == _without_lines(reboot)
