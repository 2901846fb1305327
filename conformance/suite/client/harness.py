"""Runs one scenario against the adapter on one scripted server and keeps the evidence.

`Harness.run(scenario)` installs the scenario's responder, hands the adapter its `RebootCall`, and
returns a `ClientExchange`: the requests the client sent, and its `Outcome` or the `ClientFailure`
the adapter caused. It never raises for a misbehaving client (docs/contracts.md#client-failures).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from conformance.client.contract import ClientAdapter, ClientFailure, Outcome, RebootCall
from conformance.config import Credentials
from conformance.spec.model import Spec
from conformance.suite.client.recording import RecordedRequest, Responder
from conformance.suite.client.scenarios import Scenario, responder

__all__ = ["ClientExchange", "Harness", "ScriptedServer"]


class ScriptedServer(Protocol):
    """What both ways of playing the server offer."""

    @property
    def mode(self) -> str:
        """`respx` or `loopback`."""
        ...

    @property
    def endpoint(self) -> str:
        """The `host:port` clients are given."""
        ...

    def play(self, responder: Responder) -> AbstractContextManager[list[RecordedRequest]]:
        """A context manager yielding the list of requests received while it is open."""
        ...

    def close(self) -> None:
        """Release sockets and threads."""
        ...


@dataclass
class ClientExchange:
    """One scenario as it happened."""

    scenario: Scenario
    call: RebootCall
    mode: str
    adapter: str
    requests: list[RecordedRequest] = field(default_factory=list)
    outcome: Outcome | None = None
    failure: ClientFailure | None = None

    def describe(self) -> str:
        """Everything a reader needs to judge the exchange (the secret is redacted later)."""
        call = {k: v for k, v in self.call.to_dict().items() if k != "access_key_secret"}
        lines = [
            f"scenario {self.scenario.name} on the {self.mode} server, adapter {self.adapter}",
            f"call: {call}",
        ]
        for index, request in enumerate(self.requests, 1):
            lines.append(f"--- request {index}\n{request.describe()}")
        if not self.requests:
            lines.append("--- no request reached the server")
        if self.failure is not None:
            lines.append("--- " + self.failure.describe())
        elif self.outcome is not None:
            lines.append("--- outcome: " + self.outcome.describe())
        return "\n".join(lines)


class Harness:
    """The adapter under test, a scripted server, the spec and the credentials of a session."""

    def __init__(
        self,
        adapter: ClientAdapter,
        server: ScriptedServer,
        spec: Spec,
        credentials: Credentials,
        timeout_hint_s: float | None = None,
    ) -> None:
        self.adapter = adapter
        self.server = server
        self.spec = spec
        self.credentials = credentials
        # RebootCall.timeout_s of every call: what the suite would like the client to wait.
        self.timeout_hint_s = timeout_hint_s

    @property
    def mode(self) -> str:
        """`respx` or `loopback`."""
        return self.server.mode

    def run(self, scenario: Scenario) -> ClientExchange:
        """Play `scenario` once; never raises for the client's faults."""
        call = scenario.call(
            self.server.endpoint, self.credentials, timeout_hint_s=self.timeout_hint_s
        )
        exchange = ClientExchange(scenario, call, self.server.mode, self.adapter.name)
        with self.server.play(responder(scenario, self.spec)) as requests:
            try:
                if scenario.wait_s is None:
                    exchange.outcome = self.adapter.reboot(call)
                else:
                    exchange.outcome = self.adapter.reboot(call, wait_s=scenario.wait_s)
            except ClientFailure as failure:
                exchange.failure = failure
            exchange.requests = list(requests)
        return exchange
