"""Benchmark: a whole selftest (reference + every mutant + faulty clients): wall time, peak RSS.

    python benchmarks/bench_selftest.py --report-dir reports [--examples 8] [--parallel N]

Prints a table and writes `<report-dir>/bench_selftest.json`. The goal (issue 16, item 3; CI runs
selftest on every submission): at most 180 s on 2 cores, legitimate variants included, every
mutant and faulty client killed and every variant passed. `--parallel` defaults to selftest's
own (twice the CPUs, at most 8). RSS is sampled from /proc every 100 ms over this process
and all its descendants (the pytest subprocesses, each server run's emulator inside its own), so
"peak total" is what the machine held at once; "peak self" is this process.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import RssSampler, goal, write_report

from conformance.mutants import all_mutants, get_mutant
from conformance.selftest import DEFAULT_EXAMPLES, run_selftest
from conformance.selftest.defaults import DEFAULT_PARALLEL

GOAL_S = 180.0  # issue 16, item 3 (was 300 s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL)
    parser.add_argument("--no-clients", action="store_true", help="skip the faulty-client half")
    parser.add_argument("--mutants", default=None, help="comma-separated subset (default: all)")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress lines")
    args = parser.parse_args(argv)

    mutants = (
        [get_mutant(n.strip()) for n in args.mutants.split(",")] if args.mutants else all_mutants()
    )
    args.report_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with RssSampler() as sampler:
        result = run_selftest(
            report_dir=args.report_dir,
            seed=args.seed,
            examples=args.examples,
            parallel=args.parallel,
            echo=None if args.quiet else print,
            include_clients=not args.no_clients,
            mutants=mutants,
        )
    wall = time.monotonic() - t0
    runs = [
        *result.references,
        *result.mutants,
        *result.faulty_clients,
        *result.variants,
        *result.client_variants,
    ]
    data = {
        "benchmark": "selftest",
        "wall_s": round(wall, 2),
        "goal_s": GOAL_S,
        "within_goal": wall <= GOAL_S,
        "peak_rss_total_mib": round(sampler.peak_kib / 1024, 1),
        "peak_rss_self_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_largest_child_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "runs": len(runs),
        "run_s_median": round(sorted(r.duration_s for r in runs)[len(runs) // 2], 2),
        "run_s_max": round(max(r.duration_s for r in runs), 2),
        "slowest": sorted(((r.name, r.duration_s) for r in runs), key=lambda x: -x[1])[:5],
        "mutants": len(result.mutants),
        "mutants_killed": sum(r.killed for r in result.mutants),
        "faulty_clients": len(result.faulty_clients),
        "faulty_clients_killed": sum(r.killed for r in result.faulty_clients),
        "variants": len(result.variants),
        "variants_passed": sum(not r.false_alarm for r in result.variants),
        "client_variants": len(result.client_variants),
        "client_variants_passed": sum(not r.false_alarm for r in result.client_variants),
        "ok": result.ok,
        "seed": args.seed,
        "examples": args.examples,
        "parallel": args.parallel,
        "cpus": os.cpu_count(),
    }
    matrix = (
        data["mutants_killed"] == data["mutants"]
        and data["faulty_clients_killed"] == data["faulty_clients"]
        and data["variants_passed"] == data["variants"]
        and data["client_variants_passed"] == data["client_variants"]
        and result.ok
    )
    data["goals"] = [
        goal("selftest, wall time", f"{wall:.1f} s", f"<= {GOAL_S:g} s", wall <= GOAL_S, "16.3"),
        goal(
            "kill matrix: every mutant and faulty client killed, every variant passed",
            f"{data['mutants_killed']}/{data['mutants']} mutants, "
            f"{data['faulty_clients_killed']}/{data['faulty_clients']} clients, "
            f"{data['variants_passed'] + data['client_variants_passed']}/"
            f"{data['variants'] + data['client_variants']} variants",
            "all",
            matrix,
            "16.3",
        ),
    ]
    write_report(args.report_dir, "bench_selftest.json", data)
    rows = [
        ("wall time", f"{data['wall_s']:.1f} s (goal <= {GOAL_S:.0f} s)"),
        ("runs (parallel)", f"{data['runs']} ({args.parallel} at once)"),
        ("run time median / max", f"{data['run_s_median']:.1f} s / {data['run_s_max']:.1f} s"),
        ("mutants killed", f"{data['mutants_killed']}/{data['mutants']}"),
        ("faulty clients killed", f"{data['faulty_clients_killed']}/{data['faulty_clients']}"),
        ("variants passed", f"{data['variants_passed']}/{data['variants']}"),
        (
            "client variants passed",
            f"{data['client_variants_passed']}/{data['client_variants']}",
        ),
        ("peak RSS, whole tree", f"{data['peak_rss_total_mib']} MiB"),
        ("peak RSS, this process", f"{data['peak_rss_self_mib']} MiB"),
        ("peak RSS, largest child", f"{data['peak_rss_largest_child_mib']} MiB"),
        ("selftest verdict", "ok" if result.ok else "FAILED"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nbench_selftest (seed {args.seed}, {args.examples} examples)")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print(f"  {'slowest runs':<{width}}  " + ", ".join(f"{n} {s:.1f}s" for n, s in data["slowest"]))
    if not args.quiet:
        print()
        for line in result.kill_matrix_lines():
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
