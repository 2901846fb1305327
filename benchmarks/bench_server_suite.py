"""Benchmark: a full default run of the server suite against the embedded emulator, beside the
schemathesis CLI (`st run`) on the same spec and target, for comparison.

    python benchmarks/bench_server_suite.py [--rounds 1] [--examples 100] [--st-examples 100]

Prints, per round: wall time, CPU time of the run's processes, requests the suite checked (from
its ledger, `record_checks`) and the rate; then the same for `st run` (requests counted by the
emulator). The goal (DESIGN / issue): <= 60 s on 2 cores with >= 5,000 checked requests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    records = json.loads(ledger.read_text()) if ledger.exists() else []
    checks = sum(int(r["checks"]) for r in records)
    failed = sum(1 for r in records if r["outcome"] == "failed")
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": checks,
        "rate": checks / wall,
        "tests": len(records),
        "failed": failed,
        "exit": proc.returncode,
    }


def run_schemathesis_cli(workdir: Path, examples: int) -> dict[str, float]:
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
        cpu0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
        requests = counter.requests
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": requests,
        "rate": requests / wall if wall else 0.0,
        "exit": proc.returncode,
        "tail": proc.stdout[-400:],
    }  # type: ignore[dict-item]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--examples", type=int, default=100, help="--ecs-examples")
    parser.add_argument("--st-examples", type=int, default=100, help="st run --max-examples")
    parser.add_argument("--skip-st", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-server-suite-") as tmp:
        workdir = Path(tmp)
        print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
        for i in range(args.rounds):
            r = run_suite(workdir, args.examples)
            print(
                f"suite   round {i + 1}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                f"{r['requests']:.0f} requests checked, {r['rate']:.0f} req/s, "
                f"{r['tests']:.0f} tests, {r['failed']:.0f} failed, exit {r['exit']:.0f}"
            )
        if not args.skip_st:
            s = run_schemathesis_cli(workdir, args.st_examples)
            print(
                f"st run : {s['wall_s']:.1f} s wall, {s['cpu_s']:.1f} s CPU, "
                f"{s['requests']:.0f} requests, {s['rate']:.0f} req/s, exit {s['exit']:.0f}"
            )


if __name__ == "__main__":
    main()
