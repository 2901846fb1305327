"""Throughput, latency and memory of the reference emulator, side by side with its baselines.

One command (about 1.5 minutes with the defaults)::

    python benchmarks/bench_emulator.py [--duration 3] [--rounds 5] [--processes 2]
                                        [--report-dir reports] [--no-moto]

Measured in the same run, with the same load driver (benchmarks/loadgen.py), interleaved rounds,
medians reported:

* the emulator (its own process, uvicorn, `--reboot-seconds 0`, 10,000 Running instances):
  signed RebootInstance DryRun calls and real reboots (cycling through the instances);
* moto's server answering EC2 RebootInstances (real and DryRun), the usual "cloud emulator"
  baseline;
* a plain Starlette endpoint on the same uvicorn settings returning a small JSON body, fed the
  very same signed request bytes: the ceiling of the stack.

Then p50/p99 latency of real reboots at half the emulator's saturating rate (one paced
connection), and the emulator process's RSS with 10,000 instances. Goals (printed with the
ratios): >= 10x moto, >= 50 % of the Starlette ceiling for both reboot and DryRun (issue 16,
item 5), p99 < 5 ms at half the saturating rate, 10,000 instances < 50 MB RSS. A ratio to the
ceiling is the median of the rounds' own ratios (each round measures the emulator and the
ceiling within seconds of each other), since this shared machine's speed drifts from round to
round by more than the difference measured.
The JSON report goes to `<report-dir>/bench_emulator.json`.

`--serve emulator|starlette --port P` is the internal entry point of the server processes.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run from a checkout without an install
    sys.path.insert(0, str(REPO))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from loadgen import (  # noqa: E402
    Expect,
    FixedRequests,
    JobResult,
    SignedRebootRequests,
    WorkerPool,
    http_request,
    median,
    paced_latency,
)
from measure import goal, write_report  # noqa: E402

__all__ = ["main"]

HOST = "127.0.0.1"
INSTANCE_PREFIX = "i-bench-"
MOTO_VERSION = "2016-11-15"
MOTO_IMAGE = "ami-12c6146b"  # an AMI moto ships
GOALS = {
    "vs_moto": 10.0,  # emulator rps / moto rps
    "vs_starlette": 0.50,  # emulator rps / plain Starlette rps, each of reboot and DryRun
    "p99_ms": 5.0,  # at half the saturating rate
    "rss_mb": 50.0,  # with 10,000 instances
}
STARTUP_TIMEOUT_S = 30.0


# -- server processes ---------------------------------------------------------------------------


def _uvicorn_run(app: Any, port: int) -> None:
    """Serve `app` as `conformance.emulator.server` serves the emulator: httptools/uvloop where
    installed, and its request deadline and keep-alive bound (`uvicorn_options`, the default
    settings'), so that the emulator and the Starlette ceiling run on the very same stack."""
    import uvicorn

    from conformance.config import EmulatorSettings
    from conformance.emulator.server import uvicorn_options

    defaults = EmulatorSettings()
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        **uvicorn_options(defaults.request_timeout_s, defaults.keep_alive_s),
    )


def serve_emulator(port: int, instances: int) -> None:
    """The emulator as `ecs-conformance emulator --quiet --reboot-seconds 0` would run it,
    with `instances` Running instances created in-process before serving."""
    from conformance.config import EmulatorSettings
    from conformance.emulator.app import create_app
    from conformance.emulator.state import InstanceSnapshot

    app = create_app(EmulatorSettings(reboot_seconds=0.0, log_requests=False))
    world = app.state.world
    running = app.state.spec.precondition_status
    for n in range(instances):
        world.put(InstanceSnapshot(f"{INSTANCE_PREFIX}{n}", running))
    _uvicorn_run(app, port)


def serve_starlette(port: int) -> None:
    """The stack's ceiling: a plain Starlette route answering a small JSON body."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = {"RequestId": "00000000-0000-0000-0000-000000000000"}

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(body)

    _uvicorn_run(Starlette(routes=[Route("/", endpoint, methods=["GET", "POST"])]), port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server process exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server on port {port} did not start within {timeout}s")


@contextmanager
def server_process(argv: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait for its port, stop it (by its own pid) afterwards."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # The server's output goes to a file, never to an unread pipe: moto logs every request
    # and would block once a pipe buffer filled up.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                _wait_for_port(port, proc, STARTUP_TIMEOUT_S)
            except RuntimeError as exc:
                log.seek(0)
                tail = log.read()[-2000:].decode("utf-8", "replace")
                raise RuntimeError(f"{exc}: {' '.join(argv[1:])}\n{tail}") from None
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """VmRSS of a process, MiB (Linux /proc)."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def _self_argv(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


