"""An example `--command` client adapter, to copy for a client in any language.

The contract (docs/contracts.md#any-language---command): read ONE `RebootCall` as JSON on stdin,
make the call with your client, print ONE `Outcome` as JSON on stdout, exit 0. Anything else (a
crash, a hang, a non-zero exit, a line that is not an Outcome) is reported by the suite as a client
failure.

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
import sys


def make_call(call: dict[str, object]) -> dict[str, object]:
    """Call RebootInstance as `call` says; translate the result into an Outcome dict."""
    from conformance import RebootCall
    from conformance.client.reference import ReferenceClient

    client = ReferenceClient(signature="v2", method="GET")
    try:
        return client.reboot_instance(RebootCall.from_dict(call)).to_dict()
    finally:
        client.close()


def main() -> int:
    """stdin -> one call -> stdout."""
    call = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    outcome = make_call(call)
    sys.stdout.write(json.dumps(outcome) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
