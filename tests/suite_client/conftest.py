"""Helpers for the client-suite tests: run the suite in a subprocess and read its ledger."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SuiteRun:
    """One client-suite run: requirement outcomes (failed beats not_verified beats passed)."""

    returncode: int
    verdicts: dict[str, str]
    records: list[dict[str, object]]
    output: str

    def ids(self, outcome: str) -> set[str]:
        return {rid for rid, v in self.verdicts.items() if v == outcome}


_RANK = {"passed": 0, "not_verified": 1, "failed": 2}


def run_client_suite(
    tmp_path: Path,
    *,
    client: str | None = None,
    command: str | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = 600,
) -> SuiteRun:
    """`python -m pytest --pyargs conformance.suite.client` for one adapter, in a subprocess."""
    results = tmp_path / f"ledger-{len(list(tmp_path.iterdir()))}.json"
    args = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite.client", "-q"]
    args += ["-p", "no:cacheprovider", "--ecs-results", str(results)]
    if command:
        args += ["--ecs-client-command", command]
    elif client:
        args += ["--ecs-client", client]
    args += list(extra)
    proc = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = proc.stdout + proc.stderr
    records = json.loads(results.read_text()) if results.exists() else []
    return SuiteRun(proc.returncode, _verdicts(records), records, output)


def _verdicts(records: list[dict[str, object]]) -> dict[str, str]:
    verdicts: dict[str, str] = {}
    for record in records:
        for rid in record["requirements"]:  # type: ignore[union-attr]
            old = verdicts.get(rid, "passed")
            outcomes = record.get("outcomes") or {}
            new = str(outcomes.get(rid, record["outcome"]))  # type: ignore[union-attr]
            verdicts[rid] = new if _RANK[new] > _RANK[old] else old
    return verdicts


@pytest.fixture
def client_suite(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`client_suite(client=..., command=..., extra=(...))` -> `SuiteRun` (a subprocess)."""

    def run(**kwargs: object) -> SuiteRun:
        return run_client_suite(tmp_path, **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture
def client_suite_inprocess(pytester: pytest.Pytester, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The same, in this process (no interpreter start-up): for the many faulty variants."""

    def run(client: str, extra: tuple[str, ...] = ()) -> SuiteRun:
        results = tmp_path / f"ledger-{client}.json"
        result = pytester.runpytest_inprocess(
            "--pyargs",
            "conformance.suite.client",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ecs-results",
            str(results),
            "--ecs-client",
            client,
            *extra,
        )
        records = json.loads(results.read_text()) if results.exists() else []
        output = "\n".join(result.outlines + result.errlines)
        return SuiteRun(int(result.ret), _verdicts(records), records, output)

    return run
