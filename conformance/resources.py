"""Where the shipped data lives: the `spec/` and `fixtures/` folders.

In a wheel they are packaged as `conformance/_data/...`; in a source checkout (editable install)
they are the repository's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "fixtures_dir", "spec_dir"]

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped folder `name` (`spec` or `fixtures`)."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def spec_dir() -> Path:
    return data_dir("spec")


def fixtures_dir() -> Path:
    return data_dir("fixtures")