# -- moto ---------------------------------------------------------------------------------------


def _moto_signed(port: int, body: str) -> bytes:
    """An EC2 query request signed with botocore's SigV4 (moto accepts any credentials)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{HOST}:{port}/"
    req = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("testing", "testing"), "ec2", "us-east-1").add_auth(req)
    headers = [(k, v) for k, v in req.headers.items() if k.lower() != "host"]
    return http_request("POST", "/", host=f"{HOST}:{port}", body=body.encode(), headers=headers)


def _one_request(port: int, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection((HOST, port), timeout=30) as s:
        s.sendall(raw)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            data = b"".join(chunks)
            head, sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
            if sep and m and len(body) >= int(m.group(1)):
                break
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body


def moto_instance(port: int) -> str:
    """RunInstances once (moto's first EC2 call takes ~1 s) and return the instance id."""
    body = f"Action=RunInstances&ImageId={MOTO_IMAGE}&MinCount=1&MaxCount=1&Version={MOTO_VERSION}"
    status, answer = _one_request(port, _moto_signed(port, body))
    match = re.search(rb"<instanceId>(i-[0-9a-f]+)</instanceId>", answer)
    if status != 200 or match is None:
        raise RuntimeError(f"moto RunInstances failed: {status} {answer[:200]!r}")
    return match.group(1).decode()


# -- the benchmark -----------------------------------------------------------------------------


@dataclass
class Target:
    """One measured configuration: where, what to send, what a right answer looks like."""

    name: str
    port: int
    source: Any
    expect: Expect
    max_rps: float = 20_000.0


def _check(result: list[JobResult]) -> dict[str, Any]:
    """Correctness of one run: every answer must be the expected one."""
    wrong = sum(r.wrong for r in result)
    completed = sum(r.completed for r in result)
    first = next((r.first_wrong for r in result if r.first_wrong), "")
    return {
        "completed": completed,
        "wrong": wrong,
        "errors": sum(r.errors for r in result),
        "reconnects": sum(r.reconnects for r in result),
        "signed_on_the_fly": sum(r.extra_signed for r in result),
        "first_wrong": first,
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def _fmt_ratio(value: float, goal: float, higher_is_better: bool = True) -> str:
    ok = value >= goal if higher_is_better else value <= goal
    return "PASS" if ok else "MISS"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers, measure, return the report (also printed as a table)."""
    from conformance.config import EmulatorSettings
    from conformance.spec import load_spec

    spec = load_spec()
    cred = EmulatorSettings().credentials[0]
    ids = tuple(f"{INSTANCE_PREFIX}{n}" for n in range(args.instances))
    report: dict[str, Any] = {
        "benchmark": "bench_emulator",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "processes": args.processes,
            "instances": args.instances,
            "latency_s": args.latency_seconds,
            "driver": "benchmarks/loadgen.py (raw sockets, keep-alive, presigned V2 requests)",
        },
        "goals": GOALS,
    }
    emu_port, plain_port, moto_port, empty_port = (_free_port() for _ in range(4))

    def signed(port: int, dry_run: bool) -> SignedRebootRequests:
        return SignedRebootRequests(
            host=f"{HOST}:{port}",
            access_key_id=cred.access_key_id,
            access_key_secret=cred.access_key_secret,
            action=spec.action,
            version=spec.version,
            instance_ids=ids,
            dry_run=dry_run,
        )

    dry = spec.dryrun
    targets = [
        Target("emulator DryRun", emu_port, signed(emu_port, True),
               Expect(dry.http_status, dry.code.encode())),
        Target("emulator reboot", emu_port, signed(emu_port, False), Expect(200, b"RequestId")),
        Target("starlette ceiling", plain_port, signed(plain_port, False),
               Expect(200, b"RequestId")),
    ]  # fmt: skip

    with (
        server_process(
            _self_argv("--serve", "emulator", "--port", str(emu_port), "--instances",
                       str(args.instances)), emu_port,
        ) as emu_proc,
        server_process(_self_argv("--serve", "starlette", "--port", str(plain_port)),
                       plain_port) as plain_proc,
        _maybe_moto(args, moto_port) as moto_proc,
        WorkerPool(args.processes) as pool,
    ):  # fmt: skip
        rss: dict[str, float] = {"emulator_with_instances_idle": rss_mib(emu_proc.pid)}
        rss["starlette_idle"] = rss_mib(plain_proc.pid)
        with server_process(
            _self_argv("--serve", "emulator", "--port", str(empty_port), "--instances", "0"),
            empty_port,
        ) as empty_proc:
            rss["emulator_without_instances_idle"] = rss_mib(empty_proc.pid)
        if moto_proc is not None:
            instance = moto_instance(moto_port)
            base = f"Action=RebootInstances&InstanceId.1={instance}&Version={MOTO_VERSION}"
            targets += [
                Target("moto reboot", moto_port,
                       FixedRequests((_moto_signed(moto_port, base),)),
                       Expect(200, b"RebootInstancesResponse"), max_rps=2_000),
                Target("moto DryRun", moto_port,
                       FixedRequests((_moto_signed(moto_port, base + "&DryRun=true"),)),
                       Expect(412, b"DryRunOperation"), max_rps=2_000),
            ]  # fmt: skip
            rss["moto_after_first_call"] = rss_mib(moto_proc.pid)

        per_round: dict[str, list[float]] = {t.name: [] for t in targets}
        # The server's CPU time per answered request, round by round: what a request costs the
        # server, much steadier on a shared machine than the rate it reaches.
        cpu_per_request: dict[str, list[float]] = {t.name: [] for t in targets}
        pids = {emu_port: emu_proc.pid, plain_port: plain_proc.pid}
        if moto_proc is not None:
            pids[moto_port] = moto_proc.pid
        checks: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
        for r in range(args.rounds):
            # interleave, and rotate the order so no target always runs first or last
            order = targets[r % len(targets) :] + targets[: r % len(targets)]
            for target in order:
                cpu_before = cpu_seconds(pids[target.port])
                rps, results = pool.run(
                    HOST,
                    target.port,
                    target.source,
                    target.expect,
                    duration=args.duration,
                    warmup=args.warmup,
                    max_rps=target.max_rps,
                )
                per_round[target.name].append(rps)
                answered = sum(r.exchanges for r in results)
                spent = cpu_seconds(pids[target.port]) - cpu_before
                cpu_per_request[target.name].append(spent / answered * 1e6 if answered else 0.0)
                checks[target.name].append(_check(results))
                print(f"  round {r + 1}/{args.rounds}  {target.name:<18} {rps:>9,.0f} req/s",
                      flush=True)  # fmt: skip
        rss["emulator_after_load"] = rss_mib(emu_proc.pid)

        medians = {name: median(values) for name, values in per_round.items()}
        saturating = medians["emulator reboot"]
        latency = paced_latency(
            HOST,
            emu_port,
            signed(emu_port, False),
            Expect(200, b"RequestId"),
            rate=saturating / 2,
            duration=args.latency_seconds,
        )
        rss["emulator_after_latency"] = rss_mib(emu_proc.pid)

    report["throughput_rps"] = {
        name: {"rounds": per_round[name], "median": medians[name], "checks": checks[name]}
        for name in per_round
    }
    ratios: dict[str, Any] = {}
    for kind in ("reboot", "DryRun"):
        if f"moto {kind}" in medians:
            ratios[f"vs_moto_{kind}"] = _ratio(medians[f"emulator {kind}"], medians[f"moto {kind}"])
        # Paired by round: the ceiling measured in the same round, seconds apart.
        paired = [
            emu / plain
            for emu, plain in zip(
                per_round[f"emulator {kind}"], per_round["starlette ceiling"], strict=True
            )
            if plain > 0
        ]
        ratios[f"vs_starlette_{kind}"] = median(paired) if paired else 0.0
        ratios[f"vs_starlette_{kind}_rounds"] = paired
        ratios[f"vs_starlette_{kind}_of_medians"] = (
            medians[f"emulator {kind}"] / medians["starlette ceiling"]
        )
        # The same comparison by cost: Starlette's CPU per request over the emulator's.
        costs = [
            plain / emu
            for emu, plain in zip(
                cpu_per_request[f"emulator {kind}"],
                cpu_per_request["starlette ceiling"],
                strict=True,
            )
            if emu > 0
        ]
        ratios[f"cpu_vs_starlette_{kind}"] = median(costs) if costs else 0.0
        ratios[f"cpu_vs_starlette_{kind}_rounds"] = costs
    report["ratios"] = ratios
    report["server_cpu_us_per_request"] = {
        name: {"rounds": values, "median": median(values) if values else 0.0}
        for name, values in cpu_per_request.items()
    }
    report["latency"] = {
        "offered_rps": latency.offered_rps,
        "achieved_rps": latency.achieved_rps,
        "requests": len(latency.samples),
        "wrong": latency.wrong,
        "p50_ms": latency.p(50) * 1000,
        "p99_ms": latency.p(99) * 1000,
        "p50_ms_from_schedule": latency.p(50, from_schedule=True) * 1000,
        "p99_ms_from_schedule": latency.p(99, from_schedule=True) * 1000,
    }
    report["rss_mib"] = rss
    goals = {
        "vs_starlette": min(ratios["vs_starlette_reboot"], ratios["vs_starlette_DryRun"])
        >= GOALS["vs_starlette"],
        "p99_ms": report["latency"]["p99_ms"] < GOALS["p99_ms"],
        "rss_mb": rss["emulator_with_instances_idle"] * 1.048576 < GOALS["rss_mb"],
    }
    if "vs_moto_reboot" in ratios:
        goals["vs_moto"] = ratios["vs_moto_reboot"] >= GOALS["vs_moto"]
    report["goals_met"] = goals
    pct = GOALS["vs_starlette"] * 100
    report["goals"] = [
        goal(
            f"emulator {kind} / plain Starlette req/s (median of paired rounds)",
            f"{ratios[f'vs_starlette_{kind}'] * 100:.0f} %",
            f">= {pct:.0f} %",
            ratios[f"vs_starlette_{kind}"] >= GOALS["vs_starlette"],
            "16.5",
        )
        for kind in ("reboot", "DryRun")
    ]
    if "vs_moto_reboot" in ratios:
        report["goals"] += [
            goal(
                f"emulator {kind} / moto {kind} req/s",
                f"{ratios[f'vs_moto_{kind}']:.1f}x",
                f">= {GOALS['vs_moto']:g}x",
                ratios[f"vs_moto_{kind}"] >= GOALS["vs_moto"],
            )
            for kind in ("reboot", "DryRun")
        ]
    rss_mb = rss["emulator_with_instances_idle"] * 1.048576
    report["goals"] += [
        goal(
            "reboot p99 latency at half the saturating rate",
            f"{report['latency']['p99_ms']:.2f} ms",
            f"< {GOALS['p99_ms']:g} ms",
            goals["p99_ms"],
        ),
        goal("emulator RSS with 10,000 instances", f"{rss_mb:.1f} MB", "< 50 MB", goals["rss_mb"]),
    ]
    report["all_answers_correct"] = (
        all(c["wrong"] == 0 and c["errors"] == 0 for cs in checks.values() for c in cs)
        and latency.wrong == 0
    )
    return report


@contextmanager
def _maybe_moto(args: argparse.Namespace, port: int) -> Iterator[subprocess.Popen[bytes] | None]:
    if args.no_moto:
        yield None
        return
    try:
        import moto  # noqa: F401
    except ImportError:
        print("moto is not installed: skipping the moto baseline", file=sys.stderr)
        yield None
        return
    with server_process([sys.executable, "-m", "moto.server", "-p", str(port)], port) as proc:
        yield proc


def print_table(report: dict[str, Any]) -> None:
    """The human summary: throughput medians, ratios against the goals, latency, memory."""
    tp = report["throughput_rps"]
    print()
    print(f"{'target':<20}{'median req/s':>14}   rounds")
    for name, entry in tp.items():
        rounds = ", ".join(f"{v:,.0f}" for v in entry["rounds"])
        print(f"{name:<20}{entry['median']:>14,.0f}   {rounds}")
    print()
    ratios = report["ratios"]
    g = GOALS
    print(f"{'ratio':<34}{'value':>9}  goal")
    for kind in ("reboot", "DryRun"):
        key = f"vs_moto_{kind}"
        if key in ratios:
            verdict = _fmt_ratio(ratios[key], g["vs_moto"])
            print(f"{'emulator ' + kind + ' / moto ' + kind:<34}{ratios[key]:>8.1f}x"
                  f"  >= {g['vs_moto']:.0f}x  {verdict}")  # fmt: skip
    for kind in ("reboot", "DryRun"):
        key = f"vs_starlette_{kind}"
        verdict = _fmt_ratio(ratios[key], g["vs_starlette"])
        print(f"{'emulator ' + kind + ' / Starlette':<34}{ratios[key] * 100:>8.0f}%"
              f"  >= {g['vs_starlette'] * 100:.0f}%  {verdict}")  # fmt: skip
        rounds = ", ".join(f"{r * 100:.0f}%" for r in ratios.get(f"{key}_rounds", []))
        print(f"  (median of the rounds' ratios: {rounds}; ratio of the medians "
              f"{ratios.get(key + '_of_medians', 0) * 100:.0f}%)")  # fmt: skip
        cost = ratios.get(f"cpu_{key}")
        if cost is not None:
            costs = ", ".join(f"{r * 100:.0f}%" for r in ratios.get(f"cpu_{key}_rounds", []))
            print(f"  by server CPU per request, Starlette's / the emulator's: {cost * 100:.0f}%"
                  f" (rounds: {costs}; not the goal, a steadier view of it)")  # fmt: skip
    cpu = report.get("server_cpu_us_per_request")
    if cpu:
        print("server CPU per request (median of rounds): " + ", ".join(
            f"{name} {entry['median']:.0f} us" for name, entry in cpu.items()))  # fmt: skip
    lat = report["latency"]
    print()
    print(
        f"latency at {lat['offered_rps']:,.0f} req/s offered (half the saturating rate), one "
        f"connection, achieved {lat['achieved_rps']:,.0f} req/s:"
    )
    verdict = _fmt_ratio(lat["p99_ms"], g["p99_ms"], higher_is_better=False)
    print(f"  p50 {lat['p50_ms']:.2f} ms  p99 {lat['p99_ms']:.2f} ms (from send);  "
          f"p50 {lat['p50_ms_from_schedule']:.2f} ms  p99 {lat['p99_ms_from_schedule']:.2f} ms "
          f"(from schedule)   goal p99 < {g['p99_ms']:.0f} ms  {verdict}")  # fmt: skip
    rss = report["rss_mib"]
    mb = rss["emulator_with_instances_idle"] * 1.048576
    verdict = _fmt_ratio(mb, g["rss_mb"], higher_is_better=False)
    print()
    print(f"RSS, emulator with {report['settings']['instances']:,} instances: "
          f"{rss['emulator_with_instances_idle']:.1f} MiB ({mb:.1f} MB)   goal < "
          f"{g['rss_mb']:.0f} MB  {verdict}")  # fmt: skip
    print(f"  without instances {rss['emulator_without_instances_idle']:.1f} MiB; plain "
          f"Starlette {rss['starlette_idle']:.1f} MiB; emulator after the load "
          f"{rss['emulator_after_load']:.1f} MiB (remembered nonces)"
          + (f"; moto {rss['moto_after_first_call']:.1f} MiB" if "moto_after_first_call" in rss
             else ""))  # fmt: skip
    if not report["all_answers_correct"]:
        print("\nWARNING: some answers were wrong or failed; see the JSON report (checks).")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the benchmark (or, with --serve, one of its server processes)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--processes", type=int, default=2, help="load processes (2-4)")
    parser.add_argument("--instances", type=int, default=10_000, help="emulated instances")
    parser.add_argument("--latency-seconds", type=float, default=3.0)
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--no-moto", action="store_true", help="skip the moto baseline")
    parser.add_argument("--serve", choices=["emulator", "starlette"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve == "emulator":
        serve_emulator(args.port, args.instances)
        return 0
    if args.serve == "starlette":
        serve_starlette(args.port)
        return 0

    started = time.perf_counter()
    print(f"bench_emulator: {args.rounds} rounds x {args.duration:g}s per target, "
          f"{args.processes} load processes, {args.instances:,} instances", flush=True)  # fmt: skip
    report = run(args)
    report["wall_seconds"] = time.perf_counter() - started
    print_table(report)
    out = write_report(args.report_dir, "bench_emulator.json", report, default=_json_default)
    print(f"\nreport: {out}  ({report['wall_seconds']:.0f} s)")
    return 0


def _json_default(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
