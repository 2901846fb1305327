"""Precision of the client suite: a correct client that makes a free choice passes, and one
cause is one failure (issue: verdicts you can trust).

* a client keeping its SDK's default timeouts passes the no-answer scenario (observation 3);
* a timestamp with milliseconds fails its format, not also its age (observation 4);
* a client that refuses DryRun locally fails the DryRun requirement, not every request check
  (observation 5);
* a client that never sends a request does not pass the retry requirements (observation 6);
* every legitimate variant quotes the sentence that grants its freedom.
"""

from __future__ import annotations

import pytest

from conformance.client.contract import NO_ANSWER_WAIT_S, SDK_DEFAULT_TIMEOUTS, RebootCall
from conformance.client.variants import VARIANTS
from conformance.spec import load_spec


def test_every_variant_quotes_the_sentence_of_its_source() -> None:
    spec = load_spec()
    known = {r.id for r in spec.requirements}
    for v in VARIANTS.values():
        if v.source in known:
            assert v.freedom == spec.requirement(v.source).text, v.name
        else:
            assert v.source.startswith("sdk:"), v.name


def test_the_no_answer_wait_exceeds_every_sdk_default() -> None:
    assert all(c + r < NO_ANSWER_WAIT_S for c, r in SDK_DEFAULT_TIMEOUTS.values())
    call = RebootCall("127.0.0.1:1", "i-1", "id", "secret", timeout_s=2.5)
    assert RebootCall.from_dict(call.to_dict()).timeout_s == 2.5
    assert RebootCall.from_dict({**call.to_dict(), "timeout_s": None}).timeout_s is None


def test_a_client_keeping_its_sdk_default_timeouts_passes(client_suite_inprocess) -> None:  # type: ignore[no-untyped-def]
    run = client_suite_inprocess(
        "variant-sdk-default-timeouts", ("-k", "no-response", "--ecs-timeout", "2.5")
    )
    assert run.returncode == 0, run.output[-3000:]
    assert run.ids("passed") == {"interop.client.unusable-response"}


def test_a_millisecond_timestamp_is_one_failure(client_suite_inprocess) -> None:  # type: ignore[no-untyped-def]
    run = client_suite_inprocess(
        "faulty-millisecond-timestamp", ("-k", "timestamp and not loopback")
    )
    assert run.ids("failed") == {"protocol.timestamp.format"}, run.output[-3000:]
    assert "protocol.timestamp.expired" in run.ids("not_verified")


def test_a_client_refusing_dryrun_fails_only_what_it_breaks(client_suite_inprocess) -> None:  # type: ignore[no-untyped-def]
    run = client_suite_inprocess("faulty-refuses-dry-run", ("-k", "not loopback"))
    failed = run.ids("failed")
    assert "doc.param.DryRun.value.true" in failed
    cascade = {
        "protocol.signature.v2",
        "protocol.method.POST",
        "protocol.nonce.unique",
        "protocol.action.value",
        "protocol.version.value",
        "doc.param.ForceStop.type",
        "doc.param.ForceStop.value.true",
        "doc.default.ForceStop",
    }
    assert not failed & cascade, failed & cascade
    # Only what needs a dry run to reach the server (and its answer) can fail.
    assert failed <= {
        "doc.param.DryRun.value.true",
        "doc.dryrun.passes",
        "protocol.dryrun.outcome",
    }, failed


@pytest.mark.parametrize("client", ["faulty-raises"])
def test_a_client_that_sends_nothing_passes_no_retry_requirement(  # type: ignore[no-untyped-def]
    client_suite_inprocess, client: str
) -> None:
    run = client_suite_inprocess(client, ("-k", "retries or resend", "--ecs-timeout", "2"))
    assert not run.ids("passed") & {"interop.retries.none", "interop.retries.after-5xx"}
    assert {"interop.retries.none", "interop.retries.after-5xx"} <= run.ids("not_verified")
