"""Benchmark: a full default run of the server suite against the embedded emulator, beside the
schemathesis CLI (`st run`) on the same spec and target, for comparison.

    python benchmarks/bench_server_suite.py [--rounds 1] [--examples 100] [--st-examples 100]
                                            [--report-dir reports]

Prints, per round: wall time, CPU time of the run's processes, requests the suite checked (from
its ledger, `record_checks`), the rate and the peak RSS; then the same for `st run` (requests
counted by the emulator, which lives in this process and so is not in st run's peak RSS).
Writes `<report-dir>/bench_server_suite.json`. Peak RSS is `ru_maxrss` from `os.wait4` of the
run's process (benchmarks/measure.py): the largest peak of any one process in its tree.
The goal: <= 60 s on 2 cores with >= 5,000 checked requests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import run_measured, write_report  # noqa: E402

_HOOKS = textwrap.dedent(
    """
    # Written by benchmarks/bench_server_suite.py: signs every `st run` case with V2.
    import schemathesis
    from conformance.config import Credentials
    from conformance.spec import load_spec
    from conformance.suite.server.schemathesis_run import signing_auth

    schemathesis.auth(refresh_interval=None)(
        signing_auth(load_spec(), Credentials("testid", "testsecret"), safe_ids=False)
    )
    """
)


def run_suite(workdir: Path, examples: int) -> dict[str, float]:
    """One default run: `pytest --pyargs conformance.suite.server --ecs-target embedded`."""
    ledger = workdir / "ledger.json"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite.server",
        "--ecs-target=embedded",
        f"--ecs-results={ledger}",
        f"--ecs-examples={examples}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = run_measured(cmd, cwd=workdir, env=env)
    wall = proc.wall_s
    records = json.loads(ledger.read_text()) if ledger.exists() else []
    checks = sum(int(r["checks"]) for r in records)
    failed = sum(1 for r in records if r["outcome"] == "failed")
    return {
        "wall_s": wall,
        "cpu_s": proc.cpu_s,
        "requests": checks,
        "rate": checks / wall,
        "tests": len(records),
        "failed": failed,
        "exit": proc.returncode,
        "peak_rss_mib": round(proc.peak_rss_mib, 1),
    }


def run_schemathesis_cli(workdir: Path, examples: int) -> dict[str, Any]:
    """`st run` on the generated OpenAPI against an embedded emulator, signed by our hook."""
    from conformance.config import EmulatorSettings
    from conformance.emulator import EmbeddedEmulator
    from conformance.resources import spec_dir

    hooks = workdir / "st_signing_hooks.py"
    hooks.write_text(_HOOKS)
    schema = spec_dir() / "RebootInstance.openapi.yaml"
    emu = EmbeddedEmulator(EmulatorSettings(reboot_seconds=86400.0))
    counter = _CountingApp(emu.app)
    emu.app = counter  # type: ignore[assignment]
    with emu:
        cmd = [
            "st",
            "run",
            str(schema),
            f"--url={emu.url.rstrip('/')}",
            f"--max-examples={examples}",
            "--phases=fuzzing",
            "--seed=1",
            "--checks=status_code_conformance,content_type_conformance,response_schema_conformance",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": f"{REPO}{os.pathsep}{workdir}",
            "SCHEMATHESIS_HOOKS": "st_signing_hooks",
        }
        proc = run_measured(cmd, cwd=workdir, env=env)
        wall = proc.wall_s
        requests = counter.requests
    return {
        "wall_s": wall,
        "cpu_s": proc.cpu_s,
        "requests": requests,
        "rate": requests / wall if wall else 0.0,
        "exit": proc.returncode,
        "peak_rss_mib": round(proc.peak_rss_mib, 1),
        "tail": proc.stdout[-400:],
    }


class _CountingApp:
    """An ASGI wrapper that counts HTTP requests (st run's own count mixes phases and cases)."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self.requests = 0

    async def __call__(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope.get("type") == "http":
            self.requests += 1
        await self.app(scope, receive, send)  # type: ignore[operator]


def _rounded(run: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items() if k != "tail"}


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and `st run`, print a line for each, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--examples", type=int, default=100, help="--ecs-examples")
    parser.add_argument("--st-examples", type=int, default=100, help="st run --max-examples")
    parser.add_argument("--skip-st", action="store_true")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    rounds: list[dict[str, Any]] = []
    st: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-server-suite-") as tmp:
        workdir = Path(tmp)
        print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
        for i in range(args.rounds):
            r = run_suite(workdir, args.examples)
            rounds.append(r)
            print(
                f"suite   round {i + 1}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                f"{r['requests']:.0f} requests checked, {r['rate']:.0f} req/s, "
                f"{r['tests']:.0f} tests, {r['failed']:.0f} failed, exit {r['exit']:.0f}, "
                f"peak RSS {r['peak_rss_mib']:.1f} MiB"
            )
        if not args.skip_st:
            st = run_schemathesis_cli(workdir, args.st_examples)
            print(
                f"st run : {st['wall_s']:.1f} s wall, {st['cpu_s']:.1f} s CPU, "
                f"{st['requests']:.0f} requests, {st['rate']:.0f} req/s, exit {st['exit']:.0f}, "
                f"peak RSS {st['peak_rss_mib']:.1f} MiB"
            )
    median_wall = statistics.median_low(r["wall_s"] for r in rounds) if rounds else None
    data = {
        "benchmark": "server_suite",
        "cpus": os.cpu_count(),
        "examples": args.examples,
        "st_examples": None if args.skip_st else args.st_examples,
        # The round of median wall time, for run_all's table (it shows no lists).
        "suite": next((_rounded(r) for r in rounds if r["wall_s"] == median_wall), None),
        "suite_rounds": [_rounded(r) for r in rounds],
        "st_run": None if st is None else _rounded(st),
    }
    write_report(args.report_dir, "bench_server_suite.json", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
