"""Loopback detection: the one test behind the safety guard and the emulator's bind check."""

from __future__ import annotations

import pytest

from conformance.network import is_loopback, is_loopback_url


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.com", ""])
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost/", True),
        ("http://[::1]:80/x", True),
        ("https://ecs.aliyuncs.com", False),
        ("http://10.0.0.1:8080", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
