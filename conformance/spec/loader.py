"""Rebuild the runtime `Spec` from the committed OpenAPI file and the catalogue beside it.

Everything downstream (emulator, suites, mutants, reports) reads its expectations from here, so
a malformed file is a SpecError naming the file and the missing piece, never a KeyError.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from conformance import resources
from conformance.errors import SpecError
from conformance.spec.facts import Profile
from conformance.spec.model import (
    ROLE_DRY_RUN,
    ROLE_FORCE,
    ROLE_INSTANCE,
    DryRunOutcome,
    ErrorRow,
    ErrorVariant,
    Parameter,
    Requirement,
    ResponseField,
    Spec,
    ValidValue,
)

__all__ = ["DEFAULT_OPENAPI", "load_spec"]

DEFAULT_OPENAPI = "RebootInstance.openapi.yaml"
# libyaml's loader where PyYAML was built with it: every suite process loads the spec at
# collection, and the pure-Python loader takes ~0.2 s of that start-up for the OpenAPI file
# alone (the C one ~0.03 s, same result).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path, what: str) -> tuple[Any, bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(
            f"the {what} does not exist", path=str(path), hint="run `ecs-conformance spec build`"
        ) from None
    except OSError as exc:
        raise SpecError(
            f"the {what} cannot be read: {exc.strerror or exc}", path=str(path)
        ) from None
    try:
        return yaml.load(data.decode("utf-8"), Loader=_SAFE_LOADER), data
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"the {what} is not valid YAML: {exc}", path=str(path)) from None


class _Reader:
    """Key access that turns a missing key into a SpecError naming its dotted path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, node: Any, *keys: str | int) -> Any:
        where: list[str] = []
        for k in keys:
            where.append(str(k))
            try:
                node = node[k]
            except (KeyError, IndexError, TypeError):
                raise SpecError(
                    f"the generated spec has no {'.'.join(where)!r}",
                    path=str(self.path),
                    hint="regenerate it with `ecs-conformance spec build`",
                ) from None
        return node


def _parameters(r: _Reader, operation: Mapping[str, Any]) -> tuple[Parameter, ...]:
    out: list[Parameter] = []
    for item in r.get(operation, "parameters"):
        source = str(item.get("x-source", ""))
        if not source.startswith("document:"):
            continue
        schema = r.get(item, "schema")
        default = schema.get("default")
        example = item.get("example")
        out.append(
            Parameter(
                name=str(r.get(item, "name")),
                position=str(item.get("x-position", "Query")),
                type=str(r.get(schema, "x-document-type")),
                required=bool(item.get("required", False)),
                example=None if example is None else _text(example),
                description=str(item.get("description", "")),
                default=None if default is None else _text(default),
                valid_values=tuple(
                    ValidValue(str(v["value"]), str(v.get("description", "")))
                    for v in item.get("x-valid-values") or ()
                ),
                line=int(source.split(":", 1)[1] or 0),
            )
        )
    return tuple(out)


def _text(value: Any) -> str:
    """A typed schema value back as the document prints it (`false`, not `False`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _variant(r: _Reader, v: Mapping[str, Any]) -> ErrorVariant:
    message = v.get("message")
    return ErrorVariant(
        code=str(r.get(v, "code")),
        http_status=int(r.get(v, "http_status")),
        emulator_message=str(r.get(v, "emulator_message")),
        message=None if message is None else str(message),
        provenance=str(v.get("provenance", "doc")),
        message_provenance=str(v.get("message_provenance", "emulator")),
    )


def _dryrun(r: _Reader, operation: Mapping[str, Any]) -> DryRunOutcome:
    """What a passing DryRun answers: `x-dryrun.passes`, or for an operation without a DryRun
    parameter the profile's shared `dryrun` fact."""
    if "x-dryrun" in operation:
        dry = r.get(operation, "x-dryrun", "passes")
        status = r.get(dry, "http-status")
    else:
        dry = r.get(operation, "x-protocol", "dryrun")
        status = r.get(dry, "http_status")
    return DryRunOutcome(
        code=str(r.get(dry, "code")),
        http_status=int(status),
        message=str(r.get(dry, "message")),
        provenance=str(dry.get("provenance") or dry.get("tag") or "doc"),
    )


def _roles(operation: Mapping[str, Any]) -> dict[str, str]:
    """Which document parameter plays which part, from the extensions that name them."""
    out: dict[str, str] = {}
    for role, key in (
        (ROLE_INSTANCE, "x-instance-id"),
        (ROLE_DRY_RUN, "x-dryrun"),
        (ROLE_FORCE, "x-forced-restart"),
    ):
        node = operation.get(key)
        if isinstance(node, Mapping) and node.get("parameter"):
            out[role] = str(node["parameter"])
    return out


