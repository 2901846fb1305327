"""A real selftest on a small subset: the reference passes, two mutants and a faulty client die,
a legitimate variant of each kind passes.

Real subprocess suite runs against real emulators on loopback; examples kept low for speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.mutants import get_mutant
from conformance.mutants.variants import get_variant
from conformance.selftest import faulty_clients, run_selftest
from conformance.selftest.run import client_variants

SUBSET = ("no-state-precondition", "signature-not-checked")


@pytest.mark.slow
def test_selftest_on_a_subset_kills_them_and_writes_the_report(tmp_path: Path) -> None:
    lines: list[str] = []
    clients = faulty_clients()[:1]
    result = run_selftest(
        report_dir=tmp_path,
        seed=12345,
        examples=2,
        parallel=2,
        echo=lines.append,
        mutants=[get_mutant(name) for name in SUBSET],
        clients=clients,
        variants=[get_variant("stopping-transient")],
        legit_clients=client_variants()[:1],
    )
    assert result.reference.clean, result.reference
    assert [v.name for v in result.variants] == ["stopping-transient"]
    assert all(not v.false_alarm for v in (*result.variants, *result.client_variants))
    assert result.client_reference is not None and result.client_reference.clean
    assert [m.name for m in result.mutants] == list(SUBSET)
    for mutant in (*result.mutants, *result.faulty_clients):
        assert mutant.killed, mutant
        assert mutant.caught_as_expected, mutant
    assert result.ok
    assert len(lines) == 2 + len(SUBSET) + len(clients) + 2  # one progress line per run

    data = json.loads((tmp_path / "selftest.json").read_text(encoding="utf-8"))
    assert data["seed"] == 12345 and data["duration_s"] > 0
    assert data["reference"]["verdict"] == "clean"
    assert [m["name"] for m in data["mutants"]] == list(SUBSET)
    for entry in data["mutants"]:
        assert entry["killed"] is True
        assert set(entry["breaks"]) & set(entry["killed_by"])
        assert entry["description"]
    assert data["clients"]["reference"]["verdict"] == "clean"
    assert [c["name"] for c in data["clients"]["faulty"]] == [c.name for c in clients]
    assert all(c["killed"] for c in data["clients"]["faulty"])
    matrix = "\n".join(result.kill_matrix_lines())
    for name in SUBSET:
        assert name in matrix
