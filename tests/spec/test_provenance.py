"""Provenance and strictness: every requirement and every expected answer says where it comes
from, and how strictly it may be judged follows from that alone."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conformance import resources
from conformance.spec import load_spec
from conformance.spec.model import PROVENANCES, STRICTNESS, ErrorVariant, strictness_of
from conformance.spec.profile import load_profile

SPEC_DIR = resources.spec_dir()


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (SPEC_DIR / "RebootInstance.requirements.yaml").read_text()
    )
    return data


def test_strictness_follows_provenance() -> None:
    assert STRICTNESS == {
        "doc": "exact",
        "meta": "exact",
        "design": "exact",
        "sdk": "observable",
        "unsure": "any-variant",
        "emulator": "not-held",
    }
    with pytest.raises(ValueError, match="unknown provenance"):
        strictness_of("hearsay")


def test_every_requirement_carries_provenance_and_strictness(catalogue: dict[str, Any]) -> None:
    spec = load_spec()
    by_id = {r.id: r for r in spec.requirements}
    for item in catalogue["requirements"]:
        assert item["provenance"] in PROVENANCES, item
        assert item["strictness"] == STRICTNESS[item["provenance"]], item
        r = by_id[item["id"]]
        assert (r.provenance, r.strictness) == (item["provenance"], item["strictness"])
        if item["source"].startswith("document:"):
            assert item["provenance"] == "doc"


def test_profile_requirements_take_the_tag_of_their_fact() -> None:
    spec = load_spec()
    profile = load_profile().for_action(spec.action)
    for r in spec.requirements:
        if not r.source.startswith("profile:"):
            continue
        parts = r.source.removeprefix("profile:").split(".")
        key = ".".join(parts[1:] if parts[0] == "shared" else parts[2:])  # less the layer
        assert profile.locate(key) == r.source.removeprefix("profile:"), r.id
        assert profile.tag(key) == r.provenance, r.id
    wanted = {
        "protocol.method.GET": "meta",
        "protocol.action.unknown": "unsure",
        "interop.signature-mismatch.colon": "sdk",
        "interop.transient.stopping": "unsure",
        "protocol.dryrun.outcome": "doc",
        "interop.client.unusable-response": "design",
    }
    assert {rid: spec.requirement(rid).provenance for rid in wanted} == wanted


def test_gateway_variants_say_whether_their_message_is_sourced() -> None:
    """No source gives the gateway's message texts: they are the emulator's own, and what a
    check may compare is None; SignatureDoesNotMatch's colon rule is observed from an SDK."""
    spec = load_spec()
    for variants in spec.gateway_errors.values():
        for v in variants:
            assert v.emulator_message
            assert v.provenance in PROVENANCES
            if v.message is None:
                assert v.message_provenance == "emulator" and v.message_strictness == "not-held"
            else:
                assert v.message_provenance in PROVENANCES and v.message_provenance != "emulator"
    mismatch = spec.gateway_variants("signature_mismatch", string_to_sign="GET&%2F&X")[0]
    assert mismatch.message_provenance == "sdk" and mismatch.message is not None
    assert mismatch.message.endswith(":GET&%2F&X") and "%s" in mismatch.message
    sourced = [v for vs in spec.gateway_errors.values() for v in vs if v.message is not None]
    assert sourced == list(spec.gateway_errors["signature_mismatch"])
    assert spec.gateway_variants("access_key_not_found")[0].strictness == "any-variant"
    assert spec.gateway_variants("unsupported_method")[0].strictness == "not-held"
    assert spec.dryrun.provenance == "doc" and spec.dryrun.strictness == "exact"


def test_matches_compares_a_message_only_where_a_source_words_it() -> None:
    """`matches` holds code and status, and the message only where a source gives it: the
    emulator's own wording is never held against another implementation."""
    v = load_spec().gateway_variants("nonce_used")[0]
    assert v.message is None
    assert v.matches(v.code, v.http_status, v.emulator_message)
    assert v.matches(v.code, v.http_status, "another wording")
    assert not v.matches(v.code, 403, v.emulator_message)
    templated = ErrorVariant("Missing{Name}", 400, "{Name} is mandatory.").render(Name="X")
    assert templated.code == "MissingX" and templated.matches("MissingX", 400, "X is mandatory.")
    assert not templated.matches("MissingY", 400, "X is mandatory.")
    sourced = ErrorVariant("C", 400, "emulator text", message="%s is wrong: {Field}")
    assert sourced.matches("C", 400, "ForceStop is wrong: x")
    assert not sourced.matches("C", 400, "emulator text")


def test_every_expected_answer_in_the_openapi_names_its_sources() -> None:
    spec = load_spec()
    for operation in spec.openapi["paths"]["/"].values():
        for status, response in operation["responses"].items():
            for entry in response.get("x-error-codes") or ():
                assert entry["provenance"] in PROVENANCES, (status, entry)
                assert entry["message_provenance"] in PROVENANCES, (status, entry)
                if entry["source"] == "document":
                    assert entry["provenance"] == entry["message_provenance"] == "doc"
                    assert entry["message"]
                elif entry["message"] is None:
                    assert entry["message_provenance"] == "emulator" and entry["emulator_message"]
        assert operation["x-dryrun"]["passes"]["provenance"] == "doc"
