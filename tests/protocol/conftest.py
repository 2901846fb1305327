"""Shared data for the protocol tests: signature vectors and the protocol profile.

Vectors come from `$ECS_SHARED_DIR/protocol/signature-vectors.json` when that variable names an
upstream copy (the shipped one must then equal it), else from the copy shipped beside this file:
the tests are self-contained.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conformance.spec.facts import Profile
from conformance.spec.model import ErrorVariant
from conformance.spec.profile import load_profile as profile_layers

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VECTORS_NAME = "signature-vectors.json"
SHIPPED_VECTORS = HERE / VECTORS_NAME


def shared_vectors_path() -> Path | None:
    """The upstream vectors file `$ECS_SHARED_DIR` names, when it exists."""
    env = os.environ.get("ECS_SHARED_DIR")
    path = Path(env) / "protocol" / VECTORS_NAME if env else None
    return path if path is not None and path.is_file() else None


def vectors_path() -> Path:
    return shared_vectors_path() or SHIPPED_VECTORS


def load_vectors() -> dict[str, Any]:
    return json.loads(vectors_path().read_text(encoding="utf-8"))


def load_profile() -> dict[str, Any]:
    """The profile as RebootInstance sees it (its layers merged), as a plain mapping."""
    return dict(profile_layers(REPO / "spec" / "profile.yaml").for_action("RebootInstance"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `official_vector`, `recorded_vector` (and the v2/v3 subsets) by name."""
    wanted = {
        "official_vector": ("official", None),
        "recorded_vector": ("recorded", None),
        "recorded_v2_vector": ("recorded", "v1"),
        "recorded_v3_vector": ("recorded", "v3"),
    }
    for fixture, (group, version) in wanted.items():
        if fixture in metafunc.fixturenames:
            vectors = [
                v
                for v in load_vectors()[group]
                if version is None or v["signature_version"] == version
            ]
            metafunc.parametrize(fixture, vectors, ids=[v["name"] for v in vectors])


@pytest.fixture(scope="session")
def vector_files() -> tuple[Path, Path | None]:
    """(the shipped copy, the shared file or None)."""
    return SHIPPED_VECTORS, shared_vectors_path()


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return load_vectors()


@pytest.fixture(scope="session")
def profile() -> dict[str, Any]:
    return load_profile()


@pytest.fixture(scope="session")
def typed_profile(profile: dict[str, Any]) -> Profile:
    """The same profile as the typed views `Spec.profile` gives."""
    return Profile.from_mapping(profile)


@pytest.fixture(scope="session")
def gateway_errors(profile: dict[str, Any]) -> dict[str, tuple[ErrorVariant, ...]]:
    """The profile's gateway errors as `ErrorVariant` tuples (the first is the answer)."""
    return {
        situation: tuple(
            ErrorVariant(str(v["code"]), int(v["http_status"]), str(v["emulator_message"]))
            for v in entry["variants"]
        )
        for situation, entry in profile["gateway_errors"].items()
    }
