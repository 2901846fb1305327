"""The reference client and the official Python SDK adapters pass the whole client suite."""

from __future__ import annotations

import shutil
import sys

import pytest

from conformance.spec import load_spec

# Requirements a one-method, one-signature client cannot verify (it never uses the other).
_CHOICES = {"protocol.method.GET", "protocol.method.POST"}
_SIGNATURES = {
    "protocol.signature.v2",
    "protocol.signature.v2.algorithm",
    "protocol.signature.v3",
    "protocol.signature.v3.signed-headers",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "adapter",
    [
        "reference",
        "aliyun-python-sdk-ecs",
        "alibabacloud-ecs20140526",
        "alibabacloud-ecs20140526-v2",
    ],
)
def test_shipped_adapter_passes(client_suite, client_suite_inprocess, adapter: str) -> None:  # type: ignore[no-untyped-def]
    # The reference runs exactly as users run the suite (a subprocess); the SDKs in-process.
    if adapter == "reference":
        run = client_suite(client=adapter, extra=("--ecs-examples", "50"))
    else:
        run = client_suite_inprocess(adapter, ("--ecs-examples", "50"))
    assert run.returncode == 0, run.output[-4000:]
    assert not run.ids("failed"), run.output[-4000:]
    known = {r.id for r in load_spec().requirements}
    assert set(run.verdicts) <= known
    # Everything declared is verified, except the method/signature the client does not use.
    assert run.ids("not_verified") <= _CHOICES | _SIGNATURES, run.ids("not_verified")
    assert len(run.ids("passed")) >= 30


@pytest.mark.slow
def test_reference_v3_and_get_cover_the_other_choices(client_suite) -> None:  # type: ignore[no-untyped-def]
    v3 = client_suite(client="reference-v3", extra=("-k", "signature or method"))
    get = client_suite(client="reference-get", extra=("-k", "signature or method"))
    assert v3.verdicts["protocol.signature.v3"] == "passed", v3.output[-3000:]
    assert get.verdicts["protocol.method.GET"] == "passed", get.output[-3000:]


@pytest.mark.slow
def test_example_command_adapter_passes_the_request_checks(client_suite) -> None:  # type: ignore[no-untyped-def]
    command = f"{sys.executable} examples/command_adapter.py"
    run = client_suite(
        command=command, extra=("-k", "test_requests or success", "--ecs-examples", "15")
    )
    assert run.returncode == 0, run.output[-4000:]
    assert run.verdicts["protocol.method.GET"] == "passed"
    assert run.verdicts["doc.response.RequestId"] == "passed"


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="no node/npm"
)
def test_node_adapter_passes_a_subset(client_suite) -> None:  # type: ignore[no-untyped-def]
    run = client_suite(
        client="node-ecs20140526",
        extra=("-k", "signature or documented_error or success or version", "--ecs-examples", "10"),
    )
    if not run.verdicts:
        pytest.skip("node adapter unavailable: " + run.output[-500:])
    assert not run.ids("failed"), run.output[-4000:]
    assert run.verdicts["protocol.signature.v3"] == "passed"
