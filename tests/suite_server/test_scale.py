"""Scale (issue 6): the suite under pytest-xdist gives the verdicts of a serial run, and a shared
hypothesis example database keeps a failure for the next run."""

from __future__ import annotations

from pathlib import Path

from conformance.config import EmulatorSettings
from conformance.emulator import Behaviour, EmbeddedEmulator

MODULES = ("test_parameters", "test_dryrun", "test_errors")


def _verdicts(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    verdicts: dict[str, str] = {}
    rank = {"passed": 0, "not_verified": 1, "failed": 2}
    for record in run.records:
        for rid in record["requirements"]:
            old = verdicts.get(rid, "passed")
            new = str(record["outcome"])
            verdicts[rid] = new if rank[new] > rank[old] else old
    return verdicts


def test_xdist_gives_the_verdicts_of_a_serial_run(run_suite) -> None:  # type: ignore[no-untyped-def]
    """Each worker gets its own embedded emulator (here a mutant, so failures are compared too)."""
    mutant = "--ecs-mutant=case-sensitive-booleans"
    serial = run_suite("embedded", *MODULES, extra=(mutant,))
    parallel = run_suite("embedded", *MODULES, extra=(mutant, "-p", "xdist", "-n", "2"))
    assert serial.records and parallel.records
    assert _verdicts(serial) == _verdicts(parallel)
    assert "failed" in _verdicts(serial).values()  # the comparison covers a failure too


def test_xdist_against_one_shared_url_target_is_refused(run_suite) -> None:  # type: ignore[no-untyped-def]
    """Workers sharing one target would consume each other's injected faults and resets."""
    emu = EmbeddedEmulator(EmulatorSettings(reboot_seconds=86400.0)).start()
    try:
        run = run_suite(emu.url, "test_errors", extra=("-p", "xdist", "-n", "2"))
    finally:
        emu.stop()
    assert run.returncode == 4  # pytest's usage error
    assert "need a target each" in run.output


def test_shared_example_db_keeps_the_failure(run_suite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "shared-db"
    emu = EmbeddedEmulator(
        EmulatorSettings(reboot_seconds=86400.0), behaviour=Behaviour(case_sensitive_booleans=True)
    ).start()
    try:
        run = run_suite(emu.url, "test_parameters", extra=(f"--ecs-example-db={db}",))
    finally:
        emu.stop()
    assert run.returncode == 1
    saved = [p for p in db.rglob("*") if p.is_file() and p.name != ".gitignore"]
    assert saved, "the failing examples were not saved in the shared database"
