"""What the checking proxy costs: its added latency per request and its throughput, against the
emulator direct, with the same driver in the same run.

One command (about a minute with the defaults)::

    python benchmarks/bench_proxy.py [--duration 3] [--rounds 3] [--processes 2]
                                     [--rate 500] [--latency-seconds 4] [--report-dir reports]

The emulator runs in its own process (as `bench_emulator.py` serves it: uvicorn,
`--reboot-seconds 0`, 10,000 Running instances), the checking proxy in another
(`CheckingProxy` forwarding to it and judging every exchange in its worker thread, as
`ecs-conformance proxy --upstream URL` does), a forwarding-only proxy (its judge idle) in a
third. The driver is benchmarks/loadgen.py, fed signed
V2 RebootInstance calls with fresh nonces (real reboots):

* throughput: closed loop, `--processes` connections, interleaved rounds direct and through
  the proxy, medians;
* latency: open loop, one connection, `--rate` requests/s, in interleaved rounds too
  (`--latency-seconds` per target, split over the rounds, the samples pooled); the added
  latency is the difference of the percentiles (p50, p99).

The proxy's judge works only while its traffic is quiet (docs/command-line.md, "What the
proxy costs"), so under load it falls behind: after each run through the proxy the benchmark
waits until the judge has judged everything, before the next run starts (its judging never
overlaps another target's round), and prints the backlog left when the load stopped and how
long judging it took. At the end the proxy process reports how many exchanges it judged, its
failures (none expected) and its peak backlog. Goals (printed with the figures): p99 added
latency < 2 ms, throughput through the proxy >= half of direct. The JSON report goes to
`<report-dir>/bench_proxy.json`.

`--serve proxy --port P --upstream URL --stats FILE` is the proxy process's entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run from a checkout without an install
    sys.path.insert(0, str(REPO))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_emulator import (  # noqa: E402
    HOST,
    INSTANCE_PREFIX,
    _check,
    _free_port,
    server_process,
)
from loadgen import (  # noqa: E402
    Expect,
    SignedRebootRequests,
    WorkerPool,
    median,
    paced_latency,
    percentile,
)
from measure import goal, write_report  # noqa: E402

__all__ = ["main"]

GOALS = {
    "added_p99_ms": 2.0,  # p99 through the proxy minus p99 direct, at --rate
    "throughput_ratio": 0.5,  # proxy req/s / direct req/s, closed loop
}


def serve_proxy(port: int, upstream: str, stats: Path, forward_only: bool) -> None:
    """The checking proxy in front of `upstream` until SIGTERM; then its judge's figures go
    to `stats` (JSON). `forward_only`: the same proxy with its judge idle (a diagnostic: what
    the forwarding path alone costs)."""
    from conformance.proxy.forwarding import RawExchange
    from conformance.proxy.service import CheckingProxy, ProxySettings

    class ForwardOnly(CheckingProxy):
        def _judge(self, raw: RawExchange, origin: str | None) -> None:
            return None

    kind = ForwardOnly if forward_only else CheckingProxy
    proxy = kind(ProxySettings(upstream=upstream, port=port)).start()
    stop, asked = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(
        signal.SIGUSR1, lambda *_: asked.set()
    )  # wait_drained asks (no writes under load)
    peak = 0
    live = _live_path(stats)
    while not stop.wait(0.05):
        backlog = proxy.backlog
        peak = max(peak, backlog)
        if asked.is_set():
            asked.clear()
            tmp = live.with_suffix(".tmp")
            tmp.write_text(json.dumps({"backlog": backlog, "judged": proxy.judge.judged}))
            tmp.replace(live)  # whole, never half-written
    backlog_at_stop = proxy.backlog
    drain_started = time.perf_counter()
    proxy.stop()
    figures = {
        "exchanges": proxy.judge.exchanges,
        "judged": proxy.judge.judged,
        "peak_backlog": peak,
        "backlog_at_stop": backlog_at_stop,
        "drain_s": time.perf_counter() - drain_started,
        "client_failures": proxy.judge.failures("client"),
        "server_failures": proxy.judge.failures("server"),
    }
    stats.write_text(json.dumps(figures), encoding="utf-8")


def _live_path(stats: Path) -> Path:
    return stats.with_suffix(".live.json")


def wait_drained(pid: int, stats: Path, timeout_s: float = 120.0) -> dict[str, float]:
    """Wait until the proxy's judge (process `pid`) has judged everything recorded so far:
    `backlog` (left when the load stopped) and `drain_s` (how long judging it took after)."""
    live = _live_path(stats)
    live.unlink(missing_ok=True)
    started = time.perf_counter()
    first: int | None = None
    while time.perf_counter() - started < timeout_s:
        os.kill(pid, signal.SIGUSR1)
        time.sleep(0.02)
        try:
            backlog = int(json.loads(live.read_text())["backlog"])
        except (OSError, ValueError, KeyError):
            continue  # not written yet
        if first is None:
            first = backlog
        if backlog == 0:
            break
    return {"backlog": float(first or 0), "drain_s": time.perf_counter() - started}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from conformance.config import EmulatorSettings
    from conformance.spec import load_spec

    spec = load_spec()
    cred = EmulatorSettings().credentials[0]
    ids = tuple(f"{INSTANCE_PREFIX}{n}" for n in range(args.instances))
    emu_port, proxy_port, bare_port = _free_port(), _free_port(), _free_port()

    def signed(port: int) -> SignedRebootRequests:
        return SignedRebootRequests(
            host=f"{HOST}:{port}",
            access_key_id=cred.access_key_id,
            access_key_secret=cred.access_key_secret,
            action=spec.action,
            version=spec.version,
            instance_ids=ids,
            dry_run=False,
        )

    ok = Expect(200, b"RequestId")
    targets = {"direct": emu_port, "proxy": proxy_port, "forwarding only": bare_port}
    report: dict[str, Any] = {
        "benchmark": "bench_proxy",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": os.getloadavg(),
        },
        "settings": {
            "duration_s": args.duration,
            "rounds": args.rounds,
            "processes": args.processes,
            "instances": args.instances,
            "rate": args.rate,
            "latency_s": args.latency_seconds,
            "driver": "benchmarks/loadgen.py (raw sockets, keep-alive, presigned V2 reboots)",
        },
        "goals": GOALS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "proxy-stats.json"
        emulator = _self_argv_emulator(emu_port, args.instances)
        upstream = f"http://{HOST}:{emu_port}"
        proxy = _own_argv("--serve", "proxy", "--port", str(proxy_port), "--upstream", upstream,
                          "--stats", str(stats))  # fmt: skip
        bare = _own_argv("--serve", "forward-only", "--port", str(bare_port), "--upstream",
                         upstream, "--stats", str(Path(tmp) / "bare.json"))  # fmt: skip
        with (
            server_process(emulator, emu_port),
            server_process(proxy, proxy_port) as proxy_proc,
            server_process(bare, bare_port),
            WorkerPool(args.processes) as pool,
        ):
            per_round: dict[str, list[float]] = {name: [] for name in targets}
            checks: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
            drains: list[dict[str, float]] = []  # the proxy's judge after each of its runs
            for r in range(args.rounds):
                items = list(targets.items())
                order = items[r % len(items) :] + items[: r % len(items)]
                for name, port in order:
                    rps, results = pool.run(
                        HOST, port, signed(port), ok, duration=args.duration, warmup=0.5
                    )
                    per_round[name].append(rps)
                    checks[name].append(_check(results))
                    note = ""
                    if name == "proxy":  # its judge catches up before anything else runs
                        drained = wait_drained(proxy_proc.pid, stats)
                        drains.append(drained)
                        note = (f"  (judge: {drained['backlog']:,.0f} behind at the end, "
                                f"judged in {drained['drain_s']:.1f} s)")  # fmt: skip
                    print(f"  round {r + 1}/{args.rounds}  {name:<15} {rps:>9,.0f} req/s{note}",
                          flush=True)  # fmt: skip
            # Latency in interleaved rounds too, the samples of each target's rounds pooled:
            # a burst of load from elsewhere then falls on every target alike.
            samples: dict[str, list[float]] = {name: [] for name in targets}
            wrong = dict.fromkeys(targets, 0)
            for r in range(args.rounds):
                items = list(targets.items())
                for name, port in items[r % len(items) :] + items[: r % len(items)]:
                    result = paced_latency(HOST, port, signed(port), ok, rate=args.rate,
                                           duration=args.latency_seconds / args.rounds)  # fmt: skip
                    samples[name] += result.samples
                    wrong[name] += result.wrong
                    if name == "proxy":
                        drains.append(wait_drained(proxy_proc.pid, stats))
            latency = {
                name: {
                    "requests": len(samples[name]),
                    "wrong": wrong[name],
                    "p50_ms": percentile(samples[name], 50) * 1000,
                    "p99_ms": percentile(samples[name], 99) * 1000,
                }
                for name in targets
            }
        figures = json.loads(stats.read_text()) if stats.exists() else {"error": "no stats"}
    medians = {name: median(values) for name, values in per_round.items()}
    report["throughput_rps"] = {
        name: {"rounds": per_round[name], "median": medians[name], "checks": checks[name]}
        for name in targets
    }
    report["throughput_ratio"] = medians["proxy"] / medians["direct"]
    report["forwarding_only_ratio"] = medians["forwarding only"] / medians["direct"]
    report["latency"] = latency
    report["added_ms"] = {
        "p50": latency["proxy"]["p50_ms"] - latency["direct"]["p50_ms"],
        "p99": latency["proxy"]["p99_ms"] - latency["direct"]["p99_ms"],
    }
    report["proxy_judge"] = {**figures, "after_each_run": drains}
    report["machine"]["load_average_after"] = os.getloadavg()
    report["goals_met"] = {
        "added_p99_ms": report["added_ms"]["p99"] < GOALS["added_p99_ms"],
        "throughput_ratio": report["throughput_ratio"] >= GOALS["throughput_ratio"],
    }
    report["all_answers_correct"] = all(
        c["wrong"] == 0 and c["errors"] == 0 for cs in checks.values() for c in cs
    ) and all(entry["wrong"] == 0 for entry in latency.values())
    report["goals"] = [
        goal(
            "proxy / direct req/s",
            f"{report['throughput_ratio'] * 100:.0f} %",
            f">= {GOALS['throughput_ratio'] * 100:.0f} %",
            report["goals_met"]["throughput_ratio"],
            "15.4",
        ),
        goal(
            "p99 latency the proxy adds",
            f"{report['added_ms']['p99']:.2f} ms",
            f"< {GOALS['added_p99_ms']:g} ms",
            report["goals_met"]["added_p99_ms"],
            "15.4",
        ),
    ]
    return report


def _own_argv(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _self_argv_emulator(port: int, instances: int) -> list[str]:
    script = str(HERE / "bench_emulator.py")
    return [sys.executable, script, "--serve", "emulator", "--port", str(port),
            "--instances", str(instances)]  # fmt: skip


def print_table(report: dict[str, Any]) -> None:
    tp = report["throughput_rps"]
    print()
    print(f"{'throughput':<22}{'median req/s':>14}   rounds")
    for name, entry in tp.items():
        rounds = ", ".join(f"{v:,.0f}" for v in entry["rounds"])
        print(f"{name:<22}{entry['median']:>14,.0f}   {rounds}")
    ratio = report["throughput_ratio"]
    verdict = "PASS" if report["goals_met"]["throughput_ratio"] else "MISS"
    print(f"{'proxy / direct':<22}{ratio * 100:>13.0f}%   goal >= "
          f"{GOALS['throughput_ratio'] * 100:.0f}%  {verdict}")  # fmt: skip
    print(
        f"{'forwarding only / direct':<22}{report['forwarding_only_ratio'] * 100:>11.0f}%   "
        "(the judge idle: what the extra hop alone costs)"
    )
    lat = report["latency"]
    print()
    print(f"latency at {report['settings']['rate']:,} req/s, one connection (from send):")
    for name, entry in lat.items():
        print(f"  {name:<15} p50 {entry['p50_ms']:.3f} ms  p99 {entry['p99_ms']:.3f} ms  "
              f"({entry['requests']:,} requests)")  # fmt: skip
    added = report["added_ms"]  # the checking proxy's, not the forwarding-only one's
    verdict = "PASS" if report["goals_met"]["added_p99_ms"] else "MISS"
    print(f"  {'added (proxy)':<15} p50 {added['p50']:.3f} ms  p99 {added['p99']:.3f} ms   "
          f"goal p99 < {GOALS['added_p99_ms']:g} ms  {verdict}")  # fmt: skip
    judge = report["proxy_judge"]
    if "judged" in judge:
        print()
        print(f"proxy judge: {judge['judged']:,} exchanges judged (failures: client "
              f"{len(judge['client_failures'])}, server {len(judge['server_failures'])}); "
              f"peak backlog {judge['peak_backlog']:,}")  # fmt: skip
        runs = judge.get("after_each_run", [])
        if runs:
            shown = ", ".join(f"{d['backlog']:,.0f} in {d['drain_s']:.1f} s" for d in runs)
            print(f"  judged after each proxy run stopped (backlog, time): {shown}")
    m = report["machine"]
    print(f"load average before {m['load_average_before'][0]:.2f}, after "
          f"{m['load_average_after'][0]:.2f} ({m['cpus']} cpus)")  # fmt: skip
    if not report["all_answers_correct"]:
        print("\nWARNING: some answers were wrong or failed; see the JSON report (checks).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument("--instances", type=int, default=10_000, help="emulated instances")
    parser.add_argument("--rate", type=int, default=500, help="paced latency rate (req/s)")
    parser.add_argument("--latency-seconds", type=float, default=4.0)
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--serve", choices=["proxy", "forward-only"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_proxy(args.port, args.upstream, args.stats, args.serve == "forward-only")
        return 0
    started = time.perf_counter()
    print(f"bench_proxy: {args.rounds} rounds x {args.duration:g}s direct and through the proxy, "
          f"{args.processes} load processes; latency at {args.rate} req/s", flush=True)  # fmt: skip
    report = run(args)
    report["wall_seconds"] = time.perf_counter() - started
    print_table(report)
    out = write_report(args.report_dir, "bench_proxy.json", report)
    print(f"\nreport: {out}  ({report['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
