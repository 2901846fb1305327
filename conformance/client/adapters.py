"""Running an adapter under the contract: a Python callable in a worker thread
(`CallableAdapter`), or a command, one process per call (`CommandAdapter`); and turning a
user's `module:attr` into one (`adapter_from_object`, `import_attr`).

Both translate every misbehaviour of the adapter (an exception, a hang, a non-zero exit,
something that is not an `Outcome`) into `ClientFailure`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

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
from conformance.processes import run_bounded

__all__ = ["CallableAdapter", "CommandAdapter", "adapter_from_object", "import_attr"]


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
    """`--command 'CMD'`: one process per call, `RebootCall` JSON on stdin, `Outcome` on stdout.

    CMD runs through the shell (it is the user's own command line, like a CI step), in a session
    of its own, bounded by `conformance.processes.run_bounded`: at most `MAX_BODY_BYTES` of
    stdout are read (more is a `too-much-output` failure), the call has `timeout_s` in total,
    and afterwards its whole process group is killed, with what it detached where the platform
    lets the suite find it.
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
    ) -> None:
        self.command = command
        self.name = name or f"command:{command}"
        self.timeout_s = timeout_s
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(env) if env is not None else None

    def reboot(self, call: RebootCall, *, wait_s: float | None = None) -> Outcome:
        """Run CMD once; a timeout, too much output, a non-zero exit or a non-Outcome stdout:
        `ClientFailure`. `wait_s` replaces the adapter's bound for this call."""
        bound = self.timeout_s if wait_s is None else wait_s
        done = run_bounded(
            self.command,
            call.to_json().encode("utf-8"),
            timeout_s=bound,
            max_output=MAX_BODY_BYTES,
            cwd=self.cwd,
            env=self.env,
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
        try:
            return Outcome.from_json(stdout.strip())
        except OutcomeFormatError as exc:
            raise ClientFailure(
                "not-an-outcome",
                f"command printed something that is not an Outcome ({exc})",
                f"stdout: {stdout[-2000:]}\nstderr: {stderr}",
            ) from None

    def close(self) -> None:
        """Nothing to release: every call is its own process."""


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
