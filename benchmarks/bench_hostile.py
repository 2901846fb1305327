"""Wall time and peak RSS of a suite run against each hostile peer (tests/hostile/peers.py).

    python benchmarks/bench_hostile.py [CASE ...] [--limit-s 240] [--as-gib 6] [--report-dir DIR]

Each case is one `ecs-conformance server|client` run, as a user types it (default options), in a
subprocess measured with `os.wait4` (benchmarks/measure.py), under an address-space cap
(`ulimit -v`, `--as-gib`) and a wall-time limit (`--limit-s`) so that a run that would exhaust
the machine or hang is stopped and shown as such. The goal (issue 12) for every case: peak RSS
under 1 GiB, under 180 s, exit 1, and the reports written (`conformance.json` exists).

Cases: server-big-body (every answer a 50 MiB body), server-drip (one byte a second),
server-silent (never answers), client-spew (an adapter printing 100 MiB per call), client-hang
(an adapter that never returns), client-detach (an adapter leaving a setsid child behind: the
table counts the children still alive after the run). Writes `<report-dir>/bench_hostile.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PEERS = ROOT / "tests" / "hostile" / "peers.py"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import RssSampler, run_measured, write_report  # noqa: E402

SERVER_CASES = {"server-big-body": "big-body", "server-drip": "drip", "server-silent": "silent"}
CLIENT_CASES = {"client-spew": "spew", "client-hang": "hang", "client-detach": "detach"}
CASES = (*SERVER_CASES, *CLIENT_CASES)


def _cli() -> str:
    return str(Path(sys.executable).with_name("ecs-conformance"))


def _alive(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        count += 1
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # leave nothing behind this benchmark
    return count


def run_case(case: str, limit_s: float, as_gib: float, workdir: Path) -> dict[str, object]:
    """One hostile case, measured; its figures as a dict."""
    reports = workdir / case
    pidfile = workdir / f"{case}.pids"
    server = None
    if case in SERVER_CASES:
        server = subprocess.Popen(
            [sys.executable, str(PEERS), "server", SERVER_CASES[case]],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        args = [_cli(), "server", url, "--report-dir", str(reports)]
    else:
        command = [sys.executable, str(PEERS), "adapter", CLIENT_CASES[case]]
        if case == "client-detach":
            command += ["--pidfile", str(pidfile)]
        args = [_cli(), "client", "--command", shlex.join(command), "--report-dir", str(reports)]
    limit_kib = int(as_gib * (1 << 20))
    shell = f"ulimit -v {limit_kib} && exec {shlex.join(args)}"
    try:
        with RssSampler(0.2) as sampler:
            measured = run_measured(["bash", "-c", shell], cwd=ROOT, timeout=limit_s)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    pids = [int(p) for p in pidfile.read_text().split()] if pidfile.exists() else []
    tail = (measured.stdout + measured.stderr).strip().splitlines()[-1:] or [""]
    return {
        "case": case,
        "wall_s": round(measured.wall_s, 1),
        # wait4's figure misses processes nothing waited for (a run killed at the limit): the
        # sampled largest process covers those.
        "peak_rss_mib": round(max(measured.peak_rss_mib, sampler.peak_one_kib / 1024), 1),
        "exit": measured.returncode,
        "timed_out": measured.timed_out,
        "reports_written": (reports / "conformance.json").exists(),
        "children_left": _alive(pids) if case == "client-detach" else None,
        "last_line": tail[0][:160],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"any of {', '.join(CASES)} (default: all)")
    parser.add_argument("--limit-s", type=float, default=240.0)
    parser.add_argument("--as-gib", type=float, default=6.0)
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    rows = []
    print(f"{'case':<17} {'wall s':>7} {'peak MiB':>9} {'exit':>5} {'reports':>8} {'left':>5}")
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        for case in args.cases or CASES:
            started = time.monotonic()
            row = run_case(case, args.limit_s, args.as_gib, Path(tmp))
            rows.append(row)
            wall = f"{row['wall_s']}" + ("+" if row["timed_out"] else "")
            left = "" if row["children_left"] is None else str(row["children_left"])
            print(
                f"{case:<17} {wall:>7} {row['peak_rss_mib']:>9} {row['exit']:>5} "
                f"{'yes' if row['reports_written'] else 'NO':>8} {left:>5}"
                f"   ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    out = write_report(
        args.report_dir, "bench_hostile.json", {"limit_s": args.limit_s, "cases": rows}
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
