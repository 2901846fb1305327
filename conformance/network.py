"""Which addresses are this machine: the loopback test behind the safety rules
(docs/contracts.md#safety-rules: no real reboot of a remote target unless allowed) and the
emulator's refusal to expose an unprotected control API."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["is_loopback", "is_loopback_url"]


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1, `[::1]`).

    >>> is_loopback("127.0.0.2"), is_loopback("[::1]"), is_loopback("10.0.0.1")
    (True, True, False)
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when the host of `url` is loopback (`is_loopback`)."""
    return is_loopback(urlsplit(url).hostname or "")
