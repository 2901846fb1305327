"""The profile in two layers: what every ECS RPC operation shares, and what belongs to one
document family or one operation. A spec built from another page carries no fact or text of
RebootInstance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from conformance import resources
from conformance.errors import SpecError
from conformance.spec import build_spec, load_spec, read_document
from conformance.spec.profile import load_profile

PAGES = Path(__file__).parent / "pages"
OTHER_PAGES = sorted(p.name for p in PAGES.glob("*Instance*.txt"))
REBOOT = "RebootInstance"


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


@pytest.fixture(scope="module", params=OTHER_PAGES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(page text, OpenAPI text, catalogue text, loaded Spec) of a page other than the
    vendored RebootInstance one."""
    page = PAGES / request.param
    out = tmp_path_factory.mktemp(page.stem) / f"{page.stem}.openapi.yaml"
    result = build_spec(page, out)
    load_spec.cache_clear()
    spec = load_spec(out)
    return page.read_text(), out.read_text(), result.requirements_path.read_text(), spec


def test_the_new_pages_are_there() -> None:
    assert {"RenewInstance.txt", "DescribeInstanceStatus.txt"} <= set(OTHER_PAGES)


def test_other_pages_carry_no_reboot_text(built: Any) -> None:
    """No text of the RebootInstance document or its profile entry: the word itself is gone
    from the OpenAPI file and the catalogue (the pages themselves never use it)."""
    page, openapi, catalogue, spec = built
    assert "reboot" not in page.lower()
    for text in (openapi, catalogue):
        assert "reboot" not in text.lower(), [
            line for line in text.splitlines() if "reboot" in line.lower()
        ][:5]
    validate(spec.openapi)


def test_other_pages_carry_no_fact_of_reboot_instance(built: Any) -> None:
    """Every value of the profile's RebootInstance entry (conditions, hidden parameters,
    lifecycle alternatives, retries) is absent, unless the page or a shared layer says it too."""
    page, openapi, catalogue, spec = built
    layers = load_profile()
    elsewhere = page + yaml.safe_dump(dict(layers.shared)) + yaml.safe_dump(dict(layers.families))
    own = [
        s for s in _strings(dict(layers.operations[REBOOT])) if len(s) > 3 and s not in elsewhere
    ]
    assert own  # the entry has facts of its own
    for value in own:
        assert value not in openapi and value not in catalogue, value
    assert dict(spec.conditions) == {} and spec.profile.hidden_parameters is None
    ids = {r.id for r in spec.requirements}
    for rid in ("protocol.lock.financial", "interop.transient.stopping", "interop.retries.none"):
        assert rid not in ids


def test_the_success_envelope_is_named_after_the_action(built: Any) -> None:
    _, _, _, spec = built
    root = spec.profile.envelopes.success_root(spec.action)
    assert root == f"{spec.action}Response"
    ok = spec.openapi["paths"]["/"]["get"]["responses"]["200"]
    assert f"<{root}>" in ok["description"]
    assert ok["content"]["text/xml"]["schema"]["xml"]["name"] == root
    envelope = next(r for r in spec.requirements if r.id == "protocol.envelope.success")
    assert f"<{root}>" in envelope.text


def test_shared_texts_are_worded_for_any_operation() -> None:
    """The shared layer names no operation of a page, nor RebootInstance's own flag:
    `{Action}` stands for the operation."""
    layers = load_profile()
    actions = [read_document(PAGES / page).action for page in OTHER_PAGES]
    for text in _strings(dict(layers.shared)):
        for action in (REBOOT, *actions):
            assert action not in text, text
        assert "ForceStop" not in text, text
    assert "{Action}" in layers.shared["envelopes"]["success"]["text"]


def test_layers_merge_in_order() -> None:
    layers = load_profile()
    reboot = layers.for_action(REBOOT)
    assert reboot.layer_names == ("shared", "families.instance-lifecycle", f"operations.{REBOOT}")
    # the family gives the statuses, the operation adds the transient alternatives
    assert (
        reboot["lifecycle"]["statuses"]
        == layers.families["instance-lifecycle"]["lifecycle"]["statuses"]
    )
    assert reboot["lifecycle"]["transient_alternatives"]["statuses"] == ["Stopping"]
    assert reboot.locate("lifecycle.statuses") == "families.instance-lifecycle.lifecycle.statuses"
    assert reboot.locate("clients.retries") == f"operations.{REBOOT}.clients.retries"
    assert reboot.locate("api.methods") == "shared.api.methods"
    assert reboot.tag("api.methods") == "meta" and reboot.tag("clients.retries") == "sdk"
    stop = layers.for_action("StopInstance")
    assert stop.layer_names == ("shared", "families.instance-lifecycle")
    assert "transient_alternatives" not in stop["lifecycle"] and "conditions" not in stop
    renew = layers.for_action("RenewInstance")
    assert renew.layer_names == ("shared",) and "lifecycle" not in renew


def test_a_page_of_no_family_has_no_lifecycle(tmp_path: Path) -> None:
    out = tmp_path / "DescribeInstanceStatus.openapi.yaml"
    build_spec(PAGES / "DescribeInstanceStatus.txt", out)
    load_spec.cache_clear()
    spec = load_spec(out)
    get = spec.openapi["paths"]["/"]["get"]
    assert "x-state-precondition" not in get and "x-resulting-state" not in get
    assert spec.profile.lifecycle is None
    with pytest.raises(SpecError, match="no instance lifecycle"):
        _ = spec.lifecycle
    # RegionId is this operation's own parameter: no longer a tolerated extra
    assert "RegionId" not in spec.profile.tolerated_parameters.names


def test_a_member_of_two_families_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((resources.spec_dir() / "profile.yaml").read_text())
    data["families"]["other"] = {"members": [REBOOT]}
    broken = tmp_path / "profile.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="member of two families"):
        load_profile(broken)


def test_a_profile_without_layers_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((resources.spec_dir() / "profile.yaml").read_text())
    flat = {"profile_version": 1, **data["shared"]}
    broken = tmp_path / "profile.yaml"
    broken.write_text(yaml.safe_dump(flat))
    with pytest.raises(SpecError, match="'shared' layer"):
        load_profile(broken)
