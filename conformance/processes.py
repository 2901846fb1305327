"""Child processes the toolkit starts (suite runs, `--command` adapters), bounded, and killed
whole, with whatever they left behind.

* `run_bounded(command, ...)`: one command in a session of its own, its input written, its
  output read up to a cap, within a total deadline; afterwards its whole process group is
  killed, and so are the processes it detached (see below).
* `spawn(...)`, then `release(proc)`: a child started in a session of its own and registered
  meanwhile, so that the stray-killer never mistakes it for a stray.
* `stop_on_signals()`: SIGINT and SIGTERM raise `Interrupted` in the main thread (SIGTERM
  would otherwise end the process at once, without its `finally` blocks), so that whatever
  runs unwinds and stops its children; `stop(proc)` asks a child's process group to stop
  (SIGINT), then kills it.
* Detached children: a process that calls `setsid` leaves its parent's process group, so
  killing the group misses it, and when its parent exits it is re-parented to init and
  outlives the run. On Linux this process becomes a child subreaper
  (`prctl(PR_SET_CHILD_SUBREAPER)`): such orphans are re-parented to it instead, and
  `kill_strays` kills and reaps every child that appeared since a snapshot, is not registered,
  and lives in another session than this process (every process a command leaves behind does:
  the command itself was started in a new session). Elsewhere, or where `prctl` is refused,
  detached children are not found (docs/command-line.md#bounds-on-a-hostile-peer says so).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Finished",
    "Interrupted",
    "become_subreaper",
    "children",
    "kill_group",
    "kill_strays",
    "release",
    "run_bounded",
    "spawn",
    "stop",
    "stop_on_signals",
]

_PR_SET_CHILD_SUBREAPER = 36
_LOCK = threading.Lock()  # held while spawning and while looking for strays
_REGISTERED: set[int] = set()
_SUBREAPER: bool | None = None
_STDERR_KEPT = 64 * 1024
_STRAY_ROUNDS = 50
_STOP_GRACE_S = 10.0  # how long a stopped child may take to finish (pytest writes its ledger)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (`signum`); a `KeyboardInterrupt`, so code that handles one
    handles both."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal's number (130 for SIGINT, 143 SIGTERM)."""
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM raise `Interrupted` in the main thread (a no-op
    elsewhere: only the main thread can set signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop(proc: subprocess.Popen[Any], grace_s: float = _STOP_GRACE_S) -> None:
    """Stop `proc`'s process group: SIGINT (a pytest run then finishes its session), then,
    after `grace_s` or at a second signal, SIGKILL. Its output, if piped, is drained meanwhile
    so that it cannot block writing it."""
    kill_group(proc.pid, signal.SIGINT)
    if proc.stdout is not None:
        threading.Thread(target=_discard, args=(proc.stdout,), daemon=True).start()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        pass
    finally:
        kill_group(proc.pid)


def _discard(stream: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        while stream.read(65536):
            pass


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux); True when that holds."""
    global _SUBREAPER
    if _SUBREAPER is None:
        _SUBREAPER = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(None, use_errno=True)
                _SUBREAPER = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _SUBREAPER


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process group `pgid`; nothing when it is gone already."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, pgid, session id) of `pid` from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[2]), int(fields[3])


def children() -> dict[int, tuple[int, int]]:
    """This process's children: pid -> (pgid, session id). Empty without /proc."""
    me = os.getpid()
    found: dict[int, tuple[int, int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None and info[0] == me:
                found[int(entry)] = (info[1], info[2])
    return found


def kill_strays(before: Collection[int]) -> list[int]:
    """Kill and reap the children of this process that are not in `before` (a `children()`
    snapshot), not registered, and in another session: what a finished command left behind.
    Killing one can re-parent its own children here; they are found in the next round."""
    killed: list[int] = []
    own_session = os.getsid(0)
    for _ in range(_STRAY_ROUNDS):
        with _LOCK:
            strays = {
                pid: pgid
                for pid, (pgid, sid) in children().items()
                if pid not in before and pid not in _REGISTERED and sid != own_session
            }
            for pid, pgid in strays.items():
                if pgid == pid:
                    kill_group(pgid)  # a session leader: its group goes with it
                else:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if not strays:
            return killed
        for pid in strays:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            killed.append(pid)
        time.sleep(0.01)
    return killed


def spawn(command: str | list[str], **popen: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen(command, start_new_session=True, **popen)`, registered (never taken
    for a stray) until `release`d."""
    with _LOCK:
        proc: subprocess.Popen[Any] = subprocess.Popen(command, start_new_session=True, **popen)
        _REGISTERED.add(proc.pid)
    return proc


def release(proc: subprocess.Popen[Any]) -> None:
    """Kill what is left of `proc`'s process group, reap it, and unregister it."""
    kill_group(proc.pid)
    with contextlib.suppress(OSError):
        proc.wait()
    with _LOCK:
        _REGISTERED.discard(proc.pid)


@dataclass(frozen=True)
class Finished:
    """How a bounded command ended: its exit status (None when it was killed at the deadline
    or for printing too much), the kept output, and why it was stopped."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    too_much_output: bool = False
    strays: int = 0  # detached processes it left behind, killed


def run_bounded(
    command: str,
    stdin: bytes,
    *,
    timeout_s: float,
    max_output: int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run `command` through the shell in a new session: write `stdin`, read stdout (at most
    `max_output` bytes: more stops it) and the tail of stderr, until it exits or `timeout_s`
    passes. Its process group is then killed (what it started in the background included),
    and, where supported, whatever it detached."""
    before = set(children()) if become_subreaper() else None
    deadline = time.monotonic() + timeout_s
    proc = spawn(
        command,
        shell=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=None if env is None else dict(env),
    )
    out, err = bytearray(), bytearray()
    timed_out = too_much = False
    try:
        timed_out, too_much = _pump(proc, stdin, out, err, deadline, max_output)
    finally:
        release(proc)
        strays = kill_strays(before) if before is not None else []
    code = None if (timed_out or too_much) else proc.returncode
    return Finished(code, bytes(out), bytes(err), timed_out, too_much, len(strays))


def _pump(
    proc: subprocess.Popen[bytes],
    data: bytes,
    out: bytearray,
    err: bytearray,
    deadline: float,
    max_output: int,
) -> tuple[bool, bool]:
    """Feed `proc` its input and drain its output until it has exited and its pipes are
    drained (or closed). Returns (timed out, printed too much)."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    pending = memoryview(data)
    with selectors.DefaultSelector() as sel:
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True, False
            # Once the command has exited, what is still in its pipes is read without waiting:
            # a background process holding them open must not keep the call going.
            exited = proc.poll() is not None
            events = sel.select(0 if exited else min(remaining, 0.1))
            if exited and not events:
                break
            for key, _ in events:
                if key.fileobj is proc.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[:65536]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        pending = pending[:0]  # it will not read: its answer still counts
                    if not pending:
                        sel.unregister(proc.stdin)
                        with contextlib.suppress(BrokenPipeError):
                            proc.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buffer: bytearray = key.data
                buffer += chunk
                if buffer is out and len(out) > max_output:
                    del out[max_output:]
                    return False, True
                if buffer is err and len(err) > _STDERR_KEPT:
                    del err[: len(err) - _STDERR_KEPT]
    try:
        proc.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return True, False
    return False, False
