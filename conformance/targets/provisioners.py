"""Provisioners: how the server suite arranges and observes instances on a target.

* `ControlProvisioner`: the test-control API of docs/contracts.md#test-control (arrange anything,
  observe `RebootCount`/`LastForceStop`, settle, inject faults, reset).
* `FixturesProvisioner`: the black-box fixtures file of docs/contracts.md#black-box-fixtures (only
  the conditions the file names; observation through `DescribeInstances`; no faults, no reset). With
  no file it is the control-free provisioner: nothing can be arranged.

Both make random ids for `InvalidInstanceId.NotFound` in a pattern no real instance has (real
ids are `i-` and 20 lower-case letters and digits).
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from conformance.errors import ConfigError, TargetUnreachable, did_you_mean
from conformance.limits import MAX_BODY_BYTES
from conformance.targets.base import NOT_FOUND_PREFIX, Condition, InstanceView, Unsupported
from conformance.targets.http import HttpServerTarget, bounded_request

__all__ = [
    "ControlError",
    "ControlProvisioner",
    "Fixtures",
    "FixturesProvisioner",
    "describe_instance",
    "fresh_instance_id",
    "load_fixtures",
    "not_found_instance_id",
]

FRESH_PREFIX = "i-conformance-"


def not_found_instance_id() -> str:
    """A random id that cannot collide with a real instance
    (docs/contracts.md#black-box-fixtures)."""
    return NOT_FOUND_PREFIX + secrets.token_hex(8)


def fresh_instance_id(suffix: str = "") -> str:
    """A random id for an instance the control API creates (`suffix` may hold any characters)."""
    return FRESH_PREFIX + secrets.token_hex(6) + suffix


class ControlError(TargetUnreachable):
    """The control API did not answer, or answered something the contract of
    docs/contracts.md#test-control does not allow (a status or a shape): an infrastructure
    error (exit 3), which stops the session with its message, never a finding about the
    target."""


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _shape_problem(data: Mapping[str, Any]) -> str | None:
    """What makes a control API instance view unusable (the test-control contract), or None."""
    for name in ("InstanceId", "Status"):
        if not isinstance(data.get(name), str):
            return f"{name} must be a string, not {data.get(name)!r:.80}"
    locks = data.get("OperationLocks")
    if locks is not None and (
        not isinstance(locks, list) or not all(isinstance(x, str) for x in locks)
    ):
        return f"OperationLocks must be a list of strings, not {locks!r:.80}"
    disk = data.get("DiskStatus")
    if disk is not None and not isinstance(disk, str):
        return f"DiskStatus must be a string, not {disk!r:.80}"
    for name in ("KmsKeyAccessible", "LastForceStop"):
        value = data.get(name)
        if value is not None and _bool(value) is None:
            return f"{name} must be true or false, not {value!r:.80}"
    count = data.get("RebootCount")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        return f"RebootCount must be an integer, not {count!r:.80}"
    return None


def _view_from_control(data: object, what: str) -> InstanceView:
    """The instance view of a control answer; `ControlError` when its shape is wrong."""
    if not isinstance(data, Mapping):
        raise ControlError(
            f"control API: {what} answered {data!r:.120} instead of an instance object "
            "(the test-control contract)"
        )
    problem = _shape_problem(data)
    if problem is not None:
        raise ControlError(
            f"control API: {what} answered an instance of the wrong shape: {problem} "
            "(the test-control contract)",
            hint="the test-control API is the suite's provisioning, not the target under "
            "judgement: fix it, or judge the target with a fixtures file instead",
        )
    count = data.get("RebootCount")
    return InstanceView(
        instance_id=str(data["InstanceId"]),
        status=str(data["Status"]),
        operation_locks=tuple(data.get("OperationLocks") or ()),
        disk_status=data.get("DiskStatus"),
        kms_key_accessible=_bool(data.get("KmsKeyAccessible")),
        reboot_count=count if isinstance(count, int) else None,
        last_force_stop=_bool(data.get("LastForceStop")),
        raw=dict(data),
    )


class ControlProvisioner:
    """Drives the test-control API of docs/contracts.md#test-control at `control_url`.

    >>> p = ControlProvisioner("http://127.0.0.1:1/_conformance", timeout_s=0.2)
    >>> p.name
    'control'
    """

    name = "control"

    def __init__(self, control_url: str, token: str | None = None, timeout_s: float = 5.0) -> None:
        parts = urlsplit(control_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--ecs-control is not an http(s) URL: {control_url!r}")
        self.control_url = control_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self._timeout = timeout_s
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        self._conn: http.client.HTTPConnection | None = None

    # -- transport --------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """One control request; `(status, decoded JSON or None)`. Raises `ControlError` when the
        control API cannot be reached, does not answer within the timeout (in total), or
        answers more than `MAX_BODY_BYTES`."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        last: str = ""
        deadline = time.monotonic() + self._timeout
        for _ in range(2):  # a keep-alive connection the server closed is retried once
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            conn = self._connection()
            answer = bounded_request(
                conn, method, self._base + path, self._headers, payload, remaining
            )
            if answer.late:
                break
            if not answer.keep_alive:
                self._conn = None
            if answer.failure is not None:
                last = f"{type(answer.failure).__name__}: {answer.failure}"
                continue
            if answer.too_large:
                raise ControlError(
                    f"control API: {method} {path} answered more than {MAX_BODY_BYTES} bytes"
                )
            try:
                data = json.loads(answer.body) if answer.body.strip() else None
            except ValueError:
                data = None
            return answer.status, data
        else:
            raise ControlError(
                f"the control API at {self.control_url} did not answer {method} {path}: {last}"
            )
        self._conn = None
        raise ControlError(
            f"the control API at {self.control_url} did not answer {method} {path} within "
            f"{self._timeout:g}s"
        )

    def _expect(self, status: int, data: Any, ok: Sequence[int], what: str) -> Any:
        if status not in ok:
            raise ControlError(
                f"control API: {what} answered HTTP {status} {data!r}, where the test-control "
                f"contract (docs/contracts.md#test-control) expects {'/'.join(map(str, ok))}"
            )
        return data

    def close(self) -> None:
        """Close the keep-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def available(self, status: str = "Running") -> bool:
        """True when this URL speaks the control contract (`refusal()` is None)."""
        return self.refusal(status) is None

    def refusal(self, status: str = "Running") -> str | None:
        """None when this URL speaks the control contract: a `PUT` of a random instance answers
        200 with its view (a plain 404 proves nothing: any server says that). Else what it
        did: `HTTP 401 Unauthorized`, `no answer: ...`."""
        iid = not_found_instance_id()
        try:
            code, data = self.request("PUT", "/instances/" + quote(iid, ""), {"Status": status})
        except ControlError as exc:
            return f"no answer: {str(exc).rpartition(': ')[2] or exc}"
        if code == 200 and isinstance(data, Mapping) and data.get("InstanceId") == iid:
            return None
        named = data.get("Code") if isinstance(data, Mapping) else None
        return f"HTTP {code}" + (f" {named}" if isinstance(named, str) else "")

    # -- Provisioner ------------------------------------------------------------------------
    def arrange(self, condition: Condition, instance_id: str | None = None) -> str:
        """Create (or replace) an instance in `condition`; its id (fresh when not given)."""
        iid = instance_id or fresh_instance_id()
        status, data = self.request("PUT", "/instances/" + quote(iid, safe=""), condition.body())
        self._expect(status, data, (200,), f"PUT /instances/{iid}")
        return iid

    def observe(self, instance_id: str) -> InstanceView | None:
        """`GET /instances/{id}`: the view, or None on 404."""
        status, data = self.request("GET", "/instances/" + quote(instance_id, safe=""))
        if status == 404:
            return None
        what = f"GET /instances/{instance_id}"
        return _view_from_control(self._expect(status, data, (200,), what), what)

    def settle(self, instance_id: str) -> InstanceView | None:
        """`POST /instances/{id}/settle`."""
        path = "/instances/" + quote(instance_id, safe="") + "/settle"
        status, data = self.request("POST", path)
        if status == 404:
            return None
        data = self._expect(status, data, (200,), f"POST {path}")
        return _view_from_control(data, f"POST {path}") if data is not None else None

    def inject_fault(self, action: str, code: str, count: int = 1) -> None:
        """`POST /faults`."""
        body = {"Action": action, "Code": code, "Count": count}
        status, data = self.request("POST", "/faults", body)
        self._expect(status, data, (200, 204), "POST /faults")

    def reset(self) -> None:
        """`DELETE /state`."""
        status, data = self.request("DELETE", "/state")
        self._expect(status, data, (200, 204), "DELETE /state")

    def not_found_id(self) -> str:
        """A random id no instance has."""
        return not_found_instance_id()

    def missing_reason(self, condition: Condition) -> str:
        """Never used: the control API arranges anything."""
        return ""


_FIXTURE_FIELDS = (
    "InstanceId",
    "Status",
    "OperationLocks",
    "DiskStatus",
    "KmsKeyAccessible",
    "RegionId",
)
_TOP_LEVEL_FIELDS = ("RegionId", "instances")
_FIXTURES_HINT = (
    "a fixtures file is `instances:` and, per instance, `- InstanceId: i-...` with its "
    "`Status: Running` (see fixtures/example-fixtures.yaml)"
)


@dataclass(frozen=True)
class Fixtures:
    """A fixtures file as read: each instance's condition, id and region."""

    path: Path
    region_id: str | None
    instances: tuple[tuple[Condition, str, str | None], ...]


def load_fixtures(path: Path, statuses: Sequence[str] = ()) -> Fixtures:
    """Read and check a fixtures file (docs/contracts.md#black-box-fixtures); `ConfigError`
    naming the file, the line and what is wrong (an unknown field with the closest known
    one). `statuses` are the ones the profile lists (empty: any string)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"cannot read the fixtures file {path}: {reason}") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}", hint=_FIXTURES_HINT) from None
    except ValueError as exc:  # e.g. a date-like value that is no date
        raise ConfigError(f"{path}: not valid YAML: {exc}", hint=_FIXTURES_HINT) from None
    if not isinstance(data, dict) or not isinstance(data.get("instances"), list):
        raise ConfigError(
            f"{path}:1: a fixtures file is a mapping with an `instances` list "
            "(docs/contracts.md#black-box-fixtures)",
            hint=_FIXTURES_HINT,
        )
    _refuse_unknown(f"{path}:1", data, _TOP_LEVEL_FIELDS)
    region = data.get("RegionId")
    region_id = str(region) if region is not None else None
    nodes = _instance_nodes(root)
    found: list[tuple[Condition, str, str | None]] = []
    seen: set[str] = set()
    for index, item in enumerate(data["instances"]):
        line = nodes[index] if index < len(nodes) else 0
        where = f"{path}:{line}"
        if not isinstance(item, dict):
            raise ConfigError(
                f"{where}: instance {index + 1} is not a mapping", hint=_FIXTURES_HINT
            )
        _refuse_unknown(where, item, _FIXTURE_FIELDS)
        iid = item.get("InstanceId")
        if not isinstance(iid, str) or not iid:
            raise ConfigError(f"{where}: instance {index + 1} has no InstanceId string")
        if iid in seen:
            raise ConfigError(f"{where}: {iid} is listed twice")
        seen.add(iid)
        status = item.get("Status")
        if not isinstance(status, str) or (statuses and status not in statuses):
            allowed = ", ".join(statuses) or "a status string"
            guess = did_you_mean(status, statuses) if isinstance(status, str) else ""
            raise ConfigError(f"{where}: {iid} has Status {status!r}{guess}; expected {allowed}")
        locks = item.get("OperationLocks", []) or []
        if not isinstance(locks, list) or not all(isinstance(x, str) for x in locks):
            raise ConfigError(f"{where}: {iid}: OperationLocks must be a list of strings")
        disk = item.get("DiskStatus")
        if disk is not None and not isinstance(disk, str):
            raise ConfigError(f"{where}: {iid}: DiskStatus must be a string")
        kms = item.get("KmsKeyAccessible", True)
        if not isinstance(kms, bool):
            raise ConfigError(f"{where}: {iid}: KmsKeyAccessible must be true or false")
        region_item = item.get("RegionId")
        cond = Condition(status, tuple(locks), disk, kms)
        found.append((cond, iid, str(region_item) if region_item else region_id))
    return Fixtures(path, region_id, tuple(found))


def _refuse_unknown(where: str, mapping: Mapping[Any, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(str(k) for k in mapping if str(k) not in allowed)
    if unknown:
        guesses = "".join(did_you_mean(u, allowed) for u in unknown[:1])
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}{guesses}; allowed: "
            + ", ".join(allowed)
        )


class FixturesProvisioner:
    """Instances that already exist on the target, named by a YAML file
    (docs/contracts.md#black-box-fixtures).

    `arrange` only finds: it returns the id of a listed instance in the asked condition, or
    None (then `missing_reason` says which condition no fixture provides). `statuses` and
    `disk_ok_status` are the spec's lifecycle facts (`Spec.lifecycle`).
    """

    name = "fixtures"

    def __init__(
        self,
        path: Path | None,
        target: HttpServerTarget,
        *,
        statuses: Sequence[str],
        disk_ok_status: str,
        wait_s: float = 0.0,
        poll_s: float = 2.0,
    ) -> None:
        self.path = path
        self.target = target
        self.disk_ok_status = disk_ok_status
        self.wait_s = wait_s
        self.poll_s = poll_s
        self._not_now: dict[str, str] = {}
        self.region_id: str | None = None
        self.instances: tuple[tuple[Condition, str, str | None], ...] = ()
        if path is not None:
            self._load(path, tuple(statuses))

    # -- loading ----------------------------------------------------------------------------
    def _load(self, path: Path, statuses: tuple[str, ...]) -> None:
        fixtures = load_fixtures(path, statuses)
        self.region_id = fixtures.region_id
        self.instances = fixtures.instances

    @property
    def instance_ids(self) -> frozenset[str]:
        """Every listed id (the only instances a destructive call may touch)."""
        return frozenset(iid for _, iid, _ in self.instances)

    # -- Provisioner ------------------------------------------------------------------------
    def _same(self, a: Condition, b: Condition) -> bool:
        ok = self.disk_ok_status
        return (
            a.status == b.status
            and sorted(a.operation_locks) == sorted(b.operation_locks)
            and (a.disk_status or ok) == (b.disk_status or ok)
            and a.kms_key_accessible == b.kms_key_accessible
        )

    def arrange(self, condition: Condition, instance_id: str | None = None) -> str | None:
        """The first listed instance in `condition` that DescribeInstances shows in its listed
        status now (an earlier test may have rebooted it: wait up to `wait_s` for it to come
        back), or None."""
        for cond, iid, _ in self.instances:
            if (
                self._same(cond, condition)
                and instance_id in (None, iid)
                and self._is_now(iid, cond.status)
            ):
                return iid
        return None

    def _is_now(self, instance_id: str, status: str) -> bool:
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                view = self.observe(instance_id)
            except Unsupported:
                return True  # cannot look: trust the file
            if view is not None and view.status == status:
                self._not_now.pop(instance_id, None)
                return True
            shown = view.status if view is not None else "not found"
            if time.monotonic() >= deadline:
                self._not_now[instance_id] = (
                    f"fixture instance {instance_id} is {shown} now, not {status} "
                    f"(waited {self.wait_s:g}s)"
                )
                return False
            time.sleep(self.poll_s)

    def missing_reason(self, condition: Condition) -> str:
        """Why `arrange(condition)` gave None, for the `not_verified` verdict."""
        busy = [
            self._not_now[iid]
            for cond, iid, _ in self.instances
            if self._same(cond, condition) and iid in self._not_now
        ]
        if busy:
            return "; ".join(busy)
        if self.path is None:
            return (
                f"no control API and no fixtures file: cannot arrange an instance that is "
                f"{condition.describe()} (give --ecs-control or --ecs-fixtures)"
            )
        return f"no fixture instance is {condition.describe()} (in {self.path})"

    def observe(self, instance_id: str) -> InstanceView | None:
        """Through `DescribeInstances` (InstanceIds as a JSON array string,
        docs/protocol.md#observing-instances)."""
        region = next((r for _, iid, r in self.instances if iid == instance_id), self.region_id)
        return describe_instance(self.target, instance_id, region)

    def settle(self, instance_id: str) -> InstanceView | None:
        """Not possible without the control API."""
        raise Unsupported(
            "settling a transition needs the test-control API (docs/contracts.md#test-control)"
        )

    def inject_fault(self, action: str, code: str, count: int = 1) -> None:
        """Not possible without the control API."""
        raise Unsupported(
            f"provoking {code} needs fault injection through the test-control API "
            "(docs/contracts.md#test-control)"
        )

    def reset(self) -> None:
        """Not possible without the control API."""
        raise Unsupported(
            "resetting the target needs the test-control API (docs/contracts.md#test-control)"
        )

    def not_found_id(self) -> str:
        """A random id no instance has."""
        return not_found_instance_id()

    def close(self) -> None:
        """Nothing to release (the target owns the connections)."""


def describe_instance(
    target: HttpServerTarget, instance_id: str, region_id: str | None = None
) -> InstanceView | None:
    """The instance as `DescribeInstances` shows it (InstanceIds as a JSON array string;
    Status and OperationLocks.LockReason[], docs/protocol.md#observing-instances), None when it
    is not listed; `Unsupported` when DescribeInstances gives no usable answer."""
    params = {"InstanceIds": json.dumps([instance_id])}
    if region_id:
        params["RegionId"] = region_id
    exchange = target.call("DescribeInstances", params)
    response = exchange.response
    if response is None or response.status != 200 or response.data is None:
        raise Unsupported(
            f"DescribeInstances did not answer usably ({exchange.summary()}); the instance "
            "cannot be observed"
        )
    for item in _describe_items(response.data):
        if str(item.get("InstanceId")) == instance_id:
            locks = item.get("OperationLocks") or {}
            reasons = locks.get("LockReason", []) if isinstance(locks, dict) else locks
            if isinstance(reasons, dict):
                reasons = [reasons]
            names = tuple(
                str(r.get("LockReason")) if isinstance(r, dict) else str(r) for r in reasons or []
            )
            return InstanceView(instance_id, str(item.get("Status", "")), names, raw=item)
    return None


def _instance_nodes(root: yaml.Node | None) -> list[int]:
    """1-based line of each item of the `instances` sequence, for error messages."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "instances" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _describe_items(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    instances = data.get("Instances") or {}
    items = instances.get("Instance", []) if isinstance(instances, Mapping) else instances
    if isinstance(items, Mapping):
        items = [items]
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
