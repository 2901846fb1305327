"""An example `--command` client adapter, to copy for a client in any language.

The contract (docs/contracts.md#any-language---command): read ONE `RebootCall` as JSON on stdin,
make the call with your client, print ONE `Outcome` as JSON on stdout, exit 0. Anything else (a
crash, a hang, a non-zero exit, a line that is not an Outcome) is reported by the suite as a client
failure.

This one also takes the persistent protocol (docs/contracts.md#persistent-commands), so that
its start-up (Python, the client's imports) is paid once per run instead of once per call: when
the suite offers it (`ECS_CONFORMANCE_PERSISTENT` in the environment names version 1), it prints
the hello line first, then answers one call per line until stdin closes. The same loop serves
the suite's first call, which it sends alone, stdin closed after it. Without the offer it reads
the whole of stdin as one call, as a plain one-shot command does.

    ecs-conformance client --command 'python examples/command_adapter.py'
    python -m pytest --pyargs conformance.suite.client \
        --ecs-client-command 'python examples/command_adapter.py'

RebootCall: {"endpoint": "127.0.0.1:PORT", "protocol": "http", "region_id": "cn-hangzhou",
             "access_key_id": "...", "access_key_secret": "...", "instance_id": "i-...",
             "force_stop": true|false|null, "dry_run": true|false|null,   (null: leave unset)
             "timeout_s": 10.0|null}   (a hint: the wait the suite would like; your SDK's
                                         default timeouts pass too)
Outcome:    {"ok": true, "request_id": "..."}
            {"ok": false, "code": "...", "message": "...", "request_id": "...", "http_status": 403}
            {"ok": false, "code": null, "message": "what went wrong", "http_status": null}

Here the client is the toolkit's reference client; replace `make_call` with yours.
"""

from __future__ import annotations

import json
import os
import sys

HELLO = {"ecs_conformance": "persistent", "version": 1}


_client = None  # built at the first call, kept for the process's life (the suite ends it)


def make_call(call: dict[str, object]) -> dict[str, object]:
    """Call RebootInstance as `call` says; translate the result into an Outcome dict.

    The client is built once: in a persistent run every call after the first reuses it (its
    TLS context alone takes ~60 ms to build here). Each call's settings (endpoint, keys,
    timeout) come from `call`, never from the previous one."""
    global _client
    from conformance import RebootCall
    from conformance.client.reference import ReferenceClient

    if _client is None:
        _client = ReferenceClient(signature="v2", method="GET")
    return _client.reboot_instance(RebootCall.from_dict(call)).to_dict()


def offered() -> bool:
    """Does the suite offer the persistent protocol in a version this adapter speaks?"""
    versions = os.environ.get("ECS_CONFORMANCE_PERSISTENT", "")
    return str(HELLO["version"]) in versions.split(",")


def main() -> int:
    """Persistent: hello, then one line in -> one call -> one line out, until stdin closes.
    One-shot: stdin -> one call -> stdout."""
    if not offered():
        call = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        sys.stdout.write(json.dumps(make_call(call)) + "\n")
        return 0
    sys.stdout.write(json.dumps(HELLO) + "\n")
    sys.stdout.flush()
    for line in sys.stdin.buffer:
        if line.strip():
            outcome = make_call(json.loads(line.decode("utf-8")))
            sys.stdout.write(json.dumps(outcome) + "\n")
            sys.stdout.flush()  # the suite waits for this line: never leave it buffered
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
