"""The test-control API (docs/contracts.md#test-control), thin over `World`: arrange, observe,
inject, reset.

Mounted under `/_conformance`. Ids are taken from the raw path and percent-decoded here, so an id
holding an encoded `/` (`%2F`) stays one path segment. JSON bodies, PascalCase fields; every
control error is `{"Code": ..., "Message": ...}`.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import Receive, Scope, Send

from conformance.emulator.handlers import Operations
from conformance.emulator.state import InstanceSnapshot, World
from conformance.protocol.gateway import Gateway

__all__ = ["CONTROL_PREFIX", "ControlApp", "view_to_json"]

CONTROL_PREFIX = "/_conformance"
_MAX_BODY = 64 * 1024
# Read-only fields of the view that a PUT may echo back; PUT ignores them (RebootCount and
# LastForceStop start again, docs/contracts.md#details-every-implementation-must-share).
_VIEW_ONLY = frozenset({"InstanceId", "RebootCount", "LastForceStop"})
_PUT_FIELDS = frozenset({"Status", "OperationLocks", "DiskStatus", "KmsKeyAccessible"})
_FAULT_FIELDS = frozenset({"Action", "Code", "Count"})


class _ControlError(Exception):
    def __init__(self, status: int, code: str, message: str, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow


def view_to_json(view: InstanceSnapshot) -> dict[str, Any]:
    """The control API's instance view (docs/contracts.md#instance-view), PascalCase."""
    return {
        "InstanceId": view.instance_id,
        "Status": view.status,
        "OperationLocks": list(view.operation_locks),
        "DiskStatus": view.disk_status,
        "KmsKeyAccessible": view.kms_key_accessible,
        "RebootCount": view.reboot_count,
        "LastForceStop": view.last_force_stop,
    }


