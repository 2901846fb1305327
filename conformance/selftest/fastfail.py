"""A pytest plugin for selftest's runs against mutants and faulty clients: fail fast, no shrinking.

Selftest only needs to know whether a subject dies and by which requirement ids; shrinking a
failing hypothesis example (and schemathesis' cases, which run on hypothesis) to its minimal
form costs up to a minute per run against a badly broken target and changes neither answer.
Loaded in the suite's subprocess with `-p conformance.selftest.fastfail`; it registers the
hypothesis profile `PROFILE`, which `--hypothesis-profile` then loads (hypothesis' own plugin
does that in its `pytest_configure`, after ours). Settings a test gives explicitly (examples,
seed, deadline) stay as the suite sets them: only the phases change.
"""

from __future__ import annotations

import pytest

__all__ = ["PROFILE", "plugin_args", "pytest_configure"]

PROFILE = "ecs-selftest-no-shrink"
_MODULE = "conformance.selftest.fastfail"


def plugin_args() -> tuple[str, ...]:
    """The extra pytest arguments that load this plugin and its profile."""
    return ("-p", _MODULE, f"--hypothesis-profile={PROFILE}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the profile before hypothesis' plugin loads it."""
    from hypothesis import Phase, settings

    phases = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    settings.register_profile(PROFILE, phases=phases)
