"""Run every benchmark script and gather their results into one file and one table.

    python benchmarks/run_all.py --report-dir reports [--skip bench_selftest]

Runs, in order, each of `bench_emulator.py`, `bench_server_suite.py`,
`bench_schemathesis_race.py`, `bench_client_suite.py`, `bench_command_adapter.py`,
`bench_main_job.py`, `bench_selftest.py`, `bench_precision.py`, `bench_hostile.py` and
`bench_proxy.py` that exists
(a missing one gets a note), each in its own process with `--report-dir DIR` (when its `--help`
mentions that option). Every `*.json` a script writes into DIR during its run is
collected into `DIR/bench.json`; the printed table shows each script's scalar figures.
Convention for benchmark scripts: accept `--report-dir DIR`, print a table, and write
`DIR/bench_<name>.json`, with a `goals` list (`measure.goal`: figure, value, goal, met) for the
figures that have one. The last table gathers every script's goals, each with its value and
the issue item that set it; the exit status is 1 when a script failed or a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import write_report  # noqa: E402

SCRIPTS = (
    "bench_emulator.py",
    "bench_server_suite.py",
    "bench_schemathesis_race.py",
    "bench_client_suite.py",
    "bench_command_adapter.py",
    "bench_main_job.py",
    "bench_selftest.py",
    "bench_precision.py",
    "bench_hostile.py",
    "bench_proxy.py",
)
OUTPUT = "bench.json"


def _json_mtimes(report_dir: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in report_dir.glob("*.json") if p.name != OUTPUT}


def _accepts_report_dir(script: Path) -> bool:
    try:
        proc = subprocess.run(
            [sys.executable, str(script), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=HERE.parent,
        )
    except subprocess.TimeoutExpired:
        return False
    return "--report-dir" in proc.stdout


def run_script(script: Path, report_dir: Path, timeout_s: float) -> dict[str, Any]:
    """Run one benchmark script; its status, wall time, output tail and the JSON it wrote."""
    entry: dict[str, Any] = {"script": script.name}
    if not script.exists():
        return {**entry, "status": "missing", "note": f"{script.name} does not exist (skipped)"}
    args = ["--report-dir", str(report_dir)] if _accepts_report_dir(script) else []
    before = _json_mtimes(report_dir)
    t0 = time.monotonic()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH", "")])
        ),
    }
    print(f"== {script.name} {' '.join(args)}", flush=True)
    try:
        proc = subprocess.run(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            cwd=HERE.parent,
            env=env,
        )
        output, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or ""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        code = None
    wall = round(time.monotonic() - t0, 2)
    print(output, end="" if output.endswith("\n") else "\n", flush=True)
    results: dict[str, Any] = {}
    for path, mtime in _json_mtimes(report_dir).items():
        if before.get(path) != mtime:
            try:
                results[path.name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                results[path.name] = {"error": f"unreadable JSON: {exc}"}
    status = "timeout" if code is None else ("ok" if code == 0 else "failed")
    entry.update(status=status, exit_code=code, wall_s=wall, results=results)
    entry["output_tail"] = output.splitlines()[-30:]
    if not args:
        entry["note"] = "script does not accept --report-dir; only its output is kept"
    elif not results:
        entry["note"] = "script wrote no JSON into the report directory"
    return entry


def _scalars(data: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    if isinstance(data, dict) and depth < 3:
        rows: list[tuple[str, Any]] = []
        for key, value in data.items():
            rows += _scalars(value, f"{prefix}.{key}" if prefix else str(key), depth + 1)
        return rows
    if isinstance(data, float):
        return [(prefix, f"{data:.4g}")]
    if isinstance(data, (int, str, bool)) or data is None:
        text = str(data)
        return [(prefix, text if len(text) <= 60 else text[:57] + "...")]
    return []


def table_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One table: per script its status and wall time, then each scalar figure it reported."""
    rows: list[tuple[str, str, str]] = []
    for entry in entries:
        status = entry["status"]
        wall = f"{entry['wall_s']:.1f} s" if "wall_s" in entry else "-"
        rows.append((entry["script"], "status / wall", f"{status} / {wall}"))
        if entry.get("note"):
            rows.append(("", "note", entry["note"]))
        for name, data in entry.get("results", {}).items():
            for key, value in _scalars(data):
                rows.append(("", f"{name}: {key}", str(value)))
    w0 = max(len(r[0]) for r in [*rows, ("script", "", "")])
    w1 = max(len(r[1]) for r in [*rows, ("", "figure", "")])
    lines = [f"{'script':<{w0}}  {'figure':<{w1}}  value", f"{'-' * w0}  {'-' * w1}  -----"]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    return lines


def goal_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every goal the scripts reported (their JSON's `goals`), in script order."""
    rows = []
    for entry in entries:
        for data in entry.get("results", {}).values():
            if isinstance(data, dict):
                for g in data.get("goals", []):
                    rows.append({"script": entry["script"], **g})
    return rows


def goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The goals table: issue item, figure, value, goal, met."""
    if not rows:
        return ["no script reported a goal"]
    table = [
        (str(r.get("issue") or "-"), str(r["figure"]), str(r["value"]), str(r["goal"]),
         "met" if r["met"] else "NOT MET")
        for r in rows
    ]  # fmt: skip
    head = ("issue", "figure", "value", "goal", "")
    widths = [max(len(row[i]) for row in [*table, head]) for i in range(5)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(head), *(line(row) for row in table)]
    met = sum(1 for r in rows if r["met"])
    lines.append(f"{met} of {len(rows)} goals met")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--skip", action="append", default=[], help="script name to skip")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per script (s)")
    args = parser.parse_args(argv)
    report_dir = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    skip = {s if s.endswith(".py") else f"{s}.py" for s in args.skip}
    entries = []
    t0 = time.monotonic()
    for name in SCRIPTS:
        if name in skip:
            entries.append({"script": name, "status": "skipped", "note": "skipped by --skip"})
            continue
        entries.append(run_script(HERE / name, report_dir, args.timeout))
    goals = goal_rows(entries)
    data = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "wall_s": round(time.monotonic() - t0, 2),
        "goals": goals,
        "benchmarks": entries,
    }
    write_report(report_dir, OUTPUT, data)
    print()
    for line in table_lines(entries):
        print(line)
    print(
        "\ngoals (the machine's load average: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + ")"
    )
    for line in goal_lines(goals):
        print(line)
    print(f"\nall benchmarks: {report_dir / OUTPUT}")
    failed = [e for e in entries if e["status"] in ("failed", "timeout")]
    return 1 if failed or not all(g["met"] for g in goals) else 0


if __name__ == "__main__":
    raise SystemExit(main())