class ControlApp:
    """A raw ASGI app serving the test-control API under `CONTROL_PREFIX`.

    `token`: when set, every request must carry `Authorization: Bearer <token>` (else 401).
    """

    def __init__(
        self,
        world: World,
        gateway: Gateway,
        operations: Operations,
        *,
        token: str | None = None,
    ) -> None:
        self.world = world
        self.gateway = gateway
        self.operations = operations
        self._expected = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            self._authorise(scope)
            segments = self._segments(scope)
            status, payload = await self._route(scope["method"], segments, receive)
        except _ControlError as exc:
            headers = [(b"allow", exc.allow.encode())] if exc.allow else []
            await _send_json(send, exc.status, {"Code": exc.code, "Message": exc.message}, headers)
            return
        await _send_json(send, status, payload)

    # -- request parsing ---------------------------------------------------------------------
    def _authorise(self, scope: Scope) -> None:
        if self._expected is None:
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        scheme, _, token = given.partition(b" ")
        # the auth scheme is case-insensitive (RFC 9110 §11.1); the token is compared exactly
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token, self._expected):
            raise _ControlError(
                401, "Unauthorized", "missing or wrong 'Authorization: Bearer <token>' header"
            )

    @staticmethod
    def _segments(scope: Scope) -> list[str]:
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        prefix = CONTROL_PREFIX.encode()
        if raw.startswith(prefix):
            rest = raw[len(prefix) :]
        else:  # the prefix itself was percent-encoded: fall back to the decoded path
            rest = scope["path"][len(scope.get("root_path", "")) :].encode("utf-8")
        try:
            return [unquote_to_bytes(s).decode("utf-8") for s in rest.split(b"/")[1:]]
        except UnicodeDecodeError:
            raise _ControlError(400, "InvalidPath", "the path is not valid UTF-8") from None

    async def _route(self, method: str, segments: list[str], receive: Receive) -> tuple[int, Any]:
        def need(*allowed: str) -> None:
            if method not in allowed:
                raise _ControlError(
                    405,
                    "MethodNotAllowed",
                    f"{method} is not allowed here; use {' or '.join(allowed)}",
                    allow=", ".join(allowed),
                )

        if len(segments) == 2 and segments[0] == "instances" and segments[1]:
            need("GET", "PUT")
            if method == "PUT":
                return 200, self._put(segments[1], await _read_json(receive))
            return 200, self._get(segments[1])
        if (
            len(segments) == 3
            and segments[0] == "instances"
            and segments[1]
            and segments[2] == "settle"
        ):
            need("POST")
            view = self.world.settle(segments[1])
            if view is None:
                raise _unknown(segments[1])
            return 200, view_to_json(view)
        if segments == ["faults"]:
            need("POST")
            self._fault(await _read_json(receive))
            return 204, None
        if segments == ["state"]:
            need("DELETE")
            self.world.reset()
            self.gateway.reset()  # docs/contracts.md#test-control: also forget remembered nonces
            return 204, None
        raise _ControlError(
            404, "NotFound", "no such control resource (docs/contracts.md#test-control)"
        )

    # -- operations --------------------------------------------------------------------------
    def _get(self, instance_id: str) -> dict[str, Any]:
        view = self.world.get(instance_id)
        if view is None:
            raise _unknown(instance_id)
        return view_to_json(view)

    def _put(self, instance_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _invalid("the body must be a JSON object")
        unknown = sorted(set(body) - _PUT_FIELDS - _VIEW_ONLY)
        if unknown:
            raise _invalid(f"unknown field(s): {', '.join(unknown)}")
        if "InstanceId" in body and body["InstanceId"] != instance_id:
            raise _invalid("InstanceId in the body differs from the id in the path")
        life = self.world.lifecycle
        status = body.get("Status")
        if not isinstance(status, str) or status not in life.statuses:
            raise _invalid(f"Status is required, one of: {', '.join(life.statuses)}")
        locks = body.get("OperationLocks", [])
        if not isinstance(locks, list) or not all(isinstance(r, str) for r in locks):
            raise _invalid("OperationLocks must be a list of strings")
        disk = body.get("DiskStatus", life.disk_ok_status)
        if not isinstance(disk, str) or not disk:
            raise _invalid("DiskStatus must be a non-empty string")
        kms = body.get("KmsKeyAccessible", True)
        if not isinstance(kms, bool):
            raise _invalid("KmsKeyAccessible must be true or false")
        view = self.world.put(InstanceSnapshot(instance_id, status, tuple(locks), disk, kms))
        return view_to_json(view)

    def _fault(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _invalid("the body must be a JSON object")
        unknown = sorted(set(body) - _FAULT_FIELDS)
        if unknown:
            raise _invalid(f"unknown field(s): {', '.join(unknown)}")
        action = body.get("Action")
        actions = self.operations.actions
        if not isinstance(action, str) or action not in actions:
            raise _invalid(f"Action is required, one of: {', '.join(actions)}")
        code = body.get("Code")
        codes = self.operations.fault_codes
        if not isinstance(code, str) or code not in codes:
            raise _invalid(f"Code is required, one of: {', '.join(codes)}")
        count = body.get("Count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _invalid("Count must be a positive integer")
        self.world.add_fault(action, code, count)


def _invalid(message: str) -> _ControlError:
    return _ControlError(400, "InvalidBody", message)


def _unknown(instance_id: str) -> _ControlError:
    return _ControlError(404, "InstanceNotFound", f"no instance {instance_id!r}")


async def _read_json(receive: Receive) -> Any:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _invalid("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise _invalid(f"the body exceeds {_MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise _invalid("the body is not valid JSON") from None


async def _send_json(
    send: Send,
    status: int,
    payload: Any,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = b"" if status == 204 else json.dumps(payload).encode("utf-8")
    headers = [(b"content-length", str(len(body)).encode())]
    if status != 204:
        headers.append((b"content-type", b"application/json"))
    headers.extend(extra or ())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
