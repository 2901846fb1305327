"""Running an adapter under the contract: a Python callable in a worker thread
(`CallableAdapter`), or a command (`CommandAdapter`), one process per call or, when the command
declares it, one process for the whole session (docs/contracts.md#persistent-commands); and
turning a user's `module:attr` into one (`adapter_from_object`, `import_attr`).

Both translate every misbehaviour of the adapter (an exception, a hang, a non-zero exit,
something that is not an `Outcome`) into `ClientFailure`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

from conformance.client.contract import (
    DEFAULT_ADAPTER_TIMEOUT_S,
    ClientAdapter,
    ClientFailure,
    Outcome,
    OutcomeFormatError,
    RebootCall,
)
from conformance.errors import ConfigError
from conformance.limits import MAX_BODY_BYTES
from conformance.processes import LineChild, LineRead, run_bounded

__all__ = [
    "PERSISTENT_ENV",
    "PERSISTENT_VERSION",
    "CallableAdapter",
    "CommandAdapter",
    "adapter_from_object",
    "hello_line",
    "import_attr",
]

# The persistent protocol of --command adapters (docs/contracts.md#persistent-commands): the
# suite offers it in the command's environment (the versions it speaks, comma-separated); a
# command that takes it prints its hello line first, then answers one line per call.
PERSISTENT_ENV = "ECS_CONFORMANCE_PERSISTENT"
PERSISTENT_VERSION = 1
_HELLO_KEY = "ecs_conformance"
_HELLO_VALUE = "persistent"


def hello_line(version: int = PERSISTENT_VERSION) -> str:
    """The line a command prints first to take the persistent protocol in `version`."""
    return json.dumps({_HELLO_KEY: _HELLO_VALUE, "version": version})


def _hello_version(text: str) -> int | None:
    """The protocol version a hello line names; None when `text` is no hello at all."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get(_HELLO_KEY) != _HELLO_VALUE:
        return None
    version = data.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else -1


class CallableAdapter:
    """A Python callable (or object with `reboot_instance`) run in a worker thread with a timeout.

    A thread that hangs cannot be killed; it is abandoned (daemon) and the call is reported as a
    `timeout` client failure.
    """

    def __init__(
        self,
        func: Callable[[RebootCall], object],
        *,
        name: str,
        timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S,
        httpx_based: bool = False,
    ) -> None:
        self.func = func
        self.name = name
        self.timeout_s = timeout_s
        self.httpx_based = httpx_based

    def reboot(self, call: RebootCall, *, wait_s: float | None = None) -> Outcome:
        """Run the callable; translate every misbehaviour into `ClientFailure`. `wait_s`
        replaces the adapter's bound for this call."""
        bound = self.timeout_s if wait_s is None else wait_s
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["value"] = self.func(call)
            except BaseException as exc:  # the adapter's fault, whatever it is: report it
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"adapter-{self.name}", daemon=True)
        thread.start()
        thread.join(bound)
        if thread.is_alive():
            raise ClientFailure("timeout", f"adapter {self.name} did not return within {bound:g} s")
        if "error" in box:
            exc = box["error"]
            assert isinstance(exc, BaseException)
            import traceback

            tb = "".join(traceback.format_exception(exc))
            raise ClientFailure("raised", f"adapter {self.name} raised {exc!r}", tb)
        value = box.get("value")
        if isinstance(value, Outcome):
            return value
        try:
            return Outcome.from_dict(value)
        except OutcomeFormatError as exc:
            raise ClientFailure(
                "not-an-outcome", f"adapter {self.name} returned {value!r:.200}: {exc}"
            ) from None

    def close(self) -> None:
        """Close the wrapped object when it has a `close` method."""
        closer = getattr(self.func, "close", None) or getattr(
            getattr(self.func, "__self__", None), "close", None
        )
        if callable(closer):
            with contextlib.suppress(Exception):
                closer()


