"""A race on one target: the server suite against the schemathesis CLI (`st run`).

    python benchmarks/bench_schemathesis_race.py [--rounds 3] [--examples 100]
                                                 [--st-examples N] [--report-dir reports]

The target: the reference emulator served by uvicorn in a process of its own (as
bench_emulator.py and `ecs-conformance emulator --quiet` serve it, a reboot lasting a day so
nobody waits for one), a fresh one for every run, wrapped in an ASGI counter that notes the
arrival time of every request. The same counter counts for both racers, so neither's own
bookkeeping is trusted.

* suite: `ecs-conformance server URL --examples E --seed S`, as a user types it (the test
  control API on, so it arranges instances; one pytest process, no xdist).
* schemathesis: `st run spec/RebootInstance.openapi.yaml` (the file `conformance.spec` loads)
  `--url URL --phases fuzzing --mode all --max-examples N --workers 1 --seed S` (N: by default
  half the suite's request count, rounded up: st run draws N cases for each of the two
  operations, GET and POST, one request each, plus one capability probe) with the checks
  the suite's own schemathesis test applies (`status_code_conformance`,
  `content_type_conformance`, `response_schema_conformance`, `not_a_server_error`,
  `negative_data_rejection`). Its requests are signed: a hooks file loaded through
  SCHEMATHESIS_HOOKS registers `schemathesis_run.signing_auth` (V2 over
  conformance.protocol.signing, a fresh nonce per case), the suite's own signer, so the emulator
  does the work of a real call (without it every answer would be a cheap signature error).

What is counted: RPC requests (every request to `/`: RebootInstance, and for the suite also the
DescribeInstances calls with which it observes state), each racer's own. Test-control requests
(`/_conformance/...`, the suite arranging instances) are counted apart and not in the rate: they
are the suite's overhead, and their time stays in its window. The emulator's own per-request
records are counted too (by action, and by answer code: `OK` or the error's code), to show what
work each racer's requests made it do, e.g. that st run's are not refused for their signature.

Steady state, both alike: the rate is counted at the server, over the middle 90 % of each run's
RPC requests (from the arrival of the request at 5 % of the run to that at 95 %), so start-up
is excluded from both (Python, imports, collection and preflight for the suite; schema loading,
st run's capability probe request and hypothesis' set-up before its first case, about 2.5 s
here), and so is the end (the suite's last tests, reports). The first-to-last rate and the wall
time including start-up are shown too, for both.

Rounds are interleaved (suite then st run, the order swapped each round) and medians shown.
Goal (issue 16, item 4): the suite's steady rate >= 2x st run's, with st run sending at least
as many requests as the suite (the table says whether it did).
Writes `<report-dir>/bench_schemathesis_race.json`.

`--serve --port P` is the internal entry point of the emulator process.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for _path in (str(REPO), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench_emulator import HOST, _free_port, _uvicorn_run, server_process  # noqa: E402
from measure import goal, run_measured, write_report  # noqa: E402

GOAL_RATIO = 2.0
STATS_PATH = "/_bench/stats"
CHECKS = (
    "status_code_conformance,content_type_conformance,response_schema_conformance,"
    "not_a_server_error,negative_data_rejection"
)
CREDENTIALS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "testid",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret",
}
RUN_TIMEOUT_S = 900.0
TRIM = 0.05  # the share of a run's requests left out at each end of its steady window

_HOOKS = textwrap.dedent(
    """
    # Written by benchmarks/bench_schemathesis_race.py: V2-signs every `st run` case with the
    # suite's own signer.
    import schemathesis
    from conformance.config import Credentials
    from conformance.spec import load_spec
    from conformance.suite.server.schemathesis_run import signing_auth

    schemathesis.auth(refresh_interval=None)(
        signing_auth(load_spec(), Credentials("testid", "testsecret"), safe_ids=False)
    )
    """
)


# -- the target ----------------------------------------------------------------------------------


class CountingApp:
    """ASGI wrapper: notes each RPC request's arrival time, counts test-control requests, and
    answers `STATS_PATH` itself (not counted)."""

    def __init__(self, app: Any, control_prefix: str) -> None:
        self.app = app
        self.control_prefix = control_prefix
        self.rpc: list[float] = []
        self.control = 0
        self.answers = AnswerCounter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = scope.get("path", "")
            if path == STATS_PATH:
                await self._stats(send)
                return
            if path.startswith(self.control_prefix):
                self.control += 1
            else:
                self.rpc.append(time.monotonic())
        await self.app(scope, receive, send)

    async def _stats(self, send: Any) -> None:
        stats = {
            "rpc": self.rpc,
            "control": self.control,
            "actions": self.answers.actions,
            "codes": self.answers.codes,
        }
        body = json.dumps(stats).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class AnswerCounter(logging.Handler):
    """Counts the emulator's own per-request log records (`log_requests`) by action and by
    answer code, without formatting them: what each racer's requests made the emulator do."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.actions: collections.Counter[str] = collections.Counter()
        self.codes: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 6:  # method, action, instance, code, ...
            self.actions[str(args[1])] += 1
            self.codes[str(args[3])] += 1


