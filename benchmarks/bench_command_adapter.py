"""The persistent `--command` protocol against the same client judged in-process.

    python benchmarks/bench_command_adapter.py [--rounds 1] [--no-one-shot] [--report-dir reports]

One client-suite run each, in a subprocess as users run it (bench_client_suite.run), of the
reference client in V2/GET:

* in-process: `--ecs-client reference-get`;
* persistent: `--ecs-client-command 'python examples/command_adapter.py'` (the example takes the
  persistent protocol, docs/contracts.md#persistent-commands);
* one-shot (for contrast, unless --no-one-shot): the same command with the protocol's offer
  removed from its environment (`env -u ECS_CONFORMANCE_PERSISTENT`), one process per call, as
  every command ran before the protocol.

Every run has `--ecs-examples 100`: the in-process and the persistent run make the same calls
(20 examples of the instance-id test, the same scenarios otherwise); the suite gives a one-shot
command half those examples (`example_count`), so the one-shot run makes 10 calls fewer. Figures
include each run's start-up (Python, pytest, collection, the command's probe call). Goal (issue
16): persistent wall time at most 1.5x in-process. With --rounds N the runs are interleaved N
times and the medians shown.
Writes `<report-dir>/bench_command_adapter.json`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_client_suite import AdapterRun, run  # noqa: E402
from measure import goal, write_report  # noqa: E402

GOAL_RATIO = 1.5
_COMMAND = f"{sys.executable} examples/command_adapter.py"
RUNS = {
    "in-process": ("reference-get", 100),
    "persistent": (f"command:{_COMMAND}", 100),
    "one-shot": (f"command:env -u ECS_CONFORMANCE_PERSISTENT {_COMMAND}", 100),
}


def main(argv: list[str] | None = None) -> int:
    """Run each way, print the table and the goal, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-one-shot", action="store_true", help="leave the one-shot run out")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    ns = parser.parse_args(argv)
    names = [n for n in RUNS if not (ns.no_one_shot and n == "one-shot")]
    walls: dict[str, list[float]] = {n: [] for n in names}
    last: dict[str, AdapterRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ns.rounds):
            for name in names:
                adapter, examples = RUNS[name]
                last[name] = run(adapter, examples, Path(tmp))
                walls[name].append(last[name].wall_s)
    print(f"{'run':<12} {'wall s':>7} {'exit':>4}  passed failed not_verified")
    results: dict[str, dict[str, object]] = {}
    for name in names:
        r, wall = last[name], statistics.median(walls[name])
        c = r.counts
        print(
            f"{name:<12} {wall:7.1f} {r.exit:>4}  "
            f"{c['passed']:>6} {c['failed']:>6} {c['not_verified']:>12}"
        )
        results[name] = {"wall_s": round(wall, 2), "exit": r.exit, **c}
    ratio = statistics.median(walls["persistent"]) / statistics.median(walls["in-process"])
    met = ratio <= GOAL_RATIO
    same = all(last[n].counts == last["in-process"].counts and last[n].exit == 0 for n in names)
    print(
        f"persistent / in-process wall time: {ratio:.2f}x (goal <= {GOAL_RATIO}x: "
        f"{'met' if met else 'NOT met'}); same verdicts: {'yes' if same else 'NO'}"
    )
    if "one-shot" in walls:
        shot = statistics.median(walls["one-shot"]) / statistics.median(walls["in-process"])
        print(f"one-shot / in-process wall time: {shot:.2f}x (for contrast)")
    data = {
        "benchmark": "command_adapter",
        "rounds": ns.rounds,
        "runs": results,
        "persistent_over_in_process": round(ratio, 3),
        "goal_ratio_max": GOAL_RATIO,
        "goal_met": met,
        "same_verdicts": same,
        "goals": [
            goal(
                "persistent --command / in-process wall time (reference client)",
                f"{ratio:.2f}x",
                f"<= {GOAL_RATIO:g}x",
                met,
                "16.1",
            ),
            goal("same verdicts each way", "yes" if same else "no", "yes", same, "16.1"),
        ],
    }
    write_report(ns.report_dir, "bench_command_adapter.json", data)
    return 0 if met and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