class CommandAdapter:
    """`--command 'CMD'`: `RebootCall` JSON on stdin, `Outcome` JSON on stdout.

    CMD runs through the shell (it is the user's own command line, like a CI step), in a session
    of its own. Every run is offered the persistent protocol (`PERSISTENT_ENV`). A command that
    does not take it runs once per call, bounded by `conformance.processes.run_bounded`: at most
    `MAX_BODY_BYTES` of stdout are read (more is a `too-much-output` failure), the call has
    `timeout_s` in total, and afterwards its whole process group is killed, with what it
    detached where the platform lets the suite find it. A command that answers with its hello
    line (`hello_line`) is from then on started once and kept: one call per line on its stdin,
    one Outcome per line on its stdout, each call bounded the same way; after any failure
    (timeout, too much output, exit, garbage) it is killed whole and started again for the next
    call. `persistent=False` never offers the protocol.
    """

    httpx_based = False

    def __init__(
        self,
        command: str,
        *,
        name: str | None = None,
        timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        persistent: bool = True,
    ) -> None:
        self.command = command
        self.name = name or f"command:{command}"
        self.timeout_s = timeout_s
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(env) if env is not None else None
        self._offer = {PERSISTENT_ENV: str(PERSISTENT_VERSION)} if persistent else {}
        # None until the command has answered a call: then whether it took the protocol.
        self.persistent: bool | None = None if persistent else False
        self._child: LineChild | None = None
        self._lock = threading.Lock()

    def reboot(self, call: RebootCall, *, wait_s: float | None = None) -> Outcome:
        """Make one call; a timeout, too much output, an exit or a non-Outcome answer:
        `ClientFailure`. `wait_s` replaces the adapter's bound for this call."""
        bound = self.timeout_s if wait_s is None else wait_s
        with self._lock:
            if self.persistent:
                return self._persistent_call(call, bound)
            return self._one_shot(call, bound)

    def close(self) -> None:
        """Stop the persistent process, if one runs (a one-shot run ends with its call)."""
        with self._lock:
            self._stop()

    # -- one process per call -------------------------------------------------------------------
    def _one_shot(self, call: RebootCall, bound: float) -> Outcome:
        done = run_bounded(
            self.command,
            call.to_json().encode("utf-8"),
            timeout_s=bound,
            max_output=MAX_BODY_BYTES,
            cwd=self.cwd,
            env=self.env,
            extra_env=self._offer,
        )
        stdout, stderr = _decode(done.stdout), _decode(done.stderr)
        if done.timed_out:
            raise ClientFailure(
                "timeout",
                f"command did not finish within {bound:g} s: {self.command}",
                stderr,
            )
        if done.too_much_output:
            raise ClientFailure(
                "too-much-output",
                f"command printed more than {MAX_BODY_BYTES} bytes (stopped): {self.command}",
                f"stdout began: {stdout[:1000]}\nstderr: {stderr}",
            )
        if done.returncode != 0:
            raise ClientFailure(
                "exit",
                f"command exited with status {done.returncode}: {self.command}",
                f"stdout: {stdout[-1000:]}\nstderr: {stderr}",
            )
        text = stdout.strip()
        first, _, rest = text.partition("\n")
        version = _hello_version(first.strip()) if self._offer else None
        if version is not None:
            if version != PERSISTENT_VERSION:
                raise ClientFailure(
                    "not-an-outcome",
                    f"command took the persistent protocol in version {version}, but this "
                    f"suite offered {PERSISTENT_VERSION} ({PERSISTENT_ENV}): {self.command}",
                    f"stdout: {stdout[-2000:]}\nstderr: {stderr}",
                )
            text = rest.strip()
        try:
            outcome = Outcome.from_json(text)
        except OutcomeFormatError as exc:
            raise ClientFailure(
                "not-an-outcome",
                f"command printed something that is not an Outcome ({exc})",
                f"stdout: {stdout[-2000:]}\nstderr: {stderr}",
            ) from None
        if self.persistent is None:
            self.persistent = version is not None
        return outcome

    # -- one process for the session ------------------------------------------------------------
    def _persistent_call(self, call: RebootCall, bound: float) -> Outcome:
        deadline = time.monotonic() + bound
        child = self._child if self._child is not None and self._child.alive else None
        if child is None:
            self._stop()
            child = self._start(deadline, bound)
        unasked = child.pending()
        if unasked:
            self._fail(
                "not-an-outcome",
                "after its answer to the previous call the command printed more: "
                f"{_decode(unasked[:200])!r} (one line per call, nothing else)",
            )
        if not child.write_line(call.to_json().encode("utf-8"), deadline):
            self._fail(
                "exit" if not child.alive else "timeout",
                "the command did not take the call on its stdin"
                + ("" if child.alive else f" (it exited with status {child.proc.poll()})"),
            )
        read = child.read_line(deadline)
        line = self._line_or_fail(read, deadline, bound, "its answer")
        try:
            return Outcome.from_json(line)
        except OutcomeFormatError as exc:
            self._fail(
                "not-an-outcome",
                f"command printed a line that is not an Outcome ({exc})",
                f"line: {line[:2000]}",
            )

    def _start(self, deadline: float, bound: float) -> LineChild:
        child = LineChild(
            self.command,
            max_line=MAX_BODY_BYTES,
            cwd=self.cwd,
            env=self.env,
            extra_env=self._offer,
        )
        self._child = child
        line = self._line_or_fail(child.read_line(deadline), deadline, bound, "its hello line")
        version = _hello_version(line.strip())
        if version != PERSISTENT_VERSION:
            self._fail(
                "not-an-outcome",
                "the persistent command's first line is not its hello "
                f"{hello_line()} (it took the protocol before)",
                f"line: {line[:2000]}",
            )
        return child

    def _line_or_fail(self, read: LineRead, deadline: float, bound: float, what: str) -> str:
        if read.line is not None:
            return _decode(read.line)
        if read.timed_out:
            self._fail("timeout", f"command did not print {what} within {bound:g} s")
        if read.too_long:
            self._fail(
                "too-much-output",
                f"command printed more than {MAX_BODY_BYTES} bytes without a newline (stopped)",
            )
        code = None
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._child.proc.wait(max(0.0, min(0.5, deadline - time.monotonic())))
        self._fail(
            "exit",
            f"command exited before printing {what}"
            + (f" (status {code})" if code is not None else ""),
        )

    def _fail(self, kind: str, message: str, evidence: str = "") -> NoReturn:
        """Stop the process (the next call starts it again) and raise the failure."""
        stderr = _decode(self._child.take_stderr()) if self._child is not None else ""
        self._stop(grace_s=0.0)
        detail = "\n".join(p for p in (evidence, f"stderr: {stderr}" if stderr else "") if p)
        raise ClientFailure(kind, f"{message}: {self.command}", detail)

    def _stop(self, grace_s: float | None = None) -> None:
        """Kill the persistent process; `grace_s` (default: `LineChild`'s) to exit by itself
        first, 0 after a failure, when what it does no longer matters."""
        if self._child is not None:
            child, self._child = self._child, None
            if grace_s is None:
                child.close()
            else:
                child.close(grace_s)


