"""What the scripted servers see and send: `RecordedRequest` in, `Reply` out.

Both ways of playing the server (respx in-process, the loopback HTTP server) turn what they
receive into a `RecordedRequest` and answer through the same `Responder`, so a scenario is
written once and runs on both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["HANG", "RecordedRequest", "Reply", "Responder"]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the client sent it. Header names are lower-case; `header_pairs`
    keeps every header line in order (repeated names included)."""

    method: str
    path: str
    raw_query: bytes
    header_pairs: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    received_at: float = field(default_factory=time.time)

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers by lower-case name (the last line wins for repeated names)."""
        return {k.lower(): v for k, v in self.header_pairs}

    def describe(self) -> str:
        """The request as text, for failure evidence (credentials are redacted by the plugin)."""
        query = self.raw_query.decode("utf-8", errors="replace")
        lines = [f"{self.method} {self.path}{'?' + query if query else ''}"]
        lines += [f"{k}: {v}" for k, v in self.header_pairs]
        if self.body:
            lines += ["", self.body.decode("utf-8", errors="replace")]
        return "\n".join(lines)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer to send: status, header pairs and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)


class _Hang:
    """Sentinel reply: never answer (the server holds the connection, then drops it)."""

    def __repr__(self) -> str:
        return "HANG"


HANG = _Hang()

Responder = Callable[[RecordedRequest], "Reply | _Hang"]
"""Given the n-th request of a scenario, what to answer."""
