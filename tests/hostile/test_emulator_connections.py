"""The emulator closes connections that do not deliver a request in time: silent sockets and
slowloris drips cannot hold its file descriptors (issue 12, item 5)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conformance.config import Credentials, EmulatorSettings
from conformance.emulator import EmbeddedEmulator
from conformance.spec import load_spec
from conformance.targets import HttpServerTarget

REPO = Path(__file__).resolve().parents[2]
CREDS = Credentials("testid", "testsecret")
VERSION = load_spec().version
PARAMS = {"InstanceId": "i-x", "DryRun": "true"}


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(3)
    try:
        return sock.recv(1) == b""
    except OSError:
        return True


def test_silent_and_dripping_connections_are_closed() -> None:
    with EmbeddedEmulator(EmulatorSettings(request_timeout_s=0.5)) as emu:
        silent = [socket.create_connection(("127.0.0.1", emu.port)) for _ in range(50)]
        drip = socket.create_connection(("127.0.0.1", emu.port))
        started = time.monotonic()
        with_drip_closed = None
        for byte in b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab":
            try:
                drip.send(bytes([byte]))
            except OSError:
                with_drip_closed = time.monotonic() - started
                break
            time.sleep(0.05)
        assert with_drip_closed is not None and with_drip_closed < 2.5
        assert all(_closed(s) for s in silent)
        target = HttpServerTarget(emu.url, CREDS, 5, version=VERSION)
        assert target.call("RebootInstance", PARAMS).response is not None
        # a kept-alive connection idle for longer than the request deadline is not cut
        time.sleep(1.0)
        assert target.call("RebootInstance", PARAMS).response is not None
        for s in (*silent, drip):
            s.close()


_SERVE = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
    from conformance.config import EmulatorSettings
    from conformance.emulator.server import serve
    serve(EmulatorSettings(request_timeout_s=1.0), "127.0.0.1", int(sys.argv[1]),
          log_level="critical")
    """
)


def test_150_silent_sockets_do_not_deny_service_under_128_file_descriptors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(port)], env=env, stderr=subprocess.DEVNULL
    )
    silent: list[socket.socket] = []
    try:
        target = HttpServerTarget(f"http://127.0.0.1:{port}", CREDS, 2, version=VERSION)
        deadline = time.monotonic() + 20
        while target.probe() is not None:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)
        for _ in range(150):
            silent.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        started = time.monotonic()
        answered = False
        while not answered and time.monotonic() - started < 15:
            target.breaker.record(None)  # this test judges the emulator, not the breaker
            answered = target.call("RebootInstance", PARAMS).response is not None
        assert answered, "the emulator stopped answering behind 150 silent sockets"
    finally:
        for sock in silent:
            sock.close()
        server.kill()
        server.wait()
