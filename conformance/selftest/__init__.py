"""Selftest: the suites prove their power by killing every mutant and every faulty client.

The server suite runs against the reference emulator (it must come out clean) and against each
mutant of `conformance.mutants` (each must fail at least one test); the client suite runs against
the reference client and each faulty variant of `conformance.client.faulty`.

* `run`: `run_selftest`, the suite runs and their scheduling (`defaults`: their settings);
* `result`: `SubjectResult`, `SelftestResult`, selftest.json and the kill matrix;
* `fastfail`: the pytest plugin its runs against mutants and faulty clients load.

    >>> # result = run_selftest(report_dir=Path("reports"), seed=1)
    >>> # result.ok, result.kill_matrix_lines()
"""

from __future__ import annotations

from typing import Any

from conformance.selftest import defaults

__all__ = [
    *defaults.__all__,
    "SelftestResult",
    "SubjectResult",
    "TestFailure",
    "faulty_clients",
    "run_selftest",
]

# Loaded on first use: the command line shows selftest's defaults without the suites behind
# `run`.
_LAZY = {
    **dict.fromkeys(defaults.__all__, "defaults"),
    **dict.fromkeys(("SelftestResult", "SubjectResult", "TestFailure"), "result"),
    **dict.fromkeys(("faulty_clients", "run_selftest"), "run"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance.selftest' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"conformance.selftest.{module}"), name)