def _decode(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


@contextlib.contextmanager
def _cwd_on_path() -> Iterator[None]:
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(cwd)


def import_attr(ref: str, *, hint: str = "") -> object:
    """The object `module:attr` names, imported with the current directory on `sys.path`;
    `ConfigError` (with `hint` for a malformed `ref`) when it cannot be had."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"adapter {ref!r} is not module:attr", hint=hint)
    try:
        with _cwd_on_path():
            obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import adapter module {module_name!r}: {exc}",
            hint="module:attr is imported with the current directory on sys.path; run from the "
            "directory that holds the module, or install it",
        ) from None
    except Exception as exc:  # the user's module failed while importing: say how
        raise ConfigError(
            f"importing adapter module {module_name!r} raised {type(exc).__name__}: {exc}",
            hint=f"run `python -c 'import {module_name}'` to see the whole traceback",
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def adapter_from_object(
    obj: object, name: str, timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S
) -> ClientAdapter:
    """A `CallableAdapter` for a callable taking one `RebootCall`, or an object (or class) with
    a `reboot_instance` method; `ConfigError` for anything else."""
    if isinstance(obj, type) and hasattr(obj, "reboot_instance"):
        obj = obj()
    httpx_based = bool(getattr(obj, "httpx_based", False))
    method = None if isinstance(obj, type) else getattr(obj, "reboot_instance", None)
    func: Callable[[RebootCall], object]
    if callable(method):
        func = method
    elif callable(obj):
        func = obj
    else:
        raise ConfigError(
            f"adapter {name!r} is neither callable nor has a reboot_instance method",
            hint="attr takes one RebootCall and returns an Outcome "
            "(docs/contracts.md#python-adapters-moduleattr)",
        )
    return CallableAdapter(func, name=name, timeout_s=timeout_s, httpx_based=httpx_based)
