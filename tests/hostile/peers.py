"""Hostile peers on loopback: servers and `--command` adapters that try to hurt the suite.

Used as pytest fixtures (tests/hostile/conftest.py) and by `benchmarks/bench_hostile.py`,
which runs them as processes:

    python tests/hostile/peers.py server big-body [--size-mib 50]     # prints its URL, serves
    python tests/hostile/peers.py server drip | silent
    python tests/hostile/peers.py adapter spew [--size-mib 100]       # a --command adapter
    python tests/hostile/peers.py adapter hang | detach --pidfile F

Every peer is bounded: servers stop with the process (or `close()`), held connections close
with them, adapters that hang sleep at most `_HANG_S`.

* `big-body`: every request is answered 200 with a body of `size` bytes (JSON-looking).
* `drip`: every request is answered one byte per `interval` seconds (status line included).
* `silent`: requests are read and never answered; the connection stays open.
* `garbage`: every request is answered with bytes that are not HTTP, then the connection closes.
* `reset`: every request is answered with a TCP reset (SO_LINGER 0, then close).
* `http500`: every request is answered `500 Internal Server Error`, text/plain, `oops`.
* adapter `spew`: prints `size` bytes that are not an Outcome.
* adapter `hang`: reads its call, writes its pid to `--pidfile` (if given) and sleeps.
* adapter `detach`: starts a child in a session of its own (setsid) that outlives it, writes
  the child's pid to `--pidfile`, and answers a valid Outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["HostileServer", "adapter_command", "alive"]

_HANG_S = 600.0
_CHUNK = 1 << 16
_MODES = ("big-body", "drip", "silent", "garbage", "reset", "http500")
_HTTP500 = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 4\r\n\r\noops"
)


class HostileServer:
    """A raw-socket HTTP peer that misbehaves as `mode` says (see the module doc)."""

    def __init__(self, mode: str, *, size: int = 50 << 20, interval_s: float = 1.0) -> None:
        if mode not in _MODES:
            raise ValueError(f"unknown hostile server {mode!r}")
        self.mode, self.size, self.interval_s = mode, size, interval_s
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(1.0)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(_CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    return
                if b"\r\n\r\n" not in data:
                    continue  # a head in several reads: wait for its end
                if self.mode == "silent":
                    continue
                if self.mode == "big-body":
                    self._send_big(conn)
                elif self.mode == "drip":
                    self._drip(conn)
                elif self.mode == "http500":
                    conn.sendall(_HTTP500)
                else:
                    self._hang_up(conn)
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _send_big(self, conn: socket.socket) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
            f"Content-Length: {self.size}\r\n\r\n"
        ).encode("ascii")
        conn.sendall(head)
        chunk = b'{"RequestId": "' + b"x" * (_CHUNK - 16)
        sent = 0
        while sent < self.size and not self._stop.is_set():
            part = chunk[: min(len(chunk), self.size - sent)]
            conn.sendall(part)
            sent += len(part)

    def _hang_up(self, conn: socket.socket) -> None:
        if self.mode == "garbage":
            conn.sendall(b"\x00\x17 this is not HTTP at all \xff\r\n\r\n")
        else:  # reset: close with SO_LINGER 0, so the kernel sends RST instead of FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _drip(self, conn: socket.socket) -> None:
        body = b'{"RequestId": "drip"}'
        answer = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode("ascii")
            + body
        )
        for byte in answer:
            if self._stop.wait(self.interval_s):
                return
            conn.sendall(bytes([byte]))

    def close(self) -> None:
        """Stop serving and close every connection."""
        self._stop.set()
        self.sock.close()
        with self._lock:
            held, self._open = self._open, []
        for conn in held:
            conn.close()
        self._thread.join(timeout=2)


def adapter_command(mode: str, *, size_mib: float = 100, pidfile: Path | None = None) -> str:
    """The `--command` line of a hostile adapter (this file run by this interpreter)."""
    parts = [sys.executable, str(Path(__file__).resolve()), "adapter", mode]
    if mode == "spew":
        parts += ["--size-mib", f"{size_mib:g}"]
    if pidfile is not None:
        parts += ["--pidfile", str(pidfile)]
    return " ".join(f"'{p}'" for p in parts)


def alive(pids: list[int]) -> list[int]:
    """The pids of `pids` that still exist."""
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        out.append(pid)
    return out


def _adapter(mode: str, size_mib: float, pidfile: str | None) -> int:
    sys.stdin.read()
    if mode == "spew":
        block = b"not an Outcome " * (_CHUNK // 15)
        left = int(size_mib * (1 << 20))
        out = sys.stdout.buffer
        try:
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
            out.flush()
        except BrokenPipeError:
            return 1
        return 0
    if mode == "hang":
        if pidfile:
            with open(pidfile, "a", encoding="ascii") as fh:
                fh.write(f"{os.getpid()}\n")
        time.sleep(_HANG_S)
        return 0
    if mode == "detach":
        child = subprocess.Popen(
            [sys.executable, "-c", f"import time; time.sleep({_HANG_S})"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if pidfile:
            with open(pidfile, "a", encoding="ascii") as fh:
                fh.write(f"{child.pid}\n")
        print(json.dumps({"ok": False, "code": None, "message": "detached", "http_status": None}))
        return 0
    raise SystemExit(f"unknown hostile adapter {mode!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    server = sub.add_parser("server")
    server.add_argument("mode", choices=_MODES)
    server.add_argument("--size-mib", type=float, default=50)
    server.add_argument("--interval", type=float, default=1.0)
    adapter = sub.add_parser("adapter")
    adapter.add_argument("mode", choices=("spew", "hang", "detach"))
    adapter.add_argument("--size-mib", type=float, default=100)
    adapter.add_argument("--pidfile", default=None)
    args = parser.parse_args()
    if args.role == "adapter":
        return _adapter(args.mode, args.size_mib, args.pidfile)
    peer = HostileServer(args.mode, size=int(args.size_mib * (1 << 20)), interval_s=args.interval)
    print(peer.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
