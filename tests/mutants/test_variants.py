"""The legitimate variants (the precision half of selftest): choices only, each quoting the
sentence that grants its freedom, apart from the mutants."""

from __future__ import annotations

from conformance.client.variants import VARIANTS as CLIENT_VARIANTS
from conformance.emulator.behaviour import Behaviour
from conformance.mutants import MUTANTS
from conformance.mutants.variants import VARIANTS, get_variant
from conformance.spec import load_spec


def test_at_least_fifteen_server_and_ten_client_variants() -> None:
    assert len(VARIANTS) >= 15 and len(CLIENT_VARIANTS) >= 10
    names = [v.name for v in VARIANTS]
    assert len(set(names)) == len(names)
    assert not set(names) & {m.name for m in MUTANTS}


def test_a_variant_makes_choices_only_and_every_choice_is_used() -> None:
    choices = set(Behaviour.choice_names())
    used: set[str] = set()
    for v in VARIANTS:
        deviations = set(v.behaviour.deviations())
        assert deviations and deviations <= choices, v.name
        used |= deviations
    assert used == choices


def test_every_variant_quotes_its_source() -> None:
    spec = load_spec()
    document = (
        spec.openapi_path.parent / "source" / "RebootInstance.txt" if spec.openapi_path else None
    )
    for v in VARIANTS:
        assert v.freedom, v.name
        if v.source.startswith("document:"):
            assert document is not None
            lines = document.read_text(encoding="utf-8").splitlines()
            numbers = [int(n) for n in v.source.removeprefix("document:").split(",")]
            assert any(lines[n - 1].strip().lstrip("• ") in v.freedom for n in numbers), v.name
        else:
            assert spec.requirement(v.source).text in v.freedom, v.name


def test_get_variant_finds_by_name() -> None:
    assert get_variant("locks-first").behaviour.refusal_order[0] == "lock_security"
