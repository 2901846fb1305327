"""Writing the files a run leaves behind: whole or not at all.

Every report (and the raw ledger, and selftest.json) goes through `write_text`: the text is
written to a temporary file in the same directory and renamed over the target, so a reader,
a crash or a full disk never sees half a file, and an earlier run's file stays whole until the
new one replaces it. `check_writable_dir` is the check a run makes before its first request.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_text(pathlib.Path(d) / "a.txt", "hello")
    ...     path.read_text()
    'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from conformance.errors import ConfigError, ReportWriteError

__all__ = ["check_writable_dir", "write_text"]


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, creating its directory; `ReportWriteError`
    (exit 3) with the reason when it cannot be written. Returns `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReportWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ReportWriteError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="the files written before it are complete; free space or choose another "
            "--report-dir, then run again",
        ) from None
    return path


def check_writable_dir(directory: Path, *, what: str = "--report-dir") -> None:
    """`ConfigError` (exit 2) unless `directory` exists or can be created, is a directory, and
    a file can be created in it: the check a run makes before it starts."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(
            f"{what} {directory} is not a directory",
            hint="name a directory (it is created if missing)",
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".ecs-conformance-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{what} {directory} cannot be written: {exc.strerror or exc}",
            hint="choose a directory you can write to",
        ) from None
