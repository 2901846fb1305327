"""How a suite test fails, or says it could not judge: structured, so that the ledger records
the reproduction command and the reason as fields (never parsed back out of the text).

Suite tests raise `RequirementFailure` (an `AssertionError`, so pytest reports it as a failure)
through `fail()`; its message (requirement, the document's sentence, the exchange, the
reproduction) is what ends up in every report, `reproduce` is the command itself and
`requirements` the ids its evidence supports: a test that declares several ids fails only
those, the others it could not finish are `not_verified` (one cause, one failure).
`not_verified(reason)` raises `NotVerified`, a pytest skip that carries its `reason`;
`depends_on(id, why)` is the same for a test whose input needs another requirement to hold.

What no source describes is never a failure: `Observation` records it (what was seen, with its
evidence) and the reports list it without failing the gate.
"""

from __future__ import annotations

import unittest
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import NoReturn

import pytest

from conformance.spec.model import Spec

__all__ = [
    "NotVerified",
    "Observation",
    "RequirementFailure",
    "depends_on",
    "fail",
    "failed_requirements_of",
    "failure_of",
    "failure_reason",
    "not_verified",
    "not_verified_reason",
    "one_line",
    "reproduction_of",
]

_MAX_BODY = 2000
_MAX_REASON = 300
_NOT_VERIFIED_PREFIX = "not verified: "


class RequirementFailure(AssertionError):
    """A target broke a requirement; `str()` is the full, human-readable evidence and
    `reproduce` the one command that replays it ("" when none was given).

    `requirements` are the ids this evidence supports (empty: every id the test declares).
    `reason` is the one line every place that shows a failure shows (pytest's short summary,
    the reports' verdict columns, JUnit's `message`): what was expected and what came back,
    never the exception's class (`failure_reason` puts the ids before it where the test that
    failed declares others).
    """

    def __init__(
        self,
        text: str,
        reproduce: str = "",
        requirements: Sequence[str] = (),
        *,
        reason: str = "",
    ) -> None:
        super().__init__(text)
        self.reproduce = reproduce
        self.requirements = tuple(requirements)
        self.reason = reason or one_line(text)


class NotVerified(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The running test could not judge its requirements; `reason` says why (the ledger
    records `not_verified` with it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(_NOT_VERIFIED_PREFIX + reason, allow_module_level=False)
        self.reason = reason


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
    reason = one_line(f"expected {expected}; received {received}")
    return RequirementFailure("\n".join(lines), reproduce, reason=reason, requirements=ids)


def one_line(text: str, limit: int = _MAX_REASON) -> str:
    """`text` on one line (whitespace runs collapsed), cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def not_verified(reason: str) -> NoReturn:
    """Mark the running test's requirements `not_verified` (a skip the ledger records)."""
    raise NotVerified(reason)


def depends_on(requirement_id: str, why: str) -> NoReturn:
    """`not_verified`: this test's input needs `requirement_id` to hold, and here it did not
    (the test that verifies `requirement_id` shows the failure once)."""
    raise NotVerified(f"depends on {requirement_id}, which failed here: {why}")


@dataclass(frozen=True)
class Observation:
    """Something the target did that no source describes: reported, never a failure.

    `kind` names what was seen (`undocumented-code`, `unlisted-status`, `server-error`,
    `extra-field`, ...); `requirement` the catalogue id it was seen under, when there is one;
    `text` one line; `evidence` the exchange.
    """

    kind: str
    text: str
    evidence: str = ""
    requirement: str = ""

    def to_dict(self) -> dict[str, str]:
        """The form the ledger and the reports keep."""
        return asdict(self)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the exceptions of a group (hypothesis reports distinct failures as one), and
    their causes, depth first."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(reversed(current.exceptions))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def failure_of(exc: BaseException) -> RequirementFailure | None:
    """The first `RequirementFailure` in `exc` (a group, a cause), or None."""
    return next((c for c in _chain(exc) if isinstance(c, RequirementFailure)), None)


def failure_reason(exc: BaseException, declared: Sequence[str] = ()) -> str:
    """The one-line reason of a failed test: its `RequirementFailure`'s `reason`, led by the
    ids it names when the test `declared` others too (a test of `doc.dryrun.passes` that
    fails on `doc.dryrun.no-side-effects` says so), else the exception's own message (the
    class named only when the message is empty or the class is not an assertion)."""
    failure = failure_of(exc)
    if failure is not None:
        named = failure.requirements
        if named and (not declared or set(named) != set(declared)):
            return one_line(f"{', '.join(named)}: {failure.reason}")
        return failure.reason
    message = one_line(str(exc))
    if isinstance(exc, AssertionError) and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def reproduction_of(exc: BaseException) -> str:
    """The reproduction command of the first `RequirementFailure` in `exc`, or ""."""
    for current in _chain(exc):
        if isinstance(current, RequirementFailure) and current.reproduce:
            return current.reproduce
    return ""


def failed_requirements_of(exc: BaseException) -> tuple[str, ...] | None:
    """The ids the `RequirementFailure`s in `exc` support, or None when `exc` holds none that
    names its ids (an error of the test itself, or a plain assertion: all declared ids fail)."""
    ids: list[str] = []
    for current in _chain(exc):
        if isinstance(current, RequirementFailure):
            if not current.requirements:
                return None
            ids.extend(current.requirements)
    return tuple(dict.fromkeys(ids)) if ids else None


def not_verified_reason(exc: BaseException) -> str | None:
    """Why a skip could not judge: `NotVerified.reason`, the `reason` of a `unittest.SkipTest`
    that carries one (the safety guard's `DestructiveCallRefused`), or None for a plain skip."""
    reason = getattr(exc, "reason", None)
    if isinstance(exc, NotVerified | unittest.SkipTest) and isinstance(reason, str):
        return reason
    return None
