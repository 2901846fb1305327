"""Client adapters (DESIGN.md §6): `RebootCall` in, `Outcome` out, whatever the client's language.

Three ways to name the client under test:

* a shipped name (`reference`, `reference-v3`, `aliyun-python-sdk-ecs`, ...; see `adapter_names()`);
* `module:attr`, imported with the current directory on `sys.path`: a callable taking one
  `RebootCall` and returning an `Outcome`, or an object (or class) with a `reboot_instance` method;
* a command (`--command 'CMD'`): CMD reads one `RebootCall` as JSON on stdin and prints one
  `Outcome` as JSON on stdout.

An adapter that raises, hangs, exits non-zero or answers something that is not an `Outcome`
raises `ClientFailure` here; the suite reports it as a failed test with that evidence, never as
a crash (DESIGN.md §6).

    >>> call = RebootCall(endpoint="127.0.0.1:8080", instance_id="i-1",
    ...                   access_key_id="testid", access_key_secret="testsecret")
    >>> Outcome.from_dict({"ok": True, "request_id": "R"}).ok
    True
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from conformance.errors import ConfigError

__all__ = [
    "DEFAULT_ADAPTER_TIMEOUT_S",
    "AdapterUnavailable",
    "CallableAdapter",
    "ClientAdapter",
    "ClientFailure",
    "CommandAdapter",
    "Outcome",
    "OutcomeFormatError",
    "RebootCall",
    "adapter_names",
    "load_adapter",
]

# The brief's "hangs" bound: an adapter that has not answered after this long is a client failure.
DEFAULT_ADAPTER_TIMEOUT_S = 10.0
_MAX_EVIDENCE = 4000

# Shipped adapters: name -> "module:factory"; each factory takes `timeout_s` and returns a
# `ClientAdapter`. Imported lazily so a missing SDK only matters when its adapter is chosen.
_SHIPPED: dict[str, str] = {
    "reference": "conformance.client.reference:reference_adapter",
    "reference-v3": "conformance.client.reference:reference_v3_adapter",
    "reference-get": "conformance.client.reference:reference_get_adapter",
    "reference-loopback": "conformance.client.reference:reference_loopback_adapter",
    "aliyun-python-sdk-ecs": "conformance.client.official:aliyun_python_sdk_ecs_adapter",
    "alibabacloud-ecs20140526": "conformance.client.official:ecs20140526_adapter",
    "alibabacloud-ecs20140526-v2": "conformance.client.official:ecs20140526_v2_adapter",
    "node-ecs20140526": "conformance.client.node:node_ecs20140526_adapter",
}
_FAULTY_PREFIX = "faulty-"


@dataclass(frozen=True)
class RebootCall:
    """One RebootInstance call to make (DESIGN.md §6). `None` booleans mean "leave unset".

    >>> RebootCall("127.0.0.1:1", "i-1", "id", "secret", force_stop=True).to_dict()["force_stop"]
    True
    """

    endpoint: str  # host:port
    instance_id: str
    access_key_id: str
    access_key_secret: str = field(repr=False)
    region_id: str = "cn-hangzhou"
    protocol: str = "http"
    force_stop: bool | None = None
    dry_run: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object a `--command` adapter reads on stdin."""
        return {
            "endpoint": self.endpoint,
            "protocol": self.protocol,
            "region_id": self.region_id,
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "instance_id": self.instance_id,
            "force_stop": self.force_stop,
            "dry_run": self.dry_run,
        }

    def to_json(self) -> str:
        """`to_dict()` as JSON text (non-ASCII kept as is, UTF-8 on the pipe)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RebootCall:
        """Read the stdin object of a command adapter (unknown keys are ignored)."""

        def tri(name: str) -> bool | None:
            value = data.get(name)
            if value is None or isinstance(value, bool):
                return value
            raise ValueError(f"{name} must be true, false or null, not {value!r}")

        return cls(
            endpoint=str(data["endpoint"]),
            instance_id=str(data["instance_id"]),
            access_key_id=str(data["access_key_id"]),
            access_key_secret=str(data["access_key_secret"]),
            region_id=str(data.get("region_id") or "cn-hangzhou"),
            protocol=str(data.get("protocol") or "http"),
            force_stop=tri("force_stop"),
            dry_run=tri("dry_run"),
        )


class OutcomeFormatError(ValueError):
    """What an adapter answered is not an `Outcome` (DESIGN.md §6 shape)."""


def _opt_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise OutcomeFormatError(f"{name} must be a string or null, not {value!r}")


@dataclass(frozen=True)
class Outcome:
    """What the client made of the answer (DESIGN.md §6).

    Success: `Outcome(ok=True, request_id=...)`. Error: `ok=False` with the server's `code`,
    `message` (verbatim), `request_id` and `http_status`. No usable response: `ok=False`,
    `code=None`, `http_status` if known, and `message` saying what went wrong.
    """

    ok: bool
    request_id: str | None = None
    code: str | None = None
    message: str | None = None
    http_status: int | None = None

    @classmethod
    def success(cls, request_id: str | None) -> Outcome:
        """A successful call."""
        return cls(ok=True, request_id=request_id)

    @classmethod
    def error(
        cls, code: str | None, message: str | None, request_id: str | None, http_status: int | None
    ) -> Outcome:
        """An error answer as the server gave it."""
        return cls(False, request_id, code, message, http_status)

    @classmethod
    def no_response(cls, message: str, http_status: int | None = None) -> Outcome:
        """No usable response: connection failure, timeout, unparsable body."""
        return cls(False, None, None, message, http_status)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of DESIGN.md §6 (a success carries only `ok` and `request_id`)."""
        if self.ok:
            return {"ok": True, "request_id": self.request_id}
        return {
            "ok": False,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "http_status": self.http_status,
        }

    @classmethod
    def from_dict(cls, data: object) -> Outcome:
        """Validate an adapter's answer strictly; `OutcomeFormatError` says what is wrong."""
        if not isinstance(data, Mapping):
            raise OutcomeFormatError(f"an Outcome is a JSON object, not {type(data).__name__}")
        ok = data.get("ok")
        if not isinstance(ok, bool):
            raise OutcomeFormatError(f"'ok' must be true or false, not {ok!r}")
        status = data.get("http_status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise OutcomeFormatError(f"http_status must be an integer or null, not {status!r}")
        return cls(
            ok=ok,
            request_id=_opt_str(data, "request_id"),
            code=_opt_str(data, "code"),
            message=_opt_str(data, "message"),
            http_status=status,
        )

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        """Parse one Outcome printed by a command adapter."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OutcomeFormatError(f"not JSON: {exc}") from None
        return cls.from_dict(data)

    def describe(self) -> str:
        """A one-line view for failure messages."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


class ClientFailure(Exception):
    """The adapter itself misbehaved: it raised, hung, exited non-zero or answered garbage.

    `kind` is one of `raised`, `timeout`, `exit`, `not-an-outcome`; `evidence` is what the
    adapter printed or the traceback (truncated).
    """

    def __init__(self, kind: str, message: str, evidence: str = "") -> None:
        super().__init__(f"client failure ({kind}): {message}")
        self.kind = kind
        self.message = message
        self.evidence = evidence[-_MAX_EVIDENCE:]

    def describe(self) -> str:
        """The message plus the evidence, for reports."""
        text = str(self)
        return f"{text}\n{self.evidence}" if self.evidence else text


class AdapterUnavailable(ConfigError):
    """A shipped adapter cannot run here (its SDK, Node.js or npm is missing)."""


@runtime_checkable
class ClientAdapter(Protocol):
    """The seam between the client suite and a client (STYLE.md §2)."""

    name: str
    # True when the client sends through httpx in this process, so respx can play the server.
    httpx_based: bool

    def reboot(self, call: RebootCall) -> Outcome:
        """Make the call; raise `ClientFailure` when the adapter misbehaves."""
        ...

    def close(self) -> None:
        """Release what the adapter holds (processes, clients)."""
        ...


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

    def reboot(self, call: RebootCall) -> Outcome:
        """Run the callable; translate every misbehaviour into `ClientFailure`."""
        box: dict[str, object] = {}

        def target() -> None:
            try:
                box["value"] = self.func(call)
            except BaseException as exc:  # the adapter's fault, whatever it is: report it
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"adapter-{self.name}", daemon=True)
        thread.start()
        thread.join(self.timeout_s)
        if thread.is_alive():
            raise ClientFailure(
                "timeout", f"adapter {self.name} did not return within {self.timeout_s:g} s"
            )
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

    CMD runs through the shell (it is the user's own command line, like a CI step), in its own
    process group so that a hang is killed whole.
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

    def reboot(self, call: RebootCall) -> Outcome:
        """Run CMD once; a timeout, a non-zero exit or a non-Outcome stdout: `ClientFailure`."""
        with subprocess.Popen(
            self.command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(call.to_json().encode("utf-8"), self.timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                out, err = proc.communicate()
                raise ClientFailure(
                    "timeout",
                    f"command did not finish within {self.timeout_s:g} s: {self.command}",
                    _decode(err),
                ) from None
        stdout, stderr = _decode(out), _decode(err)
        if proc.returncode != 0:
            raise ClientFailure(
                "exit",
                f"command exited with status {proc.returncode}: {self.command}",
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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def adapter_names() -> tuple[str, ...]:
    """The shipped adapter names, plus `faulty-<name>` for each faulty reference variant."""
    from conformance.client.faulty import FAULTY

    return (*_SHIPPED, *(_FAULTY_PREFIX + n for n in FAULTY))


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


def _import_attr(ref: str) -> object:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"adapter {ref!r} is not module:attr", hint=_names_hint())
    try:
        with _cwd_on_path():
            obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import adapter module {module_name!r}: {exc}",
            hint="module:attr is imported with the current directory on sys.path",
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def _names_hint() -> str:
    return "use module:attr, --command 'CMD', or one of: " + ", ".join(_SHIPPED)


def _wrap(obj: object, name: str, timeout_s: float) -> ClientAdapter:
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
            hint="DESIGN.md §6: attr takes one RebootCall and returns an Outcome",
        )
    return CallableAdapter(func, name=name, timeout_s=timeout_s, httpx_based=httpx_based)


def load_adapter(
    name: str | None = None,
    command: str | None = None,
    *,
    timeout_s: float = DEFAULT_ADAPTER_TIMEOUT_S,
) -> ClientAdapter:
    """The adapter a session judges: `command` if given, else `name` (default `reference`).

    Raises `ConfigError` for an unknown name or an unimportable `module:attr`, and
    `AdapterUnavailable` when a shipped adapter cannot run on this machine.
    """
    if command:
        if name:
            raise ConfigError("give an adapter name or a command, not both")
        return CommandAdapter(command, timeout_s=timeout_s)
    name = name or "reference"
    if name in _SHIPPED:
        factory = _import_attr(_SHIPPED[name])
        assert callable(factory)
        adapter = factory(timeout_s=timeout_s)
        if not isinstance(adapter, ClientAdapter):
            adapter = _wrap(adapter, name, timeout_s)
        return adapter
    if name.startswith(_FAULTY_PREFIX):
        from conformance.client.faulty import FAULTY

        key = name.removeprefix(_FAULTY_PREFIX)
        if key not in FAULTY:
            raise ConfigError(f"no faulty variant {key!r}", hint="known: " + ", ".join(FAULTY))
        return FAULTY[key].adapter(timeout_s=timeout_s)
    if ":" in name:
        return _wrap(_import_attr(name), name, timeout_s)
    raise ConfigError(f"unknown client adapter {name!r}", hint=_names_hint())
