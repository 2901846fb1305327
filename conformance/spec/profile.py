"""Load the protocol profile (`spec/profile.yaml`): what the document takes for granted, as data.

The profile is docs/protocol.md written as YAML: data, so that no fact is typed into the code. This
module only reads it and checks its shape, so that a broken profile fails with a SpecError naming
the missing key rather than a KeyError deep inside the generator.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from conformance import resources
from conformance.errors import SpecError

__all__ = [
    "PROFILE_FILE",
    "REQUIRED_KEYS",
    "default_profile_path",
    "load_profile",
    "profile_sha256",
]

PROFILE_FILE = "profile.yaml"

# Dotted keys the generator reads; each must be present (docs/architecture.md#the-spec-pipeline).
REQUIRED_KEYS = (
    "api.version",
    "api.endpoint",
    "api.methods",
    "common_parameters",
    "hidden_parameters.names",
    "tolerated_parameters.names",
    "tolerated_parameters.text",
    "booleans.text",
    "booleans.sent_by",
    "formats.content_types",
    "formats.text",
    "envelopes.success.text",
    "envelopes.error.text",
    "envelopes.error.fields",
    "envelopes.both_signals.text",
    "dryrun.code",
    "dryrun.http_status",
    "dryrun.message",
    "dryrun.text",
    "signatures.v2.text",
    "signatures.v3.text",
    "timestamp.text",
    "gateway_errors",
    "lifecycle.statuses",
    "lifecycle.settle",
    "lifecycle.transient_alternatives.statuses",
    "lifecycle.transient_alternatives.text",
    "conditions",
    "clients.retries.text",
    "clients.nonce.text",
)


def default_profile_path() -> Path:
    """The shipped profile: `spec/profile.yaml`."""
    return resources.spec_dir() / PROFILE_FILE


def profile_sha256(path: Path | None = None) -> str:
    """Hex SHA-256 of the profile file's bytes."""
    p = path or default_profile_path()
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError as exc:
        raise SpecError(f"the profile cannot be read: {exc.strerror or exc}", path=str(p)) from None


def load_profile(path: Path | None = None) -> dict[str, Any]:
    """Read and shape-check the profile. A missing key is a SpecError that names it."""
    p = path or default_profile_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("the protocol profile does not exist", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"the protocol profile cannot be read: {exc}", path=str(p)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            f"the protocol profile is not valid YAML: {exc}", path=str(p), line=line
        ) from None
    if not isinstance(data, dict):
        raise SpecError("the protocol profile must be a mapping at the top level", path=str(p))
    checked: dict[str, Any] = _string_keys(data)
    data = checked
    for key in REQUIRED_KEYS:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise SpecError(f"the protocol profile has no key {key!r}", path=str(p))
            node = node[part]
    _check_gateway_errors(data["gateway_errors"], str(p))
    _check_common_parameters(data["common_parameters"], str(p))
    _check_conditions(data["conditions"], str(p))
    return data


def _string_keys(node: Any) -> Any:
    """YAML 1.1 reads the keys `true:`/`false:` as booleans; the profile means the words."""
    if isinstance(node, dict):
        return {
            (str(k).lower() if isinstance(k, bool) else str(k)): _string_keys(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _check_gateway_errors(node: Any, path: str) -> None:
    if not isinstance(node, dict) or not node:
        raise SpecError("the profile's 'gateway_errors' must be a non-empty mapping", path=path)
    for situation, entry in node.items():
        variants = entry.get("variants") if isinstance(entry, dict) else None
        if not isinstance(variants, list) or not variants:
            raise SpecError(
                f"the profile has no key 'gateway_errors.{situation}.variants' (a list)", path=path
            )
        for n, v in enumerate(variants):
            for field in ("code", "http_status", "message"):
                if not isinstance(v, dict) or field not in v:
                    raise SpecError(
                        "the profile has no key "
                        f"'gateway_errors.{situation}.variants[{n}].{field}'",
                        path=path,
                    )


def _check_common_parameters(node: Any, path: str) -> None:
    if not isinstance(node, list):
        raise SpecError("the profile's 'common_parameters' must be a list", path=path)
    for n, item in enumerate(node):
        for field in ("name", "type", "required"):
            if not isinstance(item, dict) or field not in item:
                raise SpecError(
                    f"the profile has no key 'common_parameters[{n}].{field}'", path=path
                )


def _check_conditions(node: Any, path: str) -> None:
    if not isinstance(node, dict):
        raise SpecError("the profile's 'conditions' must be a mapping", path=path)
    for name, item in node.items():
        if name == "tag":
            continue
        if not isinstance(item, dict) or "code" not in item:
            raise SpecError(f"the profile has no key 'conditions.{name}.code'", path=path)
