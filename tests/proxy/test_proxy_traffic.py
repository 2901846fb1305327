"""The checking proxy's proofs: the official SDKs' traffic is clean, the faulty clients whose
deviation shows on the wire are caught by the proxy alone, the legitimate variants pass, and a
gateway that tampers with the emulator's answers is caught."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from traffic_helpers import CALLS, Gateway, arrange, calls_through

from conformance.client.contract import AdapterUnavailable
from conformance.client.faulty import FAULTY
from conformance.client.registry import load_adapter
from conformance.client.variants import VARIANTS
from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.proxy.forwarding import UpstreamAnswer
from conformance.proxy.judge import NOT_OBSERVED
from conformance.proxy.service import CheckingProxy, ProxySettings
from conformance.reports import write_reports
from conformance.spec import load_spec

# The faulty clients whose deviation is in the request itself: the proxy sees it and fails it on
# these ids (the client suite's checks, run on the wire).
ON_THE_WIRE = {
    "plus-encoding": {"protocol.signature.v2"},  # shows on ids with a space, / or ~
    "fixed-nonce": {"protocol.nonce.unique"},
    "wrong-version": {"protocol.version.value"},
    "stale-timestamp": {"protocol.timestamp.expired"},
    "millisecond-timestamp": {"protocol.timestamp.format"},
    "boolean-as-number": {"doc.param.ForceStop.type", "doc.param.DryRun.type"},
    "duplicate-instance-id": {"protocol.params.merged"},
    # interop.encoding.plus-space compares the id with the one the caller asked for; on the
    # wire the raw + reads as a space, so the signature (made over the +) does not verify.
    "raw-plus": {"protocol.signature.v2"},
    "put-method": {"protocol.method.POST", "protocol.method.GET"},
    "signs-host-only": {"protocol.signature.v3.signed-headers"},
    "names-sha256": {"protocol.signature.v2.algorithm"},
}
# Why the others cannot be caught from the traffic (docs/command-line.md#proxy).
NOT_ON_THE_WIRE = {
    "swallowed-code": "what the client reports to its caller (the Outcome), not a request",
    "lost-request-id": "what the client reports to its caller",
    "message-rewritten": "what the client reports to its caller",
    "success-on-anything": "what the client reports to its caller",
    "raises": "sends nothing",
    "hangs": "sends nothing",
    "force-stop-when-unset": "a well-formed request; only the caller knows ForceStop was unset",
    "dry-run-dropped": "a well-formed request; only the caller knows it asked for DryRun",
    "refuses-dry-run": "sends nothing for the DryRun call",
    "retry-after-4xx": "the resend is a well-formed request with a new nonce: from the traffic "
    "alone it cannot be told from the caller's own second call",
}


def test_every_faulty_client_is_classified() -> None:
    assert set(ON_THE_WIRE) | set(NOT_ON_THE_WIRE) == set(FAULTY)
    assert not set(ON_THE_WIRE) & set(NOT_ON_THE_WIRE)


@pytest.mark.parametrize(
    "adapter_name",
    [
        "aliyun-python-sdk-ecs",
        "alibabacloud-ecs20140526",
        "alibabacloud-ecs20140526-v2",
        pytest.param("node-ecs20140526", marks=pytest.mark.node),
    ],
)
def test_official_sdks_traffic_is_clean(
    embedded_proxy: Callable[..., CheckingProxy], adapter_name: str
) -> None:
    try:
        adapter = load_adapter(adapter_name, timeout_s=30.0)
    except AdapterUnavailable as exc:
        pytest.skip(f"{adapter_name} is not available here: {exc}")
    proxy = embedded_proxy()
    verdicts = calls_through(adapter, proxy, CALLS)
    assert proxy.judge.judged == len(CALLS), proxy.judge.stats_line()
    assert not verdicts.client, proxy.judge.failures("client")
    assert not verdicts.server, proxy.judge.failures("server")
    report = proxy.report()
    passed = {r.id for r in report.requirements if r.verdict == "passed"}
    assert {
        "protocol.nonce.unique",
        "protocol.timestamp.format",
        "doc.response.RequestId",
    } <= passed


@pytest.mark.parametrize("name", sorted(ON_THE_WIRE))
def test_faulty_client_caught_by_the_proxy_alone(
    embedded_proxy: Callable[..., CheckingProxy], name: str
) -> None:
    proxy = embedded_proxy()
    verdicts = calls_through(FAULTY[name].adapter(timeout_s=10.0), proxy, CALLS)
    missed = ON_THE_WIRE[name] - verdicts.client
    assert not missed, f"{name}: not caught on {missed}; failed {verdicts.client}"
    assert not verdicts.server, proxy.judge.failures("server")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_legitimate_variants_pass_through_the_proxy(
    embedded_proxy: Callable[..., CheckingProxy], name: str
) -> None:
    proxy = embedded_proxy()
    verdicts = calls_through(VARIANTS[name].adapter(timeout_s=10.0), proxy, CALLS)
    assert not verdicts.client, proxy.judge.failures("client")
    assert not verdicts.server, proxy.judge.failures("server")


def _drop_request_id(answer: UpstreamAnswer) -> UpstreamAnswer:
    data = json.loads(answer.body)
    data.pop("RequestId", None)
    return UpstreamAnswer(answer.status, _length(answer), json.dumps(data).encode())


def _404_to_400(answer: UpstreamAnswer) -> UpstreamAnswer:
    return UpstreamAnswer(
        400 if answer.status == 404 else answer.status, _length(answer), answer.body
    )


def _length(answer: UpstreamAnswer) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in answer.headers or [] if k != b"content-length"]


@pytest.mark.parametrize(
    ("tamper", "caught"),
    [
        (_drop_request_id, {"doc.response.RequestId"}),
        (
            _404_to_400,
            {"interop.error.status-and-code", "doc.error.404.InvalidInstanceId.NotFound"},
        ),
    ],
    ids=["drops-RequestId", "404-as-400"],
)
def test_tampering_gateway_is_caught(
    tampering_gateway: Gateway,
    tamper: Callable[[UpstreamAnswer], UpstreamAnswer],
    caught: set[str],
) -> None:
    with EmbeddedEmulator(EmulatorSettings(reboot_seconds=60.0)) as emulator:
        arrange(emulator.control_url)
        gateway = tampering_gateway(emulator.url, tamper)
        with CheckingProxy(ProxySettings(upstream=gateway)) as proxy:
            verdicts = calls_through(load_adapter("reference"), proxy, CALLS)
    assert caught <= verdicts.server, proxy.judge.failures("server")
    assert not verdicts.client, proxy.judge.failures("client")


def test_untouched_gateway_is_clean(tampering_gateway: Gateway) -> None:
    with EmbeddedEmulator(EmulatorSettings(reboot_seconds=60.0)) as emulator:
        arrange(emulator.control_url)
        gateway = tampering_gateway(emulator.url, lambda answer: answer)
        with CheckingProxy(ProxySettings(upstream=gateway)) as proxy:
            verdicts = calls_through(load_adapter("reference"), proxy, CALLS)
    assert not verdicts.server and not verdicts.client


def test_unobserved_requirements_say_so(
    embedded_proxy: Callable[..., CheckingProxy], tmp_path: Path
) -> None:
    proxy = embedded_proxy()
    calls_through(load_adapter("reference"), proxy, CALLS[:1])
    report = proxy.report()
    not_verified = [r for r in report.requirements if r.verdict == "not_verified"]
    assert not_verified and all(NOT_OBSERVED in r.reason for r in not_verified)
    catalogue = {r.id for r in load_spec().requirements}
    assert {r.id for r in report.requirements} <= catalogue
    paths = write_reports(report, tmp_path)
    assert sorted(p.name for p in paths) == [
        "conformance.json",
        "junit.xml",
        "report.html",
        "summary.md",
    ]
    assert "testsecret" not in "".join(p.read_text() for p in paths)
