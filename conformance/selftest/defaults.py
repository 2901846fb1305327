"""Selftest's defaults, apart so that the command line can show them without importing the
suites (`conformance.selftest` loads its modules lazily)."""

from __future__ import annotations

import os

__all__ = [
    "DEFAULT_CLIENT_MAX_FAILURES",
    "DEFAULT_CLIENT_TIMEOUT_S",
    "DEFAULT_EXAMPLES",
    "DEFAULT_PARALLEL",
    "DEFAULT_RUN_TIMEOUT_S",
]

# Small on purpose: a mutant needs one failing example, and CI runs selftest on every
# submission (the whole selftest should take at most 5 minutes on 2 cores).
DEFAULT_EXAMPLES = 8
# Suite runs at once. A client run spends much of its time waiting on its adapter's timeouts,
# so twice as many runs as cores keep the cores busy (on 2 cores, 4 runs at once took selftest
# from 245 s to 159 s; with each server run's emulator in its own process, 122 s). At most 8:
# each run is a pytest process of ~80 MB.
DEFAULT_PARALLEL = min(8, 2 * (os.cpu_count() or 1))
DEFAULT_RUN_TIMEOUT_S = 240.0
# A faulty client's failure can cost the adapter timeout (10 s for a client that hangs), so a
# faulty client's run stops after this many failed tests; that is plenty to name what caught it.
DEFAULT_CLIENT_MAX_FAILURES = 8
# Client runs' per-request timeout (`--ecs-timeout`; the suite gives an adapter twice that):
# 2.5 s leaves the reference client's own 3 s read timeout room to answer first, and makes a
# client that hangs cost 5 s per call instead of 10. References and subjects share it.
DEFAULT_CLIENT_TIMEOUT_S = 2.5
