"""Every faulty variant of the reference client fails on the requirement ids it breaks."""

from __future__ import annotations

import pytest

from conformance.client.faulty import FAULTY
from conformance.spec import load_spec


def test_faulty_registry_names_known_requirements() -> None:
    known = {r.id for r in load_spec().requirements}
    for variant in FAULTY.values():
        assert variant.breaks and set(variant.breaks) <= known, variant.name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_client_is_caught(client_suite_inprocess, name: str) -> None:  # type: ignore[no-untyped-def]
    variant = FAULTY[name]
    extra = ["--ecs-examples", "15"]
    if variant.httpx_based:
        extra += ["-k", "not loopback"]  # respx is enough to catch it, and faster
    else:
        # A hanging adapter costs the adapter timeout per call until the circuit breaker opens
        # (three calls); a crashing one fails at once.
        extra += ["--ecs-timeout", "2"]
    run = client_suite_inprocess(f"faulty-{name}", tuple(extra))
    assert run.returncode == 1, run.output[-3000:]
    missed = set(variant.breaks) - run.ids("failed")
    assert not missed, f"{name} not caught on {missed}; failed: {run.ids('failed')}"
    if not variant.httpx_based:
        assert "client failure" in run.output
