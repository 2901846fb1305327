"""Wall time of one client-suite run per adapter (a subprocess each, as users run it).

    python benchmarks/bench_client_suite.py [ADAPTER ...] [--examples N] [--report-dir reports]

Prints one line per adapter: wall time, peak RSS, pytest's exit status and the requirement
counts read from the ledger (--ecs-results). Adapters that cannot run here (e.g. no Node.js)
show as such. Writes `<report-dir>/bench_client_suite.json`. Peak RSS is `ru_maxrss` from
`os.wait4` of the run's process (benchmarks/measure.py): the largest peak of any one process in
its tree (pytest, or an SDK/command subprocess it started).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import run_measured, write_report  # noqa: E402

DEFAULT_ADAPTERS = (
    "reference",
    "aliyun-python-sdk-ecs",
    "alibabacloud-ecs20140526",
    "alibabacloud-ecs20140526-v2",
    "node-ecs20140526",
    f"command:{sys.executable} examples/command_adapter.py",
)
_RANK = {"passed": 0, "not_verified": 1, "failed": 2}


class AdapterRun(NamedTuple):
    """One adapter's run: wall seconds, exit status, verdict counts, peak RSS (MiB)."""

    wall_s: float
    exit: int
    counts: dict[str, int]
    peak_rss_mib: float


def run(adapter: str, examples: int, workdir: Path) -> AdapterRun:
    """Run the suite for `adapter` in a subprocess, measured (benchmarks/measure.py)."""
    ledger = workdir / "ledger.json"
    ledger.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite.client", "-q"]
    args += [
        "-p",
        "no:cacheprovider",
        "--ecs-results",
        str(ledger),
        "--ecs-examples",
        str(examples),
    ]
    if adapter.startswith("command:"):
        args += ["--ecs-client-command", adapter.removeprefix("command:")]
    else:
        args += ["--ecs-client", adapter]
    proc = run_measured(args, cwd=ROOT)
    verdicts: dict[str, str] = {}
    if ledger.exists():
        for record in json.loads(ledger.read_text()):
            for rid in record["requirements"]:
                old, new = verdicts.get(rid, "passed"), record["outcome"]
                verdicts[rid] = new if _RANK[new] > _RANK[old] else old
    counts = {k: sum(1 for v in verdicts.values() if v == k) for k in _RANK}
    return AdapterRun(proc.wall_s, proc.returncode, counts, proc.peak_rss_mib)


def main(argv: list[str] | None = None) -> int:
    """Run each adapter, print its line, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="*", default=list(DEFAULT_ADAPTERS))
    parser.add_argument("--examples", type=int, default=100, help="--ecs-examples (default 100)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    ns = parser.parse_args(argv)
    print(
        f"{'adapter':<52} {'wall s':>7} {'peak RSS MiB':>12} {'exit':>4}"
        "  passed failed not_verified"
    )
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for adapter in ns.adapters:
            r = run(adapter, ns.examples, Path(tmp))
            c = r.counts
            print(
                f"{adapter[:52]:<52} {r.wall_s:7.1f} {r.peak_rss_mib:12.1f} {r.exit:>4}  "
                f"{c['passed']:>6} {c['failed']:>6} {c['not_verified']:>12}"
            )
            results[adapter] = {
                "wall_s": round(r.wall_s, 2),
                "peak_rss_mib": round(r.peak_rss_mib, 1),
                "exit": r.exit,
                **c,
            }
    data = {
        "benchmark": "client_suite",
        "cpus": os.cpu_count(),
        "examples": ns.examples,
        "adapters": results,
    }
    write_report(ns.report_dir, "bench_client_suite.json", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
