"""The client adapter contract (docs/contracts.md#client-adapters): one `RebootCall` in, one
`Outcome` out, whatever the client's language.

An adapter that raises, hangs, exits non-zero or answers something that is not an `Outcome` raises
`ClientFailure`; the suite reports it as a failed test with that evidence, never as a crash
(docs/contracts.md#client-failures). `conformance.client.adapters` runs Python callables and
commands under this contract; `conformance.client.registry` names the shipped ones.

    >>> call = RebootCall(endpoint="127.0.0.1:8080", instance_id="i-1",
    ...                   access_key_id="testid", access_key_secret="testsecret")
    >>> Outcome.from_dict({"ok": True, "request_id": "R"}).ok
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from conformance.errors import ConfigError

__all__ = [
    "DEFAULT_ADAPTER_TIMEOUT_S",
    "NO_ANSWER_WAIT_S",
    "SDK_DEFAULT_TIMEOUTS",
    "AdapterUnavailable",
    "ClientAdapter",
    "ClientFailure",
    "Outcome",
    "OutcomeFormatError",
    "RebootCall",
]

# The brief's "hangs" bound: an adapter that has not answered after this long is a client failure.
DEFAULT_ADAPTER_TIMEOUT_S = 10.0

# The official SDKs' own timeouts when a caller sets none (seconds: connect, read), read from
# their code: aliyun-python-sdk-core's DEFAULT_CONNECTION_TIMEOUT and, for RebootInstance, the
# read timeout of its data/timeout_config.json (27, above DEFAULT_READ_TIMEOUT 10);
# alibabacloud-tea-openapi through darabonba/Tea core's DEFAULT_CONNECT_TIMEOUT and
# DEFAULT_READ_TIMEOUT; the Node SDK (@alicloud/ecs20140526 on @alicloud/openapi-core and
# @alicloud/tea-typescript) through httpx's TIMEOUT.
SDK_DEFAULT_TIMEOUTS: Mapping[str, tuple[float, float]] = {
    "aliyun-python-sdk-core (aliyun-python-sdk-ecs)": (5.0, 27.0),
    "alibabacloud-tea-openapi (alibabacloud-ecs20140526, Python)": (5.0, 10.0),
    "@alicloud/openapi-core (@alicloud/ecs20140526, Node)": (3.0, 3.0),
}

# How long the client suite waits for an adapter when the server never answers: longer than
# every official SDK's default connect + read timeout, so a client that keeps its SDK's
# defaults passes (an adapter may still use `RebootCall.timeout_s` to answer sooner).
NO_ANSWER_WAIT_S = 5.0 + max(read for _, read in SDK_DEFAULT_TIMEOUTS.values()) + 8.0
_MAX_EVIDENCE = 4000


@dataclass(frozen=True)
class RebootCall:
    """One RebootInstance call to make (docs/contracts.md#rebootcall). `None` booleans mean "leave
    unset".

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
    # A hint (contract addition): how long the suite would like the client to wait for an
    # answer, in seconds, or None. An adapter may hand it to its SDK's timeouts; one that
    # ignores it and keeps its SDK's defaults still passes (NO_ANSWER_WAIT_S).
    timeout_s: float | None = None

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
            "timeout_s": self.timeout_s,
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

        hint = data.get("timeout_s")
        if hint is not None and (isinstance(hint, bool) or not isinstance(hint, int | float)):
            raise ValueError(f"timeout_s must be a number or null, not {hint!r}")
        return cls(
            endpoint=str(data["endpoint"]),
            instance_id=str(data["instance_id"]),
            access_key_id=str(data["access_key_id"]),
            access_key_secret=str(data["access_key_secret"]),
            region_id=str(data.get("region_id") or "cn-hangzhou"),
            protocol=str(data.get("protocol") or "http"),
            force_stop=tri("force_stop"),
            dry_run=tri("dry_run"),
            timeout_s=None if hint is None else float(hint),
        )


class OutcomeFormatError(ValueError):
    """What an adapter answered is not an `Outcome` (the shape of docs/contracts.md#outcome)."""


def _opt_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise OutcomeFormatError(f"{name} must be a string or null, not {value!r}")


@dataclass(frozen=True)
class Outcome:
    """What the client made of the answer (docs/contracts.md#outcome).

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
        """The JSON object of docs/contracts.md#outcome (a success carries only `ok` and
        `request_id`)."""
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

    `kind` is one of `raised`, `timeout`, `too-much-output`, `exit`, `not-an-outcome` (and
    `not-called`: the client suite's harness did not call an adapter that had stopped
    answering); `evidence` is what the adapter printed or the traceback (truncated).
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
    """The seam between the client suite and a client: one small Protocol."""

    name: str
    # True when the client sends through httpx in this process, so respx can play the server.
    httpx_based: bool

    def reboot(self, call: RebootCall, *, wait_s: float | None = None) -> Outcome:
        """Make the call; raise `ClientFailure` when the adapter misbehaves. `wait_s`: how long
        to wait for it this time (default: the adapter's own bound)."""
        ...

    def close(self) -> None:
        """Release what the adapter holds (processes, clients)."""
        ...
