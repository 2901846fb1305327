"""Child processes the toolkit starts (suite runs, `--command` adapters), bounded, and killed
whole, with whatever they left behind.

* `run_bounded(command, ...)`: one command in a session of its own, its input written, its
  output read up to a cap, within a total deadline; afterwards its whole process group is
  killed, and so are the processes it detached (see below).
* `LineChild(command, ...)`: a long-lived command in a session of its own, spoken to one line at
  a time: each line it prints is read within a deadline and up to a cap, its stderr tail kept;
  `close()` kills its group and what it detached, as `run_bounded` does after every call.
* `spawn(...)`, then `release(proc)`: a child started in a session of its own and registered
  meanwhile, so that the stray-killer never mistakes it for a stray.
* `stop_on_signals()`: SIGINT and SIGTERM raise `Interrupted` in the main thread (SIGTERM
  would otherwise end the process at once, without its `finally` blocks), so that whatever
  runs unwinds and stops its children; `stop(proc)` asks a child's process group to stop
  (SIGINT), then kills it; `stop_all(procs)` does so for several within one grace period.
  `interruptions_held()` holds the interruption back for a short step that must not be cut in
  half (handing over a finished run: its reports, and the record that it finished).
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
    "STOP_GRACE_S",
    "Finished",
    "Interrupted",
    "LineChild",
    "LineRead",
    "become_subreaper",
    "children",
    "interruptions_held",
    "kill_group",
    "kill_strays",
    "release",
    "run_bounded",
    "spawn",
    "stop",
    "stop_all",
    "stop_on_signals",
]

_PR_SET_CHILD_SUBREAPER = 36
_LOCK = threading.Lock()  # held while spawning and while looking for strays
_REGISTERED: set[int] = set()
_SUBREAPER: bool | None = None
_STDERR_KEPT = 64 * 1024
_STRAY_ROUNDS = 50
STOP_GRACE_S = 10.0  # how long a stopped child may take to finish (pytest writes its ledger)
_CLOSE_GRACE_S = 2.0  # how long a LineChild may take to exit once its stdin is closed
_HELD: list[int] | None = None  # signals held back by `interruptions_held`, while it holds


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
        if _HELD is not None and not _HELD:  # the first signal in a held block waits for it
            _HELD.append(signum)
            return
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def interruptions_held() -> Iterator[None]:
    """Inside `stop_on_signals`, a SIGINT or SIGTERM that arrives in the block raises
    `Interrupted` only once the block has ended, so the block is never left half done; a second
    signal raises at once. For short steps only (writing a finished run's reports), in the
    main thread (elsewhere, and when already held, a no-op)."""
    global _HELD
    if threading.current_thread() is not threading.main_thread() or _HELD is not None:
        yield
        return
    _HELD = []
    try:
        yield
    finally:
        held, _HELD = _HELD, None
    if held:
        raise Interrupted(held[0])


def stop(proc: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Stop `proc`'s process group: SIGINT (a pytest run then finishes its session), then,
    after `grace_s` or at a second signal, SIGKILL. Its output, if piped, is drained meanwhile
    so that it cannot block writing it."""
    stop_all([proc], grace_s)


def stop_all(
    procs: Collection[subprocess.Popen[Any]], grace_s: float = STOP_GRACE_S, *, drain: bool = True
) -> None:
    """`stop` for several process groups at once, within one grace period: SIGINT to each,
    then SIGKILL to each after `grace_s` or at a second signal. `drain=False` when another
    thread reads their output already."""
    for proc in procs:
        kill_group(proc.pid, signal.SIGINT)
        if drain and proc.stdout is not None:
            threading.Thread(target=_discard, args=(proc.stdout,), daemon=True).start()
    deadline = time.monotonic() + grace_s
    try:
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
    finally:
        for proc in procs:
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
    extra_env: Mapping[str, str] | None = None,
) -> Finished:
    """Run `command` through the shell in a new session: write `stdin`, read stdout (at most
    `max_output` bytes: more stops it) and the tail of stderr, until it exits or `timeout_s`
    passes. Its process group is then killed (what it started in the background included),
    and, where supported, whatever it detached. `env` (default: this process's environment)
    gets `extra_env` added."""
    before = set(children()) if become_subreaper() else None
    deadline = time.monotonic() + timeout_s
    proc = _spawn_shell(command, cwd, env, extra_env)
    out, err = bytearray(), bytearray()
    timed_out = too_much = False
    try:
        timed_out, too_much = _pump(proc, stdin, out, err, deadline, max_output)
    finally:
        release(proc)
        strays = kill_strays(before) if before is not None else []
    code = None if (timed_out or too_much) else proc.returncode
    return Finished(code, bytes(out), bytes(err), timed_out, too_much, len(strays))


def _spawn_shell(
    command: str,
    cwd: str | None,
    env: Mapping[str, str] | None,
    extra_env: Mapping[str, str] | None,
) -> subprocess.Popen[bytes]:
    """`command` through the shell, in a session of its own, its three streams piped."""
    return spawn(
        command,
        shell=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=_child_env(env, extra_env),
    )


