"""Fixtures of the checking-proxy tests (the helpers are in traffic_helpers.py)."""

from traffic_helpers import embedded_proxy, serve_app, tampering_gateway

__all__ = ["embedded_proxy", "serve_app", "tampering_gateway"]
