"""Playing the server in-process with respx, for clients that send through httpx.

No socket is opened: respx intercepts httpx's transport, turns each `httpx.Request` into a
`RecordedRequest` and answers with the scenario's `Reply`. A `HANG` becomes the timeout the
client's transport would raise (`httpx.ReadTimeout`), at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import respx

from conformance.suite.client.recording import RecordedRequest, Reply, Responder

__all__ = ["RespxServer"]

# A name that can never resolve (RFC 2606 `.invalid`): if the mock is not active, nothing leaves.
_HOST = "ecs-conformance.invalid"


class RespxServer:
    """Plays the server for httpx-based clients in this process."""

    mode = "respx"
    endpoint = _HOST

    @contextlib.contextmanager
    def play(self, responder: Responder) -> Iterator[list[RecordedRequest]]:
        """Answer with `responder` inside the block; yield the list requests are added to."""
        requests: list[RecordedRequest] = []

        def handle(request: httpx.Request) -> httpx.Response:
            recorded = RecordedRequest(
                method=request.method,
                path=request.url.path,
                raw_query=request.url.query,
                header_pairs=tuple((k.lower(), v) for k, v in request.headers.multi_items()),
                body=request.read(),
            )
            requests.append(recorded)
            reply = responder(recorded)
            if not isinstance(reply, Reply):
                raise httpx.ReadTimeout("scripted: the response never comes", request=request)
            return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body)

        with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
            router.route(host=_HOST).mock(side_effect=handle)
            yield requests

    def close(self) -> None:
        """Nothing to release."""