def _profile(r: _Reader, operation: Mapping[str, Any]) -> Profile:
    """`x-protocol` as typed views, the accepted boolean spellings read from the Boolean
    parameters' `x-wire-booleans` (they must agree)."""
    profile = Profile.from_mapping(r.get(operation, "x-protocol"), path=str(r.path))
    listed: dict[str, Any] | None = None
    for item in r.get(operation, "parameters"):
        wire = (item.get("schema") or {}).get("x-wire-booleans")
        if wire is None:
            continue
        if listed is not None and wire != listed:
            raise SpecError(
                f"parameter {item.get('name')!r} lists other boolean spellings than the "
                "operation's other Boolean parameters",
                path=str(r.path),
                hint="regenerate it with `ecs-conformance spec build`",
            )
        listed = wire
    if listed is None:
        return profile
    b = profile.booleans
    accepted = {
        True: tuple(str(s) for s in r.get(listed, b.true)),
        False: tuple(str(s) for s in r.get(listed, b.false)),
    }
    booleans = replace(b, wire=accepted, case_insensitive=bool(listed.get("case-insensitive")))
    return replace(profile, booleans=booleans)


def _response_fields(r: _Reader, operation: Mapping[str, Any]) -> tuple[ResponseField, ...]:
    schema = r.get(operation, "responses", "200", "content", "application/json", "schema")
    out: list[ResponseField] = []
    for name, prop in (schema.get("properties") or {}).items():
        source = str(prop.get("x-source", ""))
        if not source.startswith("document:"):
            continue
        examples = prop.get("examples") or [None]
        out.append(
            ResponseField(
                name=str(name),
                type=str(prop.get("x-document-type", "String")),
                example=None if examples[0] is None else str(examples[0]),
                description=str(prop.get("description", "")),
                line=int(source.split(":", 1)[1] or 0),
            )
        )
    return tuple(out)


def _errors(r: _Reader, operation: Mapping[str, Any]) -> tuple[ErrorRow, ...]:
    rows: list[ErrorRow] = []
    for status, response in r.get(operation, "responses").items():
        for entry in response.get("x-error-codes") or ():
            if entry.get("source") != "document":
                continue
            rows.append(
                ErrorRow(
                    http_status=int(status),
                    code=str(r.get(entry, "code")),
                    message=str(r.get(entry, "message")),
                    description=str(entry.get("description", "")),
                    line=int(entry.get("line", 0)),
                )
            )
    rows.sort(key=lambda e: e.line)
    return tuple(rows)


def _requirements(path: Path) -> tuple[tuple[Requirement, ...], Mapping[str, Any]]:
    data, _ = _load_yaml(path, "requirement catalogue")
    r = _Reader(path)
    if not isinstance(data, dict):
        raise SpecError("the requirement catalogue must be a mapping", path=str(path))
    reqs = tuple(
        Requirement(
            id=str(r.get(item, "id")),
            level=str(r.get(item, "level")),
            kind=str(r.get(item, "kind")),
            text=str(r.get(item, "text")),
            source=str(r.get(item, "source")),
            provenance=str(item.get("provenance", "doc")),
        )
        for item in r.get(data, "requirements")
    )
    return reqs, data


@functools.lru_cache(maxsize=16)
def load_spec(openapi_path: Path | None = None) -> Spec:
    """The runtime view of the generated spec (cached per path; `load_spec.cache_clear()`).

    >>> spec = load_spec()  # doctest: +SKIP
    >>> spec.error_status("IncorrectInstanceStatus")  # doctest: +SKIP
    403
    """
    path = (
        Path(openapi_path) if openapi_path is not None else resources.spec_dir() / DEFAULT_OPENAPI
    )
    doc, raw = _load_yaml(path, "OpenAPI description")
    if not isinstance(doc, dict):
        raise SpecError("the OpenAPI description must be a mapping", path=str(path))
    r = _Reader(path)
    operations = r.get(doc, "paths", "/")
    operation = operations.get("post") or operations.get("get")
    if not isinstance(operation, dict):
        raise SpecError(
            "the OpenAPI description has no GET or POST operation on '/'", path=str(path)
        )
    action = str(r.get(operation, "x-action"))
    req_path = path.parent / f"{action}.requirements.yaml"
    requirements, _catalogue = _requirements(req_path)

    dryrun = _dryrun(r, operation)
    pre = operation.get("x-state-precondition") or {}
    res = operation.get("x-resulting-state") or {}
    gateway = {
        str(situation): tuple(_variant(r, v) for v in variants)
        for situation, variants in r.get(operation, "x-gateway-errors").items()
    }
    return Spec(
        action=action,
        version=str(r.get(operation, "x-api-version")),
        parameters=_parameters(r, operation),
        response_fields=_response_fields(r, operation),
        errors=_errors(r, operation),
        dryrun=dryrun,
        precondition_status=str(pre.get("status", "")),
        resulting_status=str(res.get("status", "")),
        settled_status=str(res.get("settles-to", "")),
        transient_alternatives=tuple(str(s) for s in res.get("alternatives") or ()),
        conditions={str(k): str(v) for k, v in r.get(operation, "x-conditions").items()},
        lock_errors={
            str(lk["reason"]): str(lk["error"])
            for lk in operation.get("x-locks") or ()
            if lk.get("error")
        },
        gateway_errors=gateway,
        profile=_profile(r, operation),
        requirements=requirements,
        document_sha256=str(r.get(doc, "info", "x-document-sha256")),
        openapi_sha256=hashlib.sha256(raw).hexdigest(),
        openapi=doc,
        openapi_path=path,
        sample_requests=tuple(str(t) for t in operation.get("x-sample-requests") or ()),
        parameter_roles=_roles(operation),
    )
