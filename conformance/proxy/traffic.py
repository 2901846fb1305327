"""What the checking proxy records of one exchange: the request as the client sent it (the
client suite's `RecordedRequest`) and the upstream's answer as it came (a `WireResponse`), or
why none came.

The forwarding path builds one `TrafficExchange` per request and hands it to the judge; nothing
here parses or judges anything.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from conformance.protocol.envelopes import WireResponse
from conformance.suite.client.recording import RecordedRequest

__all__ = ["TrafficExchange"]


@dataclass(frozen=True)
class TrafficExchange:
    """One request through the proxy and what the upstream answered.

    `response` is None when no usable answer came (`failure` says why: a timeout, a reset, an
    answer over the body cap); the proxy then answered the client itself (502 or 504). `origin`
    names what produced the request when the proxy knows it (the pytest fixture: the node id
    of the test that was running), `upstream` the base URL it was forwarded to.
    """

    request: RecordedRequest
    response: WireResponse | None
    failure: str | None = None
    elapsed_s: float = 0.0
    upstream: str = ""
    origin: str | None = None
    refused: str | None = None

    def summary(self) -> str:
        """One line: `HTTP 403 IncorrectInstanceStatus`, or why no answer came."""
        r = self.response
        if r is None:
            return f"no answer ({self.failure})"
        if r.parse_error:
            return f"HTTP {r.status}, unreadable body ({r.parse_error})"
        return f"HTTP {r.status} {r.code or 'OK'}"

    def describe(self) -> str:
        """The request as the client sent it and the answer as it came, for evidence (the
        report builder redacts the secret)."""
        lines = []
        if self.origin:
            lines.append(f"sent during {self.origin}")
        lines += ["> " + line for line in self.request.describe().splitlines()]
        r = self.response
        if r is None:
            lines.append(f"< no answer after {self.elapsed_s:.2f}s: {self.failure}")
            return "\n".join(lines)
        lines += r.describe(self.elapsed_s)
        return "\n".join(lines)

    def curl(self) -> str:
        """The request as the client sent it, as a curl command to the upstream. It carries its
        signature, nonce and time: a server that checks them answers a replay with a nonce or
        timestamp error, so it shows what was sent rather than replaying the answer."""
        req = self.request
        query = req.raw_query.decode("latin-1")
        url = self.upstream.rstrip("/") + req.path + (f"?{query}" if query else "")
        parts = ["curl", "-sS", "-X", req.method, shlex.quote(url)]
        for name, value in req.header_pairs:
            if name.lower() not in ("content-length", "connection"):
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        if req.body:
            parts += ["--data-binary", shlex.quote(req.body.decode("utf-8", "replace"))]
        return " ".join(parts)
