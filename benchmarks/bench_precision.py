"""Benchmark: precision across seeds. The references and every legitimate variant, at many seeds.

    python benchmarks/bench_precision.py --report-dir reports [--seeds 5] [--first-seed 1]
                                         [--examples 16] [--parallel N] [--no-clients]

CI's selftest judges each legitimate variant at one random seed per run, with half the examples
of a mutant's run; a check stricter than its source may show there only now and then (it did:
the DryRun-default check once drew the one rebootable condition and held the document's Starting
alone against the stopping-transient variant). This script judges the references and every
variant at `--seeds` consecutive seeds, with `--examples` (variants take half, as in selftest), and
prints each false alarm with the seed and the command that reproduces it. Goal: no false alarm.
Writes `<report-dir>/bench_precision.json`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import goal, write_report

from conformance.client.variants import ADAPTER_PREFIX
from conformance.selftest import DEFAULT_EXAMPLES, run_selftest
from conformance.selftest.defaults import DEFAULT_CLIENT_TIMEOUT_S, DEFAULT_PARALLEL
from conformance.selftest.result import SubjectResult
from conformance.selftest.run import VARIANT_EXAMPLES_SHARE

GOAL_FALSE_ALARMS = 0


def _reproduction(subject: SubjectResult, seed: int, examples: int) -> str:
    """The one command that judges `subject` as the sweep did (variants take half the
    examples; client runs use selftest's client timeout)."""
    variant = subject.role == "variant"
    n = max(2, examples // VARIANT_EXAMPLES_SHARE) if variant else examples
    if subject.kind == "server":
        served = f" --variant {subject.name}" if variant else ""
        return f"ecs-conformance server embedded{served} --seed {seed} --examples {n}"
    adapter = f"{ADAPTER_PREFIX}{subject.name}" if variant else subject.name
    return (
        f"ecs-conformance client {adapter} --seed {seed} --examples {n} "
        f"--timeout {DEFAULT_CLIENT_TIMEOUT_S:g}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=2 * DEFAULT_EXAMPLES)
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL)
    parser.add_argument("--no-clients", action="store_true", help="server variants only")
    args = parser.parse_args(argv)

    args.report_dir.mkdir(parents=True, exist_ok=True)
    alarms: list[tuple[int, SubjectResult]] = []
    judged = 0
    t0 = time.monotonic()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        result = run_selftest(
            report_dir=args.report_dir / f"precision-{seed}",
            seed=seed,
            examples=args.examples,
            parallel=args.parallel,
            include_clients=not args.no_clients,
            mutants=[],
            clients=[],
        )
        subjects = [*result.references, *result.variants, *result.client_variants]
        judged += len(subjects)
        wrong = [s for s in subjects if (not s.clean if s.role == "reference" else s.false_alarm)]
        alarms += [(seed, s) for s in wrong]
        names = ", ".join(f"{s.kind} {s.name}" for s in wrong) or "none"
        print(f"seed {seed}: {len(subjects)} judged, false alarms: {names}", flush=True)
    wall = time.monotonic() - t0

    print(f"\n{judged} judgements over {args.seeds} seeds in {wall:.0f} s")
    found = [
        {
            "seed": seed,
            "kind": s.kind,
            "name": s.name,
            "failed": list(s.failed_requirements),
            "error": s.error,
            "reproduce": _reproduction(s, seed, args.examples),
        }
        for seed, s in alarms
    ]
    for (seed, s), entry in zip(alarms, found, strict=True):
        print(f"  FALSE ALARM seed {seed} {s.kind} {s.name}: {' '.join(s.failed_requirements)}")
        print(f"    reproduce: {entry['reproduce']}")
    data = {
        "benchmark": "precision",
        "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
        "examples": args.examples,
        "judgements": judged,
        "wall_s": round(wall, 1),
        "false_alarms": found,
        "goals": [
            goal(
                "false alarms on the references and legitimate variants, across seeds",
                str(len(alarms)),
                f"= {GOAL_FALSE_ALARMS}",
                len(alarms) == GOAL_FALSE_ALARMS,
                "precision",
            )
        ],
    }
    path = write_report(args.report_dir, "bench_precision.json", data)
    print(f"report: {path}")
    return 0 if not alarms else 1


if __name__ == "__main__":
    sys.exit(main())
