"""The toolkit's own errors: one tree under `ConformanceError`, each class carrying its exit code.

Wire-level answers (`ApiError`) are not here: they live in `conformance.protocol.envelopes`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "ConformanceError",
    "ReportWriteError",
    "SpecError",
    "TargetUnreachable",
    "did_you_mean",
]


class ConformanceError(Exception):
    """Base of every error the toolkit reports to a person. `exit_code` follows
    docs/command-line.md#exit-codes."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(ConformanceError):
    """Bad flags, fixtures, waivers or adapter: exit 2."""

    exit_code = 2


class SpecError(ConformanceError):
    """A document that is missing, unreadable or not in the expected format: exit 2.

    `line` is 1-based; `text` is the offending line as read.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        text: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = path or "<document>"
        if line is not None:
            where = f"{where}:{line}"
        full = f"{where}: {message}"
        if text is not None:
            full = f"{full}\n  line {line}: {text!r}"
        super().__init__(full, hint=hint)
        self.path = path
        self.line = line
        self.text = text


class TargetUnreachable(ConformanceError):
    """The target (or an adapter's infrastructure) cannot be reached: exit 3."""

    exit_code = 3


class ReportWriteError(ConformanceError):
    """A report could not be written once the run had started (a full disk, a vanished
    directory): exit 3, an infrastructure error. The files written before it stay whole."""

    exit_code = 3


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`" (did you mean 'x'?)"` for the known name closest to a misspelt `word`, else "".

    >>> did_you_mean("referense", ["reference", "reference-v3"])
    " (did you mean 'reference'?)"
    """
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
