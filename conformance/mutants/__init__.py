"""Mutants: deliberately faulty configurations of the reference emulator
(docs/architecture.md#selftest).

The suite proves its power by killing every one of them (`ecs-conformance selftest`); each is a
single `Behaviour` switch, served with `ecs-conformance emulator --mutant NAME`.
"""

from __future__ import annotations

from conformance.mutants.catalogue import MUTANTS, Mutant, all_mutants, get_mutant, mutant_names

__all__ = ["MUTANTS", "Mutant", "all_mutants", "get_mutant", "mutant_names"]
