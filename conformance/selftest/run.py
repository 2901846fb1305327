"""`run_selftest`: the suites against the references, every mutant and every faulty client.

Every run is a pytest subprocess (`conformance.runner.run_suite`); `parallel` of them run at
once. A server run judges the suite's embedded target serving the subject (`--ecs-mutant`,
`--ecs-variant`), so each emulator lives in its own run's process, on the clock the suite can
move (a reboot ends when the suite says, not after seconds of waiting). Runs against mutants
and faulty clients load `conformance.selftest.fastfail` (no shrinking).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.client.faulty import FAULTY, FaultyClient
from conformance.client.variants import VARIANTS as CLIENT_VARIANTS
from conformance.client.variants import LegitimateClient
from conformance.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, Credentials
from conformance.errors import ConfigError, ConformanceError
from conformance.files import write_text
from conformance.mutants import Mutant, all_mutants
from conformance.mutants.variants import LegitimateVariant, all_variants
from conformance.reports.diagnosis import CLOSE_ENOUGH, FaultSignature, similarity
from conformance.runner import SuiteRun, SuiteRunResult, run_suite
from conformance.selftest.defaults import (
    DEFAULT_CLIENT_MAX_FAILURES,
    DEFAULT_CLIENT_TIMEOUT_S,
    DEFAULT_EXAMPLES,
    DEFAULT_PARALLEL,
    DEFAULT_RUN_TIMEOUT_S,
)
from conformance.selftest.fastfail import plugin_args
from conformance.selftest.result import SelftestResult, SubjectResult, TestFailure
from conformance.suite.ledger import FAILED, NOT_VERIFIED, PASSED
from conformance.suite.options import option_args

__all__ = ["client_variants", "faulty_clients", "run_selftest", "stale_signatures"]

_REFERENCE_CLIENT = "reference"
VARIANT_EXAMPLES_SHARE = 2
_PYTEST_COMPLETED = (0, 1)  # all passed / some failed; any other exit code is no verdict

Echo = Callable[[str], None]


def faulty_clients() -> tuple[FaultyClient, ...]:
    """The faulty client variants of `conformance.client.faulty` (`FAULTY`), in its order."""
    return tuple(FAULTY.values())


def client_variants() -> tuple[LegitimateClient, ...]:
    """The legitimate client variants of `conformance.client.variants`, in its order."""
    return tuple(CLIENT_VARIANTS.values())


@dataclass(frozen=True)
class _Job:
    role: str
    kind: str
    name: str
    description: str
    breaks: tuple[str, ...]
    served: Mapping[str, str]  # server jobs: what the embedded target serves (mutant, variant)
    client: str | None  # client jobs: the --ecs-client value
    freedom: str = ""
    source: str = ""
    httpx_based: bool = False


def run_selftest(
    *,
    report_dir: Path,
    seed: int,
    examples: int = DEFAULT_EXAMPLES,
    parallel: int = DEFAULT_PARALLEL,
    echo: Echo | None = None,
    include_clients: bool = True,
    mutants: Sequence[Mutant] | None = None,
    clients: Sequence[FaultyClient] | None = None,
    timeout_s: float = DEFAULT_RUN_TIMEOUT_S,
    server_options: Mapping[str, object] | None = None,
    client_options: Mapping[str, object] | None = None,
    client_max_failures: int | None = DEFAULT_CLIENT_MAX_FAILURES,
    client_timeout_s: float | None = DEFAULT_CLIENT_TIMEOUT_S,
    variants: Sequence[LegitimateVariant] | None = None,
    legit_clients: Sequence[LegitimateClient] | None = None,
    include_variants: bool = True,
    signatures: Sequence[FaultSignature] | None = None,
    signatures_examples: int | None = None,
) -> SelftestResult:
    """Run the suites against the references, every mutant and every faulty client.

    `mutants` / `clients` narrow the run to a subset (default: all; a mutant or variant is
    served by its catalogue name, so it must be one of the catalogue's); `examples` is the
    suites' `--ecs-examples`; `timeout_s` bounds each suite run; `server_options` /
    `client_options` are more suite options (`SuiteOptions` field -> value);
    a faulty client's run stops after `client_max_failures` failed tests. Runs against
    mutants and faulty clients skip hypothesis' shrinking (`conformance.selftest.fastfail`).
    `variants` / `legit_clients` narrow the precision half, the legitimate variants of the
    emulator and of the reference client, which must pass (default: all; none without
    `include_variants`).
    `signatures` (made with `signatures_examples` examples) are compared with what each
    subject failed when the run used as many (`SelftestResult.stale_signatures`, reported).
    Writes `<report_dir>/selftest.json` and returns the result; raises `ConfigError` only for
    bad arguments (a run that gives no verdict is recorded as such, not raised).
    """
    if parallel < 1:
        raise ConfigError(f"parallel must be at least 1, not {parallel}")
    if examples < 1:
        raise ConfigError(f"examples must be at least 1, not {examples}")
    chosen_mutants = tuple(all_mutants() if mutants is None else mutants)
    chosen_clients: tuple[FaultyClient, ...] = ()
    if include_clients:
        chosen_clients = tuple(faulty_clients() if clients is None else clients)
    extra = {"server": dict(server_options or {}), "client": dict(client_options or {})}
    if client_timeout_s is not None:
        extra["client"] = {"timeout_s": client_timeout_s, **extra["client"]}
    credentials = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)

    references = [_Job("reference", "server", "reference-emulator", "", (), {}, None)]
    if include_clients:
        references.append(
            _Job("reference", "client", _REFERENCE_CLIENT, "", (), {}, _REFERENCE_CLIENT)
        )
    chosen_variants: tuple[LegitimateVariant, ...] = ()
    chosen_legit: tuple[LegitimateClient, ...] = ()
    if include_variants:
        chosen_variants = tuple(all_variants() if variants is None else variants)
        if include_clients:
            chosen_legit = tuple(client_variants() if legit_clients is None else legit_clients)
    subjects = [
        _Job("mutant", "server", m.name, m.description, m.breaks, {"mutant": m.name}, None)
        for m in chosen_mutants
    ] + [
        _Job("faulty-client", "client", c.name, c.description, c.breaks, {}, c.adapter_name)
        for c in chosen_clients
    ]
    subjects += [
        _Job(
            "variant",
            "server",
            v.name,
            v.description,
            (),
            {"variant": v.name},
            None,
            v.freedom,
            v.source,
        )
        for v in chosen_variants
    ] + [
        _Job("variant", "client", c.name, c.behaviour, (), {}, c.adapter_name, c.freedom, c.source)
        for c in chosen_legit
    ]
    total = len(references) + len(subjects)
    lock = threading.Lock()
    done = [0]
    baselines: dict[str, frozenset[str]] = {}

    def execute(job: _Job) -> SubjectResult:
        result = _run_job(
            job,
            credentials=credentials,
            seed=seed,
            examples=examples,
            timeout_s=timeout_s,
            extra=extra[job.kind],
            max_failures=client_max_failures if job.kind == "client" else None,
        )
        if job.role != "reference":
            result = replace(result, baseline=baselines.get(job.kind, frozenset()))
        if echo is not None:
            with lock:  # one whole line per finished run, whichever thread finishes it
                done[0] += 1
                echo(f"[{done[0]:>2}/{total}] {_progress_text(result)}")
        return result

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="selftest") as pool:
        # References first: a test that fails on the reference too says nothing about a
        # mutant, so their failures are every other run's baseline.
        refs = {r.kind: r for r in pool.map(execute, references)}
        baselines.update({k: frozenset(f.nodeid for f in r.failures) for k, r in refs.items()})
        # Longest runs first (client runs take about twice a server run) to shorten the tail.
        order = sorted(range(len(subjects)), key=lambda i: subjects[i].kind != "client")
        finished = dict(zip(order, pool.map(execute, [subjects[i] for i in order]), strict=True))
    results = [finished[i] for i in range(len(subjects))]
    duration = round(time.monotonic() - t0, 3)

    result = SelftestResult(
        seed=seed,
        examples=examples,
        duration_s=duration,
        reference=refs["server"],
        mutants=tuple(r for r in results if r.role == "mutant"),
        client_reference=refs.get("client"),
        faulty_clients=tuple(r for r in results if r.role == "faulty-client"),
        variants=tuple(r for r in results if r.role == "variant" and r.kind == "server"),
        client_variants=tuple(r for r in results if r.role == "variant" and r.kind == "client"),
    )
    if signatures is not None and signatures_examples == examples:
        stale = stale_signatures(result, signatures, client_max_failures)
        result = replace(result, stale_signatures=stale)
    path = write_text(report_dir / "selftest.json", json.dumps(result.to_json(), indent=2) + "\n")
    return replace(result, report_path=path)


def stale_signatures(
    result: SelftestResult,
    committed: Sequence[FaultSignature],
    client_max_failures: int | None = DEFAULT_CLIENT_MAX_FAILURES,
) -> tuple[str, ...]:
    """The subjects of `result` whose failures are no longer close to their committed
    signature (a run's diagnosis would not name them), or that have none. A client run cut
    short by `client_max_failures` is not compared: its failures are a part by design."""
    by_name = {s.name: s for s in committed}
    stale = []
    for subject in (*result.mutants, *result.faulty_clients):
        if not subject.killed:
            continue  # a survivor fails selftest on its own
        cut = subject.kind == "client" and client_max_failures is not None
        if cut and subject.failed >= (client_max_failures or 0):
            continue
        known = by_name.get(subject.name)
        fresh = set(subject.failed_requirements)
        if known is None or similarity(fresh, known.requirements) < CLOSE_ENOUGH:
            stale.append(subject.name)
    return tuple(stale)


def _progress_text(r: SubjectResult) -> str:
    label = {
        "reference": f"{r.kind} reference",
        "mutant": "mutant",
        "faulty-client": "client",
        "variant": f"{r.kind} variant",
    }
    head = f"{label[r.role]} {r.name}: "
    if r.error:
        return head + f"did not complete ({r.error.splitlines()[0]})"
    if r.role == "variant":
        if r.false_alarm:
            ids = " ".join(r.failed_requirements) or "?"
            return head + f"FALSE ALARM on {ids} ({r.duration_s:.1f} s)"
        return head + f"passed ({r.duration_s:.1f} s)"
    if r.role == "reference":
        verdict = "clean" if r.clean else "FAILED " + " ".join(r.failed_requirements)
        return head + f"{verdict} ({r.passed} passed, {r.duration_s:.1f} s)"
    if r.killed:
        return head + f"killed by {' '.join(r.failed_requirements) or '?'} ({r.duration_s:.1f} s)"
    return head + f"SURVIVED ({r.duration_s:.1f} s)"


def _run_job(
    job: _Job,
    *,
    credentials: Credentials,
    seed: int,
    examples: int,
    timeout_s: float,
    extra: Mapping[str, object],
    max_failures: int | None,
) -> SubjectResult:
    base = SubjectResult(
        role=job.role,
        kind=job.kind,
        name=job.name,
        description=job.description,
        breaks=job.breaks,
        freedom=job.freedom,
        source=job.source,
    )
    # Mutants and faulty clients need a verdict, not minimal examples: no shrinking there
    # (conformance.selftest.fastfail), and at most `max_failures` failed tests. The references
    # keep the suite's own settings.
    fast: tuple[str, ...] = ()
    if job.role != "reference":
        fast = (*plugin_args(), *((f"--maxfail={max_failures}",) if max_failures else ()))
    if job.role == "variant":
        # A legitimate variant differs from the reference in one choice, which shows in the
        # first examples; its runs take half the examples (VARIANT_EXAMPLES_SHARE), and an
        # httpx-based client variant is judged on the in-process server only (its requests
        # are built the same way for both servers).
        examples = max(2, examples // VARIANT_EXAMPLES_SHARE)
        if job.kind == "client" and job.httpx_based:
            fast = (*fast, "-k", "not loopback")
    common = {"examples": examples, **extra}
    if job.kind == "server":
        options = {"target": "embedded", **job.served, **common}
    else:
        options = {"client": job.client, **common}
    t0 = time.monotonic()
    try:
        outcome = run_suite(_suite_run(job.kind, options, credentials, seed, timeout_s, fast))
    except ConformanceError as exc:
        # A run that did not complete is neither clean nor a kill: the suite must give a
        # verdict on a misbehaving target, never stop.
        return replace(base, error=str(exc), duration_s=round(time.monotonic() - t0, 3))
    return _subject_result(base, outcome)


def _suite_run(
    kind: str,
    options: Mapping[str, object],
    credentials: Credentials,
    seed: int,
    timeout_s: float,
    pytest_args: Sequence[str],
) -> SuiteRun:
    return SuiteRun(
        kind=kind,
        options=tuple(option_args(options)),
        credentials=credentials,
        seed=seed,
        timeout_s=timeout_s,
        extra_pytest_args=tuple(pytest_args),
    )


def _subject_result(base: SubjectResult, outcome: SuiteRunResult) -> SubjectResult:
    if outcome.pytest_exit_code not in _PYTEST_COMPLETED:
        # pytest's internal error (3) or "no tests collected" (5): the run gave no verdict.
        tail = "\n".join(outcome.output_tail.splitlines()[-8:])
        return replace(
            base,
            pytest_exit_code=outcome.pytest_exit_code,
            duration_s=outcome.duration_s,
            error=f"pytest exit {outcome.pytest_exit_code}: {tail}",
        )
    records = list(outcome.ledger)
    return replace(
        base,
        passed=sum(r.outcome == PASSED for r in records),
        not_verified=sum(r.outcome == NOT_VERIFIED for r in records),
        failures=tuple(
            TestFailure(r.nodeid, tuple(r.failed_requirements), r.reason)
            for r in records
            if r.outcome == FAILED
        ),
        pytest_exit_code=outcome.pytest_exit_code,
        duration_s=outcome.duration_s,
    )
