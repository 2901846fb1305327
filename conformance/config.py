"""Run configuration as frozen dataclasses, built once at the edge (CLI or pytest plugin).

This is the only module that reads the environment (`credentials_from_env`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_ACCESS_KEY_SECRET",
    "ENV_ACCESS_KEY_ID",
    "ENV_ACCESS_KEY_SECRET",
    "ENV_CONTROL_TOKEN",
    "Credentials",
    "EmulatorSettings",
    "control_token_from_env",
    "credentials_from_env",
]

# docs/command-line.md#credentials-and-secrets: the official SDK environment variables, then the
# emulator's test credentials.
ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
# The test-control bearer token travels in the environment, like the secret, never in argv.
ENV_CONTROL_TOKEN = "ECS_CONFORMANCE_CONTROL_TOKEN"
DEFAULT_ACCESS_KEY_ID = "testid"
DEFAULT_ACCESS_KEY_SECRET = "testsecret"


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair. `repr` never shows the secret."""

    access_key_id: str
    access_key_secret: str = field(repr=False)

    def redact(self, text: str) -> str:
        """`text` with the secret replaced, for reports and logs."""
        if not self.access_key_secret:
            return text
        return text.replace(self.access_key_secret, "***")


def credentials_from_env(
    access_key_id: str | None = None,
    access_key_secret: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Flags first, then the official SDK environment variables, then `testid`/`testsecret`."""
    env = os.environ if environ is None else environ
    return Credentials(
        access_key_id or env.get(ENV_ACCESS_KEY_ID) or DEFAULT_ACCESS_KEY_ID,
        access_key_secret or env.get(ENV_ACCESS_KEY_SECRET) or DEFAULT_ACCESS_KEY_SECRET,
    )


def control_token_from_env(
    token: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The flag first, then `ECS_CONFORMANCE_CONTROL_TOKEN`; None when neither is set."""
    env = os.environ if environ is None else environ
    return token or env.get(ENV_CONTROL_TOKEN) or None


@dataclass(frozen=True)
class EmulatorSettings:
    """How the reference emulator is served: credentials, reboot time, the control API.

    A mutant's fault switches are not settings: they are a `Behaviour`, resolved from the
    mutant's name by the caller (CLI, pytest plugin, selftest) and passed beside these.
    """

    credentials: tuple[Credentials, ...] = (
        Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET),
    )
    reboot_seconds: float = 5.0
    control: bool = True
    control_token: str | None = None
    host_id: str | None = None  # None: the profile's HostId
    log_requests: bool = False
