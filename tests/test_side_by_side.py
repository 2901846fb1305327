"""The main job's scheduler (conformance/side_by_side.py): at most `jobs` runs at once, results
handed over in the calling thread, and on an interruption or a failed run everything still
running is stopped and nothing more starts. The suite runs are replaced by fakes here; the
real ones are exercised by tests/test_main_job.py and tests/hostile/test_interruption.py."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from conformance import side_by_side
from conformance.config import Credentials
from conformance.errors import TargetUnreachable
from conformance.processes import Interrupted, interruptions_held, stop_on_signals
from conformance.runner import SuiteRun
from conformance.side_by_side import Planned, Schedule


def _plan(*names: str) -> list[Planned]:
    credentials = Credentials("testid", "testsecret")
    return [Planned(f"client: {n}", SuiteRun("client", (), credentials, 1)) for n in names]


class _FakeRuns:
    """Stands in for `run_suite`: each run takes `seconds`, or until stopped when `hang`."""

    def __init__(self, seconds: float = 0.05, hang: frozenset[str] = frozenset()) -> None:
        self.seconds, self.hang = seconds, hang
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.stopped = threading.Event()

    def run_suite(self, run: SuiteRun, *, echo: Any = None) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            label = echo.label if echo is not None else ""
            if label in self.hang:
                assert self.stopped.wait(10), "a hanging run was never stopped"
                return f"stopped {label}"
            time.sleep(self.seconds)
            return f"done {label}"
        finally:
            with self.lock:
                self.now -= 1

    def stop_running(self, grace_s: float = 0.0) -> None:
        self.stopped.set()


class _Echo:
    def __init__(self, planned: Planned) -> None:
        self.label = planned.label.split(": ", 1)[1]

    def __call__(self, line: str) -> None:
        pass


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> _FakeRuns:
    runs = _FakeRuns()
    monkeypatch.setattr(side_by_side, "run_suite", runs.run_suite)
    monkeypatch.setattr(side_by_side, "stop_running", runs.stop_running)
    return runs


def test_at_most_jobs_run_at_once_and_every_result_reaches_the_caller(fake: _FakeRuns) -> None:
    plan = _plan("a", "b", "c", "d", "e")
    got: list[tuple[int, object]] = []

    def finished(index: int, planned: Planned, result: Any) -> None:
        assert threading.current_thread() is threading.main_thread()
        got.append((index, result))

    schedule = Schedule(plan, jobs=2, started=lambda i, p: None, echo=_Echo)
    schedule.run(finished)
    assert fake.most == 2
    assert sorted(got) == [(i, f"done {n}") for i, n in enumerate("abcde")]
    assert sorted(schedule.done) == [0, 1, 2, 3, 4]
    assert schedule.running == [] and schedule.not_started == []


def test_an_interruption_stops_what_runs_and_starts_nothing_more(fake: _FakeRuns) -> None:
    fake.hang = frozenset({"slow"})
    plan = _plan("quick", "slow", "later")

    def finished(index: int, planned: Planned, result: Any) -> None:
        raise Interrupted(2)  # SIGINT arriving as the first run ends

    schedule = Schedule(plan, jobs=2, started=lambda i, p: None, echo=_Echo)
    with pytest.raises(Interrupted):
        schedule.run(finished)
    assert fake.stopped.is_set()
    assert schedule.done == []  # `finished` never completed for the quick one
    assert {0, 1} <= set(schedule.running)
    # "later" may have started in the quick one's thread before the signal was seen
    assert 2 in schedule.running + schedule.not_started
    assert fake.now == 0, "a run outlived the schedule"


def test_a_run_whose_end_was_announced_is_done_when_the_interruption_comes(
    fake: _FakeRuns,
) -> None:
    # Whoever reads "[1/2] client: quick: conformant" and then interrupts must not find the
    # quick run among those the interruption stopped (CI saw this race once).
    fake.hang = frozenset({"slow"})
    seen: list[int] = []

    def ended(index: int, planned: Planned, result: Any) -> None:
        seen.append(index)
        raise Interrupted(2)  # SIGINT arriving right after the announcement

    schedule = Schedule(
        _plan("quick", "slow"), jobs=2, started=lambda i, p: None, echo=_Echo, ended=ended
    )
    with pytest.raises(Interrupted):
        schedule.run(lambda i, p, r: None)
    assert seen == [0]
    assert schedule.done == [0] and schedule.running == [1]
    assert fake.now == 0, "a run outlived the schedule"


def test_a_signal_during_a_handover_waits_for_it_to_end(fake: _FakeRuns) -> None:
    # SIGINT while the quick run's reports are being written: they are finished, and the run
    # is counted done, before the interruption goes on.
    fake.hang = frozenset({"slow"})
    written: list[int] = []

    def finished(index: int, planned: Planned, result: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here, and must not raise
        written.append(index)

    schedule = Schedule(_plan("quick", "slow"), jobs=2, started=lambda i, p: None, echo=_Echo)
    with stop_on_signals(), pytest.raises(Interrupted):
        schedule.run(finished)
    assert written == [0] and schedule.done == [0] and schedule.running == [1]
    assert fake.now == 0, "a run outlived the schedule"


def test_a_second_signal_during_a_handover_interrupts_it() -> None:
    with stop_on_signals(), pytest.raises(Interrupted), interruptions_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        pytest.fail("the second signal was held back too")


def test_a_failed_run_stops_the_others_and_its_error_goes_on(
    fake: _FakeRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.hang = frozenset({"slow"})
    real = fake.run_suite

    def failing(run: SuiteRun, *, echo: Any = None) -> str:
        if echo is not None and echo.label == "broken":
            raise TargetUnreachable("the client suite did not complete")
        return real(run, echo=echo)

    monkeypatch.setattr(side_by_side, "run_suite", failing)
    schedule = Schedule(_plan("slow", "broken"), jobs=2, started=lambda i, p: None, echo=_Echo)
    with pytest.raises(TargetUnreachable, match="did not complete"):
        schedule.run(lambda i, p, r: None)
    assert fake.stopped.is_set() and fake.now == 0