def serve(port: int) -> None:
    """The emulator as `ecs-conformance emulator --quiet --reboot-seconds 86400` serves it
    (the same uvicorn options), wrapped in `CountingApp`."""

    from conformance.config import Credentials, EmulatorSettings
    from conformance.emulator.app import LOGGER, create_app
    from conformance.emulator.control import CONTROL_PREFIX

    settings = EmulatorSettings(
        credentials=(
            Credentials(
                CREDENTIALS["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                CREDENTIALS["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            ),
        ),
        reboot_seconds=86400.0,
        log_requests=True,  # counted by AnswerCounter, never formatted or written
    )
    app = CountingApp(create_app(settings), CONTROL_PREFIX)
    LOGGER.addHandler(app.answers)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    _uvicorn_run(app, port)


def _stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{port}{STATS_PATH}", timeout=30) as answer:
        data: dict[str, Any] = json.loads(answer.read())
        return data


# -- the racers ----------------------------------------------------------------------------------


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def suite_cmd(url: str, workdir: Path, examples: int, seed: int) -> list[str]:
    """`ecs-conformance server URL`, as a user types it."""
    return [
        _tool("ecs-conformance"),
        "server",
        url,
        f"--report-dir={workdir / 'suite-reports'}",
        f"--examples={examples}",
        f"--seed={seed}",
    ]


def st_cmd(url: str, workdir: Path, examples: int, seed: int) -> list[str]:
    """`st run` on the generated OpenAPI, signed through the hooks file."""
    from conformance.resources import spec_dir

    return [
        _tool("st"),
        "run",
        str(spec_dir() / "RebootInstance.openapi.yaml"),
        f"--url={url.rstrip('/')}",
        "--phases=fuzzing",
        "--mode=all",
        f"--max-examples={examples}",
        "--workers=1",
        f"--seed={seed}",
        f"--checks={CHECKS}",
        f"--report-dir={workdir / 'st-reports'}",
    ]


def steady_rate(times: list[float]) -> tuple[float, float]:
    """Requests per second over the middle of a run, and that window's length (s): from the
    arrival of the request at `TRIM` of the run's requests to that at 1 - `TRIM`."""
    if len(times) < 3:
        return 0.0, 0.0
    lo = int(len(times) * TRIM)
    hi = len(times) - 1 - lo
    window = times[hi] - times[lo]
    return ((hi - lo) / window if window > 0 else 0.0), window


def race_once(racer: str, workdir: Path, examples: int, seed: int) -> dict[str, Any]:
    """One run of `racer` ("suite" or "st") against a fresh emulator process."""
    port = _free_port()
    url = f"http://{HOST}:{port}/"
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(port)]
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": os.pathsep.join([str(REPO), str(workdir)])}
    env.pop("ECS_CONFORMANCE_CONTROL_TOKEN", None)
    if racer == "st":
        env["SCHEMATHESIS_HOOKS"] = "st_signing_hooks"
        cmd = st_cmd(url, workdir, examples, seed)
    else:
        cmd = suite_cmd(url, workdir, examples, seed)
    with server_process(argv, port):
        proc = run_measured(cmd, cwd=workdir, env=env, timeout=RUN_TIMEOUT_S)
        stats = _stats(port)
    times = stats["rpc"]
    steady, window = steady_rate(times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "requests": len(times),
        "control_requests": stats["control"],
        "actions": stats["actions"],
        "codes": dict(collections.Counter(stats["codes"]).most_common(6)),
        "steady_s": round(window, 3),
        "steady_rps": steady,
        "first_to_last_rps": (len(times) - 1) / span if span > 0 else 0.0,
        "wall_s": round(proc.wall_s, 3),
        "wall_rps": len(times) / proc.wall_s if proc.wall_s else 0.0,
        "cpu_s": round(proc.cpu_s, 2),
        "exit": proc.returncode,
        "timed_out": proc.timed_out,
        "tail": (proc.stdout + proc.stderr)[-600:],
    }


# -- the benchmark -------------------------------------------------------------------------------


