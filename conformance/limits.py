"""The bounds a hostile peer meets, in one place: how much of an answer the suite reads, how
long one request may take in total, and when a peer that stopped answering is given up on.

* `MAX_BODY_BYTES`: the most the suite keeps of any body it reads (a server's answer, a control
  API answer, a schemathesis response, an adapter's output, a client's request to a scripted
  server). What is larger is cut off and judged as too large, never held in memory.
* `ALARMS.set(seconds, action)`: one thread runs `action` when a deadline passes, unless the
  alarm was cancelled first. The HTTP transport uses it to abort a request whose connect, send
  and read together took longer than its timeout (a socket timeout bounds each read only: a
  server sending one byte a second would never trip it).
* `CircuitBreaker`: shared by every test of a session. After `BREAKER_THRESHOLD` transport
  failures in a row (no answer, a timeout, an answer too large to read) the peer has stopped
  answering; every later call raises `StoppedAnswering`, a skip that the ledger records as
  `not_verified` with its reason, so a dead peer costs N timeouts, not one per test.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "ALARMS",
    "BREAKER_THRESHOLD",
    "MAX_BODY_BYTES",
    "Alarm",
    "AlarmClock",
    "CircuitBreaker",
    "StoppedAnswering",
]

MAX_BODY_BYTES = 1 << 20
BREAKER_THRESHOLD = 3


@dataclass(eq=False)
class Alarm:
    """One deadline: `action` runs at `when` (time.monotonic) unless cancelled first."""

    when: float
    action: Callable[[], None] = field(repr=False)
    fired: bool = False
    cancelled: bool = False


class AlarmClock:
    """Deadlines served by one daemon thread (started on first use), not a thread per request.

    `set` and `cancel` take one lock; the action runs under it too, so `cancel` returning True
    guarantees the action never ran and never will. Actions must be quick and must not raise
    (closing a socket, setting a flag).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def set(self, seconds: float, action: Callable[[], None]) -> Alarm:
        """Run `action` in `seconds` (from now) unless `cancel`led first."""
        alarm = Alarm(time.monotonic() + max(0.0, seconds), action)
        with self._cond:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (alarm.when, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            elif earliest is None or alarm.when < earliest:
                self._cond.notify()
        return alarm

    def cancel(self, alarm: Alarm) -> bool:
        """Cancel `alarm`; False when it has fired already."""
        with self._cond:
            if alarm.fired:
                return False
            alarm.cancelled = True
            return True

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                alarm = heapq.heappop(self._heap)[2]
                alarm.fired = True
                # An action must not raise; if one does, the clock keeps running.
                with contextlib.suppress(Exception):
                    alarm.action()


ALARMS = AlarmClock()
"""The process's one alarm clock."""


class StoppedAnswering(unittest.SkipTest):
    """The peer stopped answering (the circuit breaker is open): the running test cannot judge
    anything, so its requirements are `not_verified` with `reason` (a `SkipTest`, which pytest
    and hypothesis pass through at once)."""

    def __init__(self, reason: str) -> None:
        super().__init__("not verified: " + reason)
        self.reason = reason


class CircuitBreaker:
    """Transport failures in a row, across every test of a session (thread-safe).

    `record(error)` after every call (`None`: an answer came); `check()` before one raises
    `StoppedAnswering` once `threshold` failures in a row were recorded. It stays open for the
    rest of the session: the remaining tests are not verified rather than each waiting for its
    own timeouts.

    >>> b = CircuitBreaker("requests to http://127.0.0.1:1", threshold=2)
    >>> b.record("timeout"); b.record("timeout"); b.is_open, b.reason[:39]
    (True, 'target stopped answering: 2 requests to')
    """

    def __init__(self, subject: str, *, threshold: int = BREAKER_THRESHOLD) -> None:
        self.subject = subject  # what was sent, e.g. "requests to URL", "calls of adapter X"
        self.threshold = threshold
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._last = ""
        self._open = False

    @property
    def is_open(self) -> bool:
        """True once the peer has stopped answering."""
        return self._open

    def record(self, error: str | None) -> None:
        """One call's result: `None` when an answer came, else why none did."""
        with self._lock:
            if self._open:
                return
            if error is None:
                self._in_a_row = 0
                return
            self._in_a_row += 1
            self._last = error
            if self._in_a_row >= self.threshold:
                self._open = True

    @property
    def reason(self) -> str:
        """Why the breaker is open (the not-verified reason of every later test)."""
        return (
            f"target stopped answering: {self.threshold} {self.subject} in a row got no answer "
            f"(last: {self._last})"
        )

    def check(self) -> None:
        """Raise `StoppedAnswering` when the breaker is open."""
        if self._open:
            raise StoppedAnswering(self.reason)
