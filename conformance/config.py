"""Run configuration as frozen dataclasses, built once at the edge (CLI or pytest plugin).

This is the only module that reads the environment (`credentials_from_env`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from conformance.errors import ConfigError

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_ACCESS_KEY_SECRET",
    "ENV_ACCESS_KEY_ID",
    "ENV_ACCESS_KEY_SECRET",
    "ENV_CONTROL_TOKEN",
    "MIN_REPORTED_SECRET",
    "Credentials",
    "EmulatorSettings",
    "color_from_env",
    "control_token_from_env",
    "credentials_from_env",
    "emulator_credentials",
]

# docs/command-line.md#credentials-and-secrets: the official SDK environment variables, then the
# emulator's test credentials.
ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
# The test-control bearer token travels in the environment, like the secret, never in argv.
ENV_CONTROL_TOKEN = "ECS_CONFORMANCE_CONTROL_TOKEN"
DEFAULT_ACCESS_KEY_ID = "testid"
DEFAULT_ACCESS_KEY_SECRET = "testsecret"
# The shortest secret a report may be written for (`Credentials.check_redactable`).
MIN_REPORTED_SECRET = 8


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair. `repr` never shows the secret."""

    access_key_id: str
    access_key_secret: str = field(repr=False)

    def redact(self, text: str) -> str:
        """`text` with every whole occurrence of the secret (raw or percent-encoded) replaced
        by `***`: an occurrence inside a longer run of letters and digits is another word, not
        the secret, and blanking it would show where the secret's letters occur.

        >>> Credentials("id", "s3cr3t-key").redact("k=s3cr3t-key&x=as3cr3t-keys")
        'k=***&x=as3cr3t-keys'
        """
        secret = self.access_key_secret
        if not secret:
            return text
        forms = {secret, quote(secret, safe="")}
        pattern = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        return re.sub(f"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])", "***", text)

    def check_redactable(self) -> None:
        """Refuse a secret too short to be redacted from reports (`ConfigError`, exit 2)."""
        if len(self.access_key_secret) < MIN_REPORTED_SECRET:
            raise ConfigError(
                f"the AccessKey secret is {len(self.access_key_secret)} character(s) long; "
                f"reports need one of at least {MIN_REPORTED_SECRET}: they replace the secret "
                "wherever it occurs, and text that short occurs by chance in ordinary evidence "
                "(blanked there, it would show the secret's letters)",
                hint="use the real secret, or a test secret of 8 characters or more on both "
                "sides (the emulator's default is testsecret)",
            )


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


def emulator_credentials(
    access_key_id: str | None = None,
    access_key_secret: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The emulator's accepted key: the flags, else `ALIBABA_CLOUD_ACCESS_KEY_ID` and
    `..._SECRET`, else `testid`/`testsecret`. `ConfigError` when only one half is given."""
    env = os.environ if environ is None else environ
    key_id = access_key_id or env.get(ENV_ACCESS_KEY_ID)
    secret = access_key_secret or env.get(ENV_ACCESS_KEY_SECRET)
    if (key_id is None) != (secret is None):
        raise ConfigError(
            "give both the AccessKey ID and its secret, or neither",
            hint=f"--access-key-id/--access-key-secret, or {ENV_ACCESS_KEY_ID} and "
            f"{ENV_ACCESS_KEY_SECRET}",
        )
    return credentials_from_env(key_id, secret, environ={})


def color_from_env(environ: Mapping[str, str] | None = None) -> bool | None:
    """False when `NO_COLOR` is set to anything but "" (no-color.org), else None (colour
    where the terminal takes it)."""
    env = os.environ if environ is None else environ
    return False if env.get("NO_COLOR") else None


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
    # A connection must deliver each request whole within this many seconds (of opening, or of
    # the request's first byte); an idle kept-alive connection is closed after `keep_alive_s`.
    request_timeout_s: float = 10.0
    keep_alive_s: int = 30