def st_examples_for(suite_runs: list[dict[str, Any]]) -> int:
    """`--max-examples` for st run to send at least as many RPC requests as the suite's
    largest run so far: st run draws that many cases per operation (each one request)."""
    from conformance.spec import load_spec

    operations = len(load_spec().openapi["paths"]["/"])
    wanted = max((r["requests"] for r in suite_runs), default=0)
    return max(1, -(-wanted // operations))


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median steady rate (a real run, so its figures belong together)."""
    middle = statistics.median_low(r["steady_rps"] for r in runs)
    return next(r for r in runs if r["steady_rps"] == middle)


def main(argv: list[str] | None = None) -> int:
    """Race, print the table and the goal, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--examples", type=int, default=100, help="the suite's --examples")
    parser.add_argument(
        "--st-examples",
        type=int,
        default=0,
        help="st run --max-examples (default: enough for as many requests as the suite sent)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0

    load_before = os.getloadavg()
    print(f"cpus: {os.cpu_count()}, load average before: {load_before}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"suite": [], "st": []}
    with tempfile.TemporaryDirectory(prefix="bench-race-") as tmp:
        workdir = Path(tmp)
        (workdir / "st_signing_hooks.py").write_text(_HOOKS, encoding="utf-8")
        for r in range(args.rounds):
            order = ["suite", "st"] if r % 2 == 0 else ["st", "suite"]
            for racer in order:
                if racer == "suite":
                    examples = args.examples
                else:
                    examples = args.st_examples or st_examples_for(runs["suite"])
                run = race_once(racer, workdir, examples, args.seed)
                run["examples"] = examples
                runs[racer].append(run)
                print(
                    f"  round {r + 1}/{args.rounds}  {racer:<5} {run['requests']:>6} requests "
                    f"in {run['steady_s']:6.1f} s = {run['steady_rps']:6.0f} req/s steady; "
                    f"{run['wall_s']:6.1f} s wall ({run['wall_rps']:4.0f} req/s), "
                    f"{run['control_requests']} control requests, exit {run['exit']}",
                    flush=True,
                )
                print(f"    actions {run['actions']}; most common answers {run['codes']}")
                if run["requests"] < 2 or run["timed_out"]:
                    print(f"    {racer} did not run properly; its output ends:\n{run['tail']}")
    load_after = os.getloadavg()
    suite, st = _median_run(runs["suite"]), _median_run(runs["st"])
    ratio = suite["steady_rps"] / st["steady_rps"] if st["steady_rps"] else float("inf")
    enough = min(r["requests"] for r in runs["st"]) >= max(r["requests"] for r in runs["suite"])
    met = ratio >= GOAL_RATIO
    print()
    print(f"{'racer':<14}{'requests':>9}{'steady s':>10}{'req/s':>8}{'wall s':>9}{'req/s':>8}")
    for name, run in (("suite", suite), ("st run", st)):
        print(
            f"{name:<14}{run['requests']:>9}{run['steady_s']:>10.1f}{run['steady_rps']:>8.0f}"
            f"{run['wall_s']:>9.1f}{run['wall_rps']:>8.0f}"
        )
    print(
        f"suite / st run, steady req/s: {ratio:.2f}x (goal >= {GOAL_RATIO:g}x: "
        f"{'met' if met else 'NOT met'}); st run sent at least as many requests as the suite "
        f"in every round: {'yes' if enough else 'NO'}"
    )
    print(f"load average before {load_before}, after {load_after}")
    data = {
        "benchmark": "schemathesis_race",
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "examples": args.examples,
        "st_examples": st["examples"],
        "suite": {k: v for k, v in suite.items() if k != "tail"},
        "st_run": {k: v for k, v in st.items() if k != "tail"},
        "ratio": round(ratio, 3),
        "goal_ratio_min": GOAL_RATIO,
        "goal_met": met,
        "st_sent_enough": enough,
        "goals": [
            goal(
                "suite / st run, steady checked requests per second",
                f"{ratio:.1f}x",
                f">= {GOAL_RATIO:g}x",
                met,
                "16.4",
            ),
            goal(
                "st run sent at least as many requests as the suite",
                "yes" if enough else "no",
                "yes",
                enough,
                "16.4",
            ),
        ],
        "load_before": list(load_before),
        "load_after": list(load_after),
        "all_rounds": {
            k: [{x: y for x, y in r.items() if x != "tail"} for r in v] for k, v in runs.items()
        },
    }
    write_report(args.report_dir, "bench_schemathesis_race.json", data)
    return 0 if met and enough else 1


if __name__ == "__main__":
    raise SystemExit(main())