def _child_env(
    env: Mapping[str, str] | None, extra_env: Mapping[str, str] | None
) -> dict[str, str] | None:
    """The environment of a child: `env` (None: this process's), with `extra_env` added."""
    if not extra_env:
        return None if env is None else dict(env)
    return {**(os.environ if env is None else env), **extra_env}


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


@dataclass(frozen=True)
class LineRead:
    """What `LineChild.read_line` got: one line (without its newline), or why none came."""

    line: bytes | None = None
    timed_out: bool = False  # the deadline passed first
    too_long: bool = False  # more than the cap arrived without a newline
    ended: bool = False  # stdout closed first (the child exited, or closed it)


class LineChild:
    """A long-lived command (through the shell, in a session of its own) that answers one line
    on stdout for each line written to its stdin.

    Every exchange is bounded like a `run_bounded` call: `read_line` waits until a deadline and
    reads at most `max_line` bytes of a line; stderr is drained meanwhile, its tail kept
    (`take_stderr`). `close()` closes stdin, gives the child a moment to exit, then kills its
    process group and, where supported, whatever it detached. Not thread-safe: one caller at a
    time.
    """

    def __init__(
        self,
        command: str,
        *,
        max_line: int,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.max_line = max_line
        self._before = set(children()) if become_subreaper() else None
        self.proc: subprocess.Popen[bytes] = _spawn_shell(command, cwd, env, extra_env)
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
        self._out = bytearray()  # read from stdout, not yet handed out as a line
        self._err = bytearray()  # stderr since the last take_stderr (its tail)
        self._out_open = self._err_open = True
        self._closed = False

    @property
    def alive(self) -> bool:
        """Is the child still running (and not closed)?"""
        return not self._closed and self.proc.poll() is None

    def write_line(self, data: bytes, deadline: float) -> bool:
        """Write `data` and a newline before `deadline` (time.monotonic); False when the child
        no longer reads (its stdin closed) or the deadline passed first."""
        stdin = self.proc.stdin
        assert stdin is not None
        pending = memoryview(data + b"\n")
        with selectors.DefaultSelector() as sel:
            sel.register(stdin, selectors.EVENT_WRITE)
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if not sel.select(min(remaining, 0.1)):
                    self._drain(0)  # a child blocked writing stderr cannot read its stdin
                    continue
                try:
                    pending = pending[os.write(stdin.fileno(), pending[:65536]) :]
                except BlockingIOError:
                    continue
                except (BrokenPipeError, OSError):
                    return False
        return True

    def read_line(self, deadline: float) -> LineRead:
        """The next line on stdout, waiting until `deadline` (time.monotonic)."""
        while True:
            end = self._out.find(b"\n")
            if 0 <= end <= self.max_line:
                line = bytes(self._out[:end])
                del self._out[: end + 1]
                return LineRead(line.rstrip(b"\r"))
            if len(self._out) > self.max_line:
                return LineRead(too_long=True)
            if not self._out_open:
                return LineRead(ended=True)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return LineRead(timed_out=True)
            self._drain(min(remaining, 0.1))

    def pending(self) -> bytes:
        """Whatever the child printed on stdout that no `read_line` took yet (read now,
        without waiting)."""
        self._drain(0)
        return bytes(self._out)

    def take_stderr(self) -> bytes:
        """The tail of what the child wrote on stderr since the last call."""
        self._drain(0)
        taken = bytes(self._err)
        self._err.clear()
        return taken

    def _drain(self, wait_s: float) -> None:
        """Read what stdout and stderr hold, waiting at most `wait_s` for something."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        streams = [
            (s, buf)
            for s, buf, is_open in (
                (self.proc.stdout, self._out, self._out_open),
                (self.proc.stderr, self._err, self._err_open),
            )
            if is_open
        ]
        if not streams:
            if wait_s > 0:
                time.sleep(min(wait_s, 0.01))
            return
        with selectors.DefaultSelector() as sel:
            for stream, buf in streams:
                sel.register(stream, selectors.EVENT_READ, buf)
            for key, _ in sel.select(wait_s):
                buf = key.data
                try:
                    # At most one line's cap beyond what is kept: a child printing without end
                    # is cut off by read_line, never held in memory.
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    if buf is self._out:
                        self._out_open = False
                    else:
                        self._err_open = False
                    continue
                buf += chunk
                if buf is self._err and len(buf) > _STDERR_KEPT:
                    del buf[: len(buf) - _STDERR_KEPT]
                if buf is self._out and len(buf) > self.max_line + 65536:
                    del buf[self.max_line + 1 :]

    def close(self, grace_s: float = _CLOSE_GRACE_S) -> int | None:
        """End the child: close its stdin, wait up to `grace_s` for it to exit, then kill its
        process group and what it detached. Its exit status (None: it had to be killed)."""
        if self._closed:
            return self.proc.returncode
        self._closed = True
        stdin = self.proc.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()
        code: int | None = None
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                break
            self._drain(0.05)  # a child blocked writing its output cannot exit
        release(self.proc)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._before is not None:
            kill_strays(self._before)
        return code
