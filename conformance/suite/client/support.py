"""Small helpers the client-suite tests share: turning problems into failures, reproductions,
example counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from conformance.client.adapters import CommandAdapter
from conformance.client.contract import ClientAdapter
from conformance.spec.model import Spec
from conformance.suite.client.checks import Problem
from conformance.suite.client.harness import ClientExchange
from conformance.suite.failures import RequirementFailure, fail
from conformance.suite.options import SuiteOptions, pytest_command

__all__ = [
    "client_failure",
    "example_count",
    "problems_failure",
    "reproduce",
]

_MAX_SHOWN = 3
SUITE_MODULE = "conformance.suite.client"


def reproduce(options: SuiteOptions, test_name: str) -> str:
    """The command that re-runs one test of the client suite for the same adapter."""
    args = options.args("client", "client_command", "seed")
    return pytest_command(SUITE_MODULE, select=test_name, args=args)


def example_count(options: SuiteOptions, adapter: ClientAdapter) -> int:
    """Hypothesis examples for the client suite: a fifth of `--ecs-examples` for in-process
    adapters (SDKs are slow-ish) and persistent commands, a tenth for one-shot command adapters
    (one process per call). A command's preflight probe call has told which it is."""
    one_shot = isinstance(adapter, CommandAdapter) and adapter.persistent is not True
    share = 10 if one_shot else 5
    return max(3, min(50, options.examples // share))


def problems_failure(
    spec: Spec,
    requirement: str | Sequence[str],
    problems: Sequence[Problem],
    exchanges: Iterable[ClientExchange],
    reproduction: str,
) -> RequirementFailure:
    """The failure for `problems`: the first few, and the exchanges they come from."""
    shown = problems[:_MAX_SHOWN]
    expected = "; ".join(dict.fromkeys(p.expected for p in shown))
    received = "; ".join(p.received for p in shown)
    if len(problems) > _MAX_SHOWN:
        received += f" (and {len(problems) - _MAX_SHOWN} more)"
    bad = {id(p.request) for p in shown if p.request is not None}
    text = [e.describe() for e in exchanges if any(id(r) in bad for r in e.requests)]
    return fail(
        spec,
        requirement,
        expected=expected,
        received=received,
        exchange="\n\n".join(text[:2]),
        reproduce=reproduction,
    )


def client_failure(
    spec: Spec,
    requirement: str | Sequence[str],
    exchange: ClientExchange,
    expected: str,
    reproduction: str,
) -> RequirementFailure:
    """The adapter misbehaved (raised, hung, exited, garbage): a failure with its evidence."""
    assert exchange.failure is not None
    return fail(
        spec,
        requirement,
        expected=expected,
        received=str(exchange.failure),
        exchange=exchange.describe(),
        reproduce=reproduction,
    )
