"""Runs one scenario against the adapter on one scripted server and keeps the evidence.

`Harness.run(scenario)` installs the scenario's responder, hands the adapter its `RebootCall`, and
returns a `ClientExchange`: the requests the client sent, and its `Outcome` or the `ClientFailure`
the adapter caused. It never raises for a misbehaving client (docs/contracts.md#client-failures).
Calls that never returned (or printed more than the suite reads) several times in a row mean
the adapter stopped answering: the session's circuit breaker opens, the test in which it
opened fails without calling the adapter again (a `not-called` failure), and every later test
is not verified (the client suite's conftest checks the breaker before each test).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from conformance.client.contract import ClientAdapter, ClientFailure, Outcome, RebootCall
from conformance.config import Credentials
from conformance.limits import CircuitBreaker
from conformance.spec.model import Spec
from conformance.suite.client.recording import RecordedRequest, Responder
from conformance.suite.client.scenarios import HANG_KIND, Scenario, responder

__all__ = ["NO_ANSWER_KINDS", "ClientExchange", "Harness", "ScriptedServer"]

NO_ANSWER_KINDS = frozenset({"timeout", "too-much-output"})
"""`ClientFailure` kinds that count towards the circuit breaker: the call gave nothing usable
back, as a server that does not answer gives nothing."""


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
        breaker: CircuitBreaker | None = None,
        timeout_hint_s: float | None = None,
    ) -> None:
        self.adapter = adapter
        self.server = server
        self.spec = spec
        self.credentials = credentials
        self.breaker = breaker or CircuitBreaker(f"calls of adapter {adapter.name}")
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
        if self.breaker.is_open:
            exchange.failure = ClientFailure("not-called", self.breaker.reason)
            return exchange
        with self.server.play(responder(scenario, self.spec)) as requests:
            try:
                if scenario.wait_s is None:
                    exchange.outcome = self.adapter.reboot(call)
                else:
                    exchange.outcome = self.adapter.reboot(call, wait_s=scenario.wait_s)
            except ClientFailure as failure:
                exchange.failure = failure
            exchange.requests = list(requests)
        if scenario.answer.kind != HANG_KIND:
            # A scenario whose server never answers may take a client its own timeout to end:
            # it neither proves nor disproves that the adapter answers.
            broken = exchange.failure
            gave_nothing = broken is not None and broken.kind in NO_ANSWER_KINDS
            self.breaker.record(broken.message if broken and gave_nothing else None)
        return exchange
