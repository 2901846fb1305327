"""The main job (`ecs-conformance run`) as a user runs it, and each target's time in it.

    python benchmarks/bench_main_job.py [--rounds 1] [--jobs N] [--report-dir reports]

Runs `ecs-conformance run --report-dir TMP` in a subprocess: the server suite against the
embedded emulator and the client suite against the reference client and every official SDK
adapter that can run here (the Node SDK where Node.js is present; installed on its first use,
which then counts in that run's time), side by side unless `--jobs 1` is passed on. Each
target's duration is read from the run's own overview, `TMP/run.json` (`runs[].duration_s`: its
pytest subprocess, start-up included). Prints each target's seconds and their fraction of the
wall time (targets overlap, so the fractions add up to more than 100 %), the sum of the
targets' times (about what one after the other would take), the wall time against the goal
(issue 16, item 2: at most 30 s on this machine) and whether it is met, the targets the run
skipped and why, and the load average before and after.
With --rounds N the run is repeated and the round of median wall time shown.
Writes `<report-dir>/bench_main_job.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import goal, run_measured, write_report  # noqa: E402

GOAL_S = 30.0
TIMEOUT_S = 1800.0


def _command() -> str:
    beside = Path(sys.executable).with_name("ecs-conformance")
    return (
        str(beside) if beside.exists() else (shutil.which("ecs-conformance") or "ecs-conformance")
    )


def run_once(workdir: Path, jobs: int | None = None) -> dict[str, Any]:
    """One `ecs-conformance run`; its wall time, exit status and each target's duration."""
    report_dir = workdir / "reports"
    shutil.rmtree(report_dir, ignore_errors=True)
    proc = run_measured(
        [_command(), "run", f"--report-dir={report_dir}", *([f"--jobs={jobs}"] if jobs else [])],
        cwd=workdir,
        env=dict(os.environ),
        timeout=TIMEOUT_S,
    )
    overview = report_dir / "run.json"
    doc = json.loads(overview.read_text(encoding="utf-8")) if overview.exists() else {}
    targets = [
        {
            "target": f"{r['kind']}: {r['name']}",
            "duration_s": float(r["duration_s"]),
            "exit": r["exit_code"],
        }
        for r in doc.get("runs", [])
    ]
    return {
        "wall_s": round(proc.wall_s, 2),
        "cpu_s": round(proc.cpu_s, 2),
        "peak_rss_mib": round(proc.peak_rss_mib, 1),
        "exit": proc.returncode,
        "timed_out": proc.timed_out,
        "targets": targets,
        "skipped": doc.get("skipped", []),
        "tail": (proc.stdout + proc.stderr)[-800:],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the main job, print each target's share and the goal, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=None, help="run's --jobs (default: its own)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    node = shutil.which("node")
    print(
        f"cpus: {os.cpu_count()}, load average before: {load_before}; "
        f"Node.js: {node or 'not found (the Node SDK is skipped)'}",
        flush=True,
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as tmp:
        for i in range(args.rounds):
            run = run_once(Path(tmp), args.jobs)
            runs.append(run)
            print(f"  round {i + 1}/{args.rounds}: {run['wall_s']:.1f} s, exit {run['exit']}")
    load_after = os.getloadavg()
    middle = statistics.median_low(r["wall_s"] for r in runs)
    run = next(r for r in runs if r["wall_s"] == middle)
    wall = run["wall_s"]
    if not run["targets"]:
        print(f"the run wrote no overview (exit {run['exit']}); its output ends:\n{run['tail']}")
    rows = [(t["target"], t["duration_s"]) for t in run["targets"]]
    serial = sum(d for _, d in rows)
    summed = "sum of the targets' times"
    width = max([len(name) for name, _ in rows] + [len(summed)])
    print()
    print(f"{'target':<{width}}  {'seconds':>8}  {'of wall':>7}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:>8.1f}  {seconds / wall:>7.1%}")
    print(f"{summed:<{width}}  {serial:>8.1f}  (about one after the other)")
    print(f"{'total (wall)':<{width}}  {wall:>8.1f}")
    met = wall <= GOAL_S and bool(run["targets"])
    print(
        f"main job: {wall:.1f} s wall, {run['cpu_s']:.1f} s CPU, exit {run['exit']} "
        f"(goal <= {GOAL_S:g} s: {'met' if met else 'NOT met'})"
    )
    for entry in run["skipped"]:
        print(f"skipped: {entry.get('name')}: {entry.get('reason')}")
    print(f"load average before {load_before}, after {load_after}")
    data = {
        "benchmark": "main_job",
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "jobs": args.jobs,
        "wall_s": wall,
        "targets_sum_s": round(serial, 2),
        "cpu_s": run["cpu_s"],
        "exit": run["exit"],
        "goal_s_max": GOAL_S,
        "goal_met": met,
        # one scalar per target, for run_all's table (it shows no lists)
        "shares": {name: round(seconds / wall, 3) for name, seconds in rows},
        "seconds": {name: round(seconds, 2) for name, seconds in rows},
        "skipped": run["skipped"],
        "goals": [
            goal(
                "ecs-conformance run, wall time (every installed SDK)",
                f"{wall:.1f} s",
                f"<= {GOAL_S:g} s",
                met,
                "16.2",
            )
        ],
        "load_before": list(load_before),
        "load_after": list(load_after),
        "all_rounds": [{k: v for k, v in r.items() if k != "tail"} for r in runs],
    }
    write_report(args.report_dir, "bench_main_job.json", data)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
