"""How a suite test fails: requirement, the document's sentence, the exchange, and a reproduction.

Suite tests raise `RequirementFailure` (an `AssertionError`, so pytest reports it as a failure)
through `fail()`; the message is what ends up in every report.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.spec.model import Spec

__all__ = ["RequirementFailure", "fail", "not_verified"]

_MAX_BODY = 2000


class RequirementFailure(AssertionError):
    """A target broke a requirement; `str()` is the full, human-readable evidence."""


def fail(
    spec: Spec,
    requirement_ids: str | Sequence[str],
    *,
    expected: str,
    received: str,
    exchange: str = "",
    reproduce: str = "",
) -> RequirementFailure:
    """Build the failure for `requirement_ids`; the caller raises it (`raise fail(...)`)."""
    ids = [requirement_ids] if isinstance(requirement_ids, str) else list(requirement_ids)
    lines: list[str] = []
    for rid in ids:
        try:
            text = spec.requirement(rid).text
        except KeyError:
            text = "(not in the catalogue)"
        lines.append(f"requirement {rid}: {text}")
    lines.append(f"expected: {expected}")
    lines.append(f"received: {received}")
    if exchange:
        body = exchange if len(exchange) <= _MAX_BODY else exchange[:_MAX_BODY] + " [...]"
        lines.append("exchange:\n" + body)
    if reproduce:
        lines.append("reproduce with: " + reproduce)
    return RequirementFailure("\n".join(lines))


def not_verified(reason: str) -> None:
    """Mark the running test's requirements `not_verified` (a skip the ledger records)."""
    import pytest

    pytest.skip(f"not verified: {reason}")
