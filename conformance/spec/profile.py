"""Load the protocol profile (`spec/profile.yaml`): what an operation document takes for granted.

The profile is docs/protocol.md written as YAML, so that no fact is typed into the code, in two
layers: `shared` (every ECS RPC operation) and the specific layer, `families` (a document family,
its members listed) and `operations` (one Action). `load_profile()` reads and shape-checks the
file, so that a broken profile fails with a SpecError naming the missing key rather than a
KeyError deep inside the generator; `ProfileLayers.for_action()` merges the layers for one
operation into the `EffectiveProfile` the generator reads.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance import resources
from conformance.errors import SpecError

__all__ = [
    "PROFILE_FILE",
    "PROFILE_VERSION",
    "REQUIRED_KEYS",
    "EffectiveProfile",
    "ProfileLayers",
    "default_profile_path",
    "load_profile",
    "profile_sha256",
]

PROFILE_FILE = "profile.yaml"
PROFILE_VERSION = 2
SHARED = "shared"

# Dotted keys of the shared layer that the generator reads; each must be present
# (docs/architecture.md#the-spec-pipeline).
REQUIRED_KEYS = (
    "api.version",
    "api.endpoint",
    "api.methods",
    "common_parameters",
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
    "dryrun.tag",
    "signatures.v2.text",
    "signatures.v3.text",
    "timestamp.text",
    "gateway_errors",
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


@dataclass(frozen=True)
class EffectiveProfile(Mapping[str, Any]):
    """The profile as one operation sees it: its layers merged, `{Action}` filled in texts.

    Reads like the mapping it is (`profile["dryrun"]["code"]`); `locate(key)` names the layer
    a fact comes from and `tag(key)` its provenance.
    """

    action: str
    data: Mapping[str, Any]
    layers: tuple[tuple[str, Mapping[str, Any]], ...] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """`shared`, then `families.<name>` and `operations.<Action>` where they apply."""
        return tuple(name for name, _ in self.layers)

    def has(self, key: str) -> bool:
        """Is the dotted `key` given by some layer?"""
        return _walk(self.data, key.split(".")) is not None

    def locate(self, key: str) -> str:
        """The full dotted path of `key` in the profile file (`shared.api.methods`,
        `operations.RebootInstance.clients.retries`): the last layer that gives it."""
        for name, layer in reversed(self.layers):
            if _walk(layer, key.split(".")) is not None:
                return f"{name}.{key}"
        raise KeyError(f"the profile gives no {key!r} for {self.action}")

    def tag(self, key: str) -> str | None:
        """The provenance tag of `key`: the nearest `tag` on its path (a parent's `tags`
        mapping may name a child's), in the layer that gives it."""
        for _, layer in reversed(self.layers):
            node: Any = layer
            found: str | None = None
            parts = key.split(".")
            for part in parts:
                if isinstance(node, Mapping):
                    tags = node.get("tags")
                    if isinstance(node.get("tag"), str):
                        found = str(node["tag"])
                    if isinstance(tags, Mapping) and part in tags:
                        found = str(tags[part])
                node = _child(node, part)
                if node is None:
                    break
            else:
                if isinstance(node, Mapping) and isinstance(node.get("tag"), str):
                    found = str(node["tag"])
                return found
        return None


@dataclass(frozen=True)
class ProfileLayers:
    """The profile file as read: the shared layer, the families and the operations."""

    shared: Mapping[str, Any]
    families: Mapping[str, Mapping[str, Any]]
    operations: Mapping[str, Mapping[str, Any]]
    path: str = ""

    def family_of(self, action: str) -> str | None:
        """The family whose `members` list `action`, if any."""
        for name, family in self.families.items():
            if action in family.get("members", ()):
                return name
        return None

    def for_action(self, action: str) -> EffectiveProfile:
        """shared <- family <- operation, merged mapping by mapping; `{Action}` in every
        `text` replaced by `action`."""
        layers: list[tuple[str, Mapping[str, Any]]] = [(SHARED, self.shared)]
        family = self.family_of(action)
        if family is not None:
            body = {k: v for k, v in self.families[family].items() if k != "members"}
            layers.append((f"families.{family}", body))
        if action in self.operations:
            layers.append((f"operations.{action}", self.operations[action]))
        merged: dict[str, Any] = {}
        for _, layer in layers:
            merged = _merge(merged, layer)
        rendered = _render_texts(merged, action)
        return EffectiveProfile(action, rendered, tuple(layers))


def _child(node: Any, part: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list):  # lists of named items: common_parameters.Format
        return next((i for i in node if isinstance(i, Mapping) and i.get("name") == part), None)
    return None


def _walk(node: Any, parts: list[str]) -> Any:
    for part in parts:
        node = _child(node, part)
        if node is None:
            return None
    return node


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _render_texts(node: Any, action: str, key: str = "") -> Any:
    if isinstance(node, Mapping):
        return {k: _render_texts(v, action, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_texts(v, action, key) for v in node]
    if key == "text" and isinstance(node, str):
        return node.replace("{Action}", action)
    return node


def load_profile(path: Path | None = None) -> ProfileLayers:
    """Read and shape-check the profile. A missing key is a SpecError that names it."""
    p = path or default_profile_path()
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("the protocol profile does not exist", path=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"the protocol profile cannot be read: {exc}", path=where) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            f"the protocol profile is not valid YAML: {exc}", path=where, line=line
        ) from None
    if not isinstance(data, dict):
        raise SpecError("the protocol profile must be a mapping at the top level", path=where)
    data = _string_keys(data)
    if data.get("profile_version") != PROFILE_VERSION or not isinstance(data.get(SHARED), dict):
        raise SpecError(
            f"the protocol profile must have profile_version {PROFILE_VERSION} and a "
            f"'{SHARED}' layer",
            path=where,
            hint="see the layout described at the top of the shipped spec/profile.yaml",
        )
    shared = data[SHARED]
    for key in REQUIRED_KEYS:
        if _walk(shared, key.split(".")) is None:
            raise SpecError(f"the protocol profile has no key '{SHARED}.{key}'", path=where)
    _check_gateway_errors(shared["gateway_errors"], where)
    _check_common_parameters(shared["common_parameters"], where)
    families = _named_mappings(data, "families", where)
    operations = _named_mappings(data, "operations", where)
    seen: dict[str, str] = {}
    for name, family in families.items():
        members = family.get("members")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise SpecError(f"the profile's 'families.{name}.members' must be a list", path=where)
        for action in members:
            if action in seen:
                raise SpecError(
                    f"{action} is a member of two families ({seen[action]}, {name})", path=where
                )
            seen[action] = name
    for action, entry in operations.items():
        if "conditions" in entry:
            _check_conditions(entry["conditions"], f"operations.{action}", where)
    return ProfileLayers(shared, families, operations, where)


def _named_mappings(data: Mapping[str, Any], key: str, path: str) -> dict[str, dict[str, Any]]:
    node = data.get(key) or {}
    if not isinstance(node, dict) or not all(isinstance(v, dict) for v in node.values()):
        raise SpecError(f"the profile's '{key}' must map names to mappings", path=path)
    return node


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
        raise SpecError(
            "the profile's 'shared.gateway_errors' must be a non-empty mapping", path=path
        )
    for situation, entry in node.items():
        if isinstance(entry, dict) and not isinstance(entry.get("tag"), str):
            raise SpecError(
                f"the profile has no key 'shared.gateway_errors.{situation}.tag' (its source)",
                path=path,
            )
        variants = entry.get("variants") if isinstance(entry, dict) else None
        if not isinstance(variants, list) or not variants:
            raise SpecError(
                f"the profile has no key 'shared.gateway_errors.{situation}.variants' (a list)",
                path=path,
            )
        for n, v in enumerate(variants):
            for name in ("code", "http_status", "emulator_message"):
                if not isinstance(v, dict) or name not in v:
                    raise SpecError(
                        "the profile has no key "
                        f"'shared.gateway_errors.{situation}.variants[{n}].{name}'",
                        path=path,
                    )
            if "message" in v and "message_tag" not in v:
                raise SpecError(
                    f"'shared.gateway_errors.{situation}.variants[{n}]' gives a message "
                    "without its message_tag (the source of that text)",
                    path=path,
                )


def _check_common_parameters(node: Any, path: str) -> None:
    if not isinstance(node, list):
        raise SpecError("the profile's 'shared.common_parameters' must be a list", path=path)
    for n, item in enumerate(node):
        for name in ("name", "type", "required"):
            if not isinstance(item, dict) or name not in item:
                raise SpecError(
                    f"the profile has no key 'shared.common_parameters[{n}].{name}'", path=path
                )


def _check_conditions(node: Any, where: str, path: str) -> None:
    if not isinstance(node, dict):
        raise SpecError(f"the profile's '{where}.conditions' must be a mapping", path=path)
    for name, item in node.items():
        if name == "tag":
            continue
        if not isinstance(item, dict) or "code" not in item:
            raise SpecError(f"the profile has no key '{where}.conditions.{name}.code'", path=path)
