"""The committed failure signatures (conformance/reports/fault_signatures.json) are current:
one per mutant and faulty client, naming catalogue ids, and a fresh selftest run of a mutant
is still recognised by its own. Stale after a change of the suite's checks: regenerate with
`ecs-conformance selftest --update-signatures` (selftest itself fails when they are)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.client.faulty import FAULTY
from conformance.mutants import all_mutants, get_mutant
from conformance.reports.diagnosis import (
    REGENERATE,
    closest_faults,
    load_signatures,
    signatures_examples,
)
from conformance.selftest import DEFAULT_EXAMPLES, run_selftest
from conformance.selftest.run import stale_signatures
from conformance.spec import load_spec

STALE = f"stale: run `{REGENERATE}` and commit conformance/reports/fault_signatures.json"


def test_every_known_fault_has_a_signature_of_catalogue_ids() -> None:
    signatures = {s.name: s for s in load_signatures()}
    expected = {m.name: ("server", m.description, m.breaks) for m in all_mutants()}
    expected |= {f.name: ("client", f.description, f.breaks) for f in FAULTY.values()}
    assert set(signatures) == set(expected), STALE
    known = {r.id for r in load_spec().requirements}
    for name, (suite, description, breaks) in expected.items():
        s = signatures[name]
        assert (s.suite, s.description, s.root) == (suite, description, frozenset(breaks)), STALE
        assert s.requirements and s.requirements <= known, f"{name}: {STALE}"
    assert signatures_examples() == DEFAULT_EXAMPLES, STALE


@pytest.mark.slow
def test_a_fresh_selftest_of_a_mutant_is_recognised_by_its_signature(tmp_path: Path) -> None:
    mutant = get_mutant("dryrun-executes")
    result = run_selftest(
        report_dir=tmp_path,
        seed=4242,
        mutants=[mutant],
        include_clients=False,
        signatures=load_signatures(),
        signatures_examples=signatures_examples(),
    )
    assert result.stale_signatures == (), STALE
    assert stale_signatures(result, load_signatures()) == ()
    (subject,) = result.mutants
    named = closest_faults(subject.failed_requirements, load_signatures(), suite="server")
    assert mutant.name in {k.signature.name for k in named}
