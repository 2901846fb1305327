"""The mutant catalogue: enough mutants, one switch each, and only known requirement ids."""

from __future__ import annotations

import re

import pytest

from conformance.emulator.behaviour import Behaviour
from conformance.errors import ConfigError
from conformance.mutants import all_mutants, get_mutant, mutant_names
from conformance.spec import load_spec

MUTANTS = all_mutants()


def test_catalogue_has_at_least_25_mutants() -> None:
    assert len(MUTANTS) >= 25


def test_names_are_unique_and_kebab_case() -> None:
    names = mutant_names()
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutant_changes_exactly_one_switch(mutant) -> None:
    assert isinstance(mutant.behaviour, Behaviour)
    assert len(mutant.behaviour.deviations()) == 1, mutant.behaviour.deviations()
    assert not mutant.behaviour.is_reference


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_breaks_ids_exist_in_the_catalogue(mutant) -> None:
    known = {r.id for r in load_spec().requirements}
    assert mutant.breaks, f"{mutant.name} names no requirement it breaks"
    assert not set(mutant.breaks) - known
    assert len(set(mutant.breaks)) == len(mutant.breaks)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_description_says_what_deviates(mutant) -> None:
    assert len(mutant.description) > 20


def test_every_fault_switch_has_a_mutant_and_no_mutant_only_makes_choices() -> None:
    used = {name for m in MUTANTS for name in m.behaviour.deviations()}
    assert used == set(Behaviour.fault_names())
    assert set(Behaviour.fault_names()) | set(Behaviour.choice_names()) == set(
        Behaviour.switch_names()
    )


def test_get_mutant_finds_by_name() -> None:
    for mutant in MUTANTS:
        assert get_mutant(mutant.name) is mutant


def test_get_mutant_lists_valid_names_for_an_unknown_one() -> None:
    with pytest.raises(ConfigError) as info:
        get_mutant("no-such-mutant")
    text = str(info.value)
    assert "no-such-mutant" in text
    for name in mutant_names():
        assert name in text
    assert info.value.exit_code == 2
