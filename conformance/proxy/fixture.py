"""The `ecs_endpoint` pytest fixture: the reference emulator behind the checking proxy, for a
user's own tests (moto-style: the test changes only its endpoint).

    def test_reboot(ecs_endpoint):
        ecs_endpoint.instance("i-123", status="Running")
        client = make_my_client(endpoint=ecs_endpoint.host_port,
                                access_key_id=ecs_endpoint.access_key_id,
                                access_key_secret=ecs_endpoint.access_key_secret)
        client.reboot("i-123")

Session scope: one proxy and one emulator for the whole session, started the first time a
test asks for the fixture (a session that never asks pays nothing: the plugin imports this
module only then). At the end of the session the conformance report of every exchange the
tests sent goes to `--ecs-traffic-report` (default `reports/traffic`); with
`--ecs-traffic-strict` a client-side deviation fails the session (`strict_failures`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from conformance.config import Credentials
from conformance.errors import ConfigError
from conformance.proxy.judge import CLIENT
from conformance.proxy.service import EMBEDDED, CheckingProxy, ProxySettings
from conformance.proxy.traffic import TrafficExchange

__all__ = ["EcsEndpoint"]


class EcsEndpoint:
    """What the fixture gives a test: where to send, with which AccessKey, and how to arrange
    instances (the embedded emulator's control API, docs/contracts.md#test-control)."""

    def __init__(self, proxy: CheckingProxy) -> None:
        self._proxy = proxy
        emulator = proxy.emulator
        assert emulator is not None, "ecs_endpoint serves the embedded emulator"
        self._control = httpx.Client(base_url=emulator.control_url, timeout=10.0)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`: the checking proxy."""
        return self._proxy.url

    @property
    def host_port(self) -> str:
        """`127.0.0.1:PORT`, what SDK configurations take as their endpoint."""
        return self._proxy.host_port

    @property
    def access_key_id(self) -> str:
        return self._proxy.settings.credentials.access_key_id

    @property
    def access_key_secret(self) -> str:
        return self._proxy.settings.credentials.access_key_secret

    @property
    def proxy(self) -> CheckingProxy:
        """The checking proxy itself (its judge, its report so far)."""
        return self._proxy

    def instance(
        self,
        instance_id: str,
        status: str = "Running",
        locks: Iterable[str] = (),
        **fields: Any,
    ) -> dict[str, Any]:
        """Create or replace instance `instance_id` (its status, its OperationLocks reasons,
        and any other field of the control API's PUT, e.g. DiskStatus="Creating"); returns the
        emulator's view of it. `ConfigError` when the control API refuses."""
        body = {"Status": status, "OperationLocks": list(locks), **fields}
        answer = self._control.put(f"/instances/{quote(instance_id, safe='')}", json=body)
        if answer.status_code != 200:
            raise ConfigError(
                f"ecs_endpoint.instance({instance_id!r}): the control API answered "
                f"{answer.status_code}: {answer.text[:300]}"
            )
        view: dict[str, Any] = answer.json()
        return view

    def get(self, instance_id: str) -> dict[str, Any] | None:
        """The emulator's view of `instance_id` (status, RebootCount, ...), or None."""
        answer = self._control.get(f"/instances/{quote(instance_id, safe='')}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        view: dict[str, Any] = answer.json()
        return view

    def reset(self) -> None:
        """Forget every instance (the traffic judged so far stays in the report)."""
        self._control.delete("/state").raise_for_status()

    def close(self) -> None:
        self._control.close()

    def __repr__(self) -> str:
        return f"EcsEndpoint({self.url})"


def start(credentials: Credentials, timeout_s: float) -> CheckingProxy:
    """The fixture's proxy: the embedded emulator, loopback, a free port."""
    from conformance.spec import load_spec

    return CheckingProxy(
        ProxySettings(upstream=EMBEDDED, credentials=credentials, timeout_s=timeout_s),
        spec=load_spec(),
        reproduce=_reproduce,
    ).start()


def _reproduce(exchange: TrafficExchange) -> str:
    """A failure's one command: the user's test that sent the request."""
    if exchange.origin:
        return f"pytest {shlex.quote(exchange.origin)}"
    return exchange.curl()


def finish(proxy: CheckingProxy, report_dir: Path) -> list[tuple[str, str]]:
    """Stop the proxy, write the four reports to `report_dir`; the client-side failures
    `(requirement id, reason)`."""
    from conformance.reports import write_reports

    proxy.stop()
    report = proxy.report(name="ecs_endpoint (the pytest session's traffic)")
    write_reports(report, report_dir)
    return proxy.judge.failures(CLIENT)


def strict_lines(failures: list[tuple[str, str]], report_dirs: list[Path]) -> list[str]:
    """The terminal lines `--ecs-traffic-strict` prints when it fails the session (one report
    directory, or one per pytest-xdist worker that used the fixture)."""
    lines = [
        f"ecs-traffic-strict: the traffic through ecs_endpoint broke {len(failures)} "
        f"client-side requirement(s):"
    ]
    lines += [f"  FAILED {rid}: {reason}" for rid, reason in failures]
    summaries = " and ".join(str(d / "summary.md") for d in report_dirs)
    lines.append(f"  see {summaries} (or report.html) for the requests and the test that sent each")
    return lines
