"""Several suite runs at once: the main job judges its targets side by side.

Each run is already a pytest process of its own (`conformance.runner`), so running several is
a matter of threads that wait on them. The client suites spend most of their time waiting
(on a scripted server that never answers, on an adapter's timeout); the server suite is CPU
bound and the longest, so it starts first and the caller lowers the others' priority
(`SuiteRun.niceness`). Results are handed to the caller in the main thread, as each run ends,
so that reports are written by one thread only.

An interruption (SIGINT or SIGTERM raise `processes.Interrupted` in the main thread; one that
arrives while a finished run is handed over waits for the handover to end) or a run that
raises (a setup error, a suite that did not complete) stops every run still going; the
`Schedule` then says which runs had finished, which were running and which never started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from conformance.processes import interruptions_held
from conformance.runner import SuiteRun, SuiteRunResult, run_suite, stop_running

__all__ = ["Planned", "Schedule"]


@dataclass(frozen=True)
class Planned:
    """One run of the plan: its label (`server: embedded`) and the suite run."""

    label: str
    run: SuiteRun


@dataclass
class Schedule:
    """Runs `plan` with at most `jobs` at once, in plan order (put the longest first).

    `started(index, planned)` is called in the run's thread as it starts, `echo(planned)`
    gives the function its progress lines go to, and `finished(index, planned, result)` is
    called in the calling thread as each run ends (`run(finished)`): the run counts as done
    once it returns. `ended(index, planned, result)` is called after that, to announce the
    end: whoever reads the announcement and then interrupts finds the run in `done`, never in
    `running`. `done`, `running` and `not_started` hold indexes into `plan` (after an
    interruption: where each run was)."""

    plan: Sequence[Planned]
    jobs: int
    started: Callable[[int, Planned], None]
    echo: Callable[[Planned], Callable[[str], None]]
    ended: Callable[[int, Planned, SuiteRunResult], None] = lambda index, planned, result: None
    done: list[int] = field(default_factory=list)
    _begun: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> list[int]:
        """Runs that had started and not finished."""
        with self._lock:
            return sorted(self._begun - set(self.done))

    @property
    def not_started(self) -> list[int]:
        with self._lock:
            return [i for i in range(len(self.plan)) if i not in self._begun]

    def run(self, finished: Callable[[int, Planned, SuiteRunResult], None]) -> None:
        """Run the plan; returns when every run has ended and `finished` has seen each."""
        pool = ThreadPoolExecutor(max_workers=max(1, self.jobs), thread_name_prefix="suite")
        futures: dict[Future[SuiteRunResult | None], int] = {
            pool.submit(self._one, index): index for index in range(len(self.plan))
        }
        pending = set(futures)
        try:
            while pending:
                ended, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(ended, key=futures.__getitem__):
                    result = future.result()  # a run's own error is raised here
                    if result is not None:
                        index = futures[future]
                        # A signal now waits for the handover to end: a finished run's
                        # reports are never half written, nor written and not counted.
                        with interruptions_held():
                            finished(index, self.plan[index], result)
                            with self._lock:
                                self.done.append(index)
                        self.ended(index, self.plan[index], result)
        except BaseException:
            # An interruption or a failed run: nothing more starts, what runs is stopped, and
            # its thread ends before the error goes on (no suite may outlive the command).
            self._stopping.set()
            try:
                self._stop_all(futures)
            except BaseException:  # a second signal: no more grace
                stop_running(grace_s=0)
                raise
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    @staticmethod
    def _stop_all(futures: Collection[Future[SuiteRunResult | None]]) -> None:
        for future in futures:
            future.cancel()
        # Again until every thread has ended: a run whose process was starting while the
        # first round went by is stopped by the next.
        while True:
            stop_running()
            _, still = wait(futures, timeout=0.5)
            if not still:
                return

    def _one(self, index: int) -> SuiteRunResult | None:
        if self._stopping.is_set():
            return None
        with self._lock:
            self._begun.add(index)
        planned = self.plan[index]
        self.started(index, planned)
        result = run_suite(planned.run, echo=self.echo(planned))
        return None if self._stopping.is_set() else result
