"""Running schemathesis (4.x) on the generated OpenAPI against a server target.

* `load_schema(spec)`: the spec's OpenAPI with every parameter in its wire form
  (`wire_schema`): a Boolean becomes the string enum of the spellings its `x-wire-booleans`
  lists, so positive cases send every spelling official clients send (`True`, `true`, `TRUE`)
  and negative cases send no spelling of a boolean; a repeat list (`x-style: repeatList`)
  is sent as `Name.1=...&Name.2=...`.
* `signing_auth(...)`: a schemathesis auth provider that signs every generated case with
  signature V2 (protocol/signing.py). It keeps `Action` and `Version` valid and replaces the
  generated common parameters with real ones, so cases reach the operation; everything else the
  generator drew (valid or not) is sent and signed as drawn.
* `CHECKS`: schemathesis' own status-code, content-type, response-schema, server-error and
  negative-data checks; `check_requirement` names the requirement a failed one supports (or
  none: an observation).
* the RPC-style judgement of an error answer's `Code` against the codes the spec documents
  for its HTTP status is `answers.error_code_verdict`, shared with the checking proxy.
* `call_case(case, target)`: sends a generated case through the target's own transport, so
  schemathesis' requests share its bounds (total deadline, body cap) and its circuit breaker
  instead of reading whole answers without limit.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.auths import AuthStorage
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.config import Credentials
from conformance.protocol.signing import signed_params_v2
from conformance.spec.model import Spec
from conformance.spec.openapi import AUTH_PARAMETERS, REPEAT_LIST
from conformance.targets.base import NOT_FOUND_PREFIX
from conformance.targets.http import Exchange, HttpServerTarget

__all__ = [
    "CHECKS",
    "call_case",
    "case_strategies",
    "load_schema",
    "normalise",
    "repeat_lists",
    "signing_auth",
    "wire_schema",
]

# Generated common parameters the signer owns (docs/protocol.md#common-parameters). `Format` stays
# generated.
_SIGNER_OWNED = ("Action", "Version", *AUTH_PARAMETERS)


def wire_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A parameter schema as its values travel: a Boolean (`type: boolean`) becomes the string
    enum of its `x-wire-booleans` spellings, true and false interleaved; an enumeration with
    `x-wire-values` (case-insensitive `Format`) takes those; others are unchanged."""
    out = dict(schema)
    if isinstance(schema.get("x-wire-values"), list):
        for key in ("pattern", "examples"):  # the enum of wire forms says it all
            out.pop(key, None)
        out["enum"] = list(schema["x-wire-values"])
        return out
    wire = schema.get("x-wire-booleans")
    if schema.get("type") != "boolean" or not isinstance(wire, Mapping):
        return out
    lists = [list(v) for v in wire.values() if isinstance(v, list)]
    spellings = [s for group in itertools.zip_longest(*lists) for s in group if s is not None]
    out["type"] = "string"
    out["enum"] = spellings
    if "default" in out:
        out["default"] = normalise(out["default"])
    return out


def repeat_lists(spec: Spec) -> frozenset[str]:
    """Names of the parameters sent as numbered repeats (`x-style: repeatList`)."""
    return frozenset(
        str(p["name"])
        for operation in spec.openapi["paths"]["/"].values()
        for p in operation.get("parameters", [])
        if p.get("x-style") == REPEAT_LIST
    )


def load_schema(spec: Spec) -> Any:
    """The spec's OpenAPI as a schemathesis schema, every parameter in its wire form
    (`wire_schema`), without the parameters the signer owns: generating (or negating) them is
    pointless since the auth hook replaces them, and a negative case whose only invalid part
    the hook repaired would be judged as accepted invalid data."""
    raw = copy.deepcopy(dict(spec.openapi))  # schemathesis annotates what it loads
    for operation in raw["paths"]["/"].values():
        operation["parameters"] = [
            {**p, "schema": wire_schema(p.get("schema") or {})}
            for p in operation.get("parameters", [])
            if p.get("name") not in _SIGNER_OWNED
        ]
        body = (operation.get("requestBody") or {}).get("content", {})
        for media in body.values():
            schema = media.get("schema") or {}
            props = schema.get("properties") or {}
            for name in _SIGNER_OWNED:
                props.pop(name, None)
            for name, prop in props.items():
                props[name] = wire_schema(prop)
            if "required" in schema:
                schema["required"] = [n for n in schema["required"] if n not in _SIGNER_OWNED]
    return schemathesis.openapi.from_dict(raw)


def case_strategies(
    schema: Any,
    methods: Sequence[str],
    auth: type,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
) -> list[Any]:
    """One hypothesis strategy of signed cases per method and generation mode; `auth` (from
    `signing_auth`) is applied to every generated case."""
    storage: AuthStorage[bool] = AuthStorage()
    storage.auth(refresh_interval=None)(auth)  # a fresh signature per case: no caching
    return [
        schema["/"][method].as_strategy(generation_mode=mode, auth_storage=storage)
        for method in methods
        for mode in modes
    ]


def normalise(value: object) -> str | list[str] | None:
    """A generated value as it goes on the wire: None is left out, booleans and numbers become
    text, objects JSON; lists stay lists (repeated parameters)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [str(normalise(v) or "") for v in value]
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _clean(
    container: Mapping[str, Any] | None, repeated: frozenset[str] = frozenset()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (container or {}).items():
        if key in _SIGNER_OWNED:
            continue
        if key in repeated and isinstance(value, list | tuple):
            out.update(_numbered(str(key), value))
            continue
        wire = normalise(value)
        if wire is not None:
            out[str(key)] = wire
    return out


def _numbered(name: str, items: Sequence[Any]) -> dict[str, str]:
    """A repeat list on the wire: `Name.1=a&Name.2=b`; objects as `Name.1.Key=...`."""
    out: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            for field, value in item.items():
                wire = normalise(value)
                if isinstance(wire, str):
                    out[f"{name}.{n}.{field}"] = wire
        else:
            wire = normalise(item)
            if isinstance(wire, str):
                out[f"{name}.{n}"] = wire
    return out


def signing_auth(
    spec: Spec,
    credentials: Credentials,
    *,
    safe_ids: bool,
    before_send: Callable[[Any], None] | None = None,
) -> type:
    """An auth provider class (schemathesis' `get`/`set` protocol) that V2-signs each case.

    `safe_ids`: prefix every generated InstanceId with the not-found prefix so no real
    instance can be touched (docs/contracts.md#safety-rules, for targets that are not loopback).
    `before_send(case)` runs after cleaning and before signing (e.g. to arrange the case's id).
    """

    repeated = repeat_lists(spec)
    instance = spec.instance_parameter.name

    class RpcSigningAuth:
        """Signs every generated case with signature V2 (protocol/signing.py)."""

        def get(self, case: Any, context: Any) -> bool:
            return True

        def set(self, case: Any, data: bool, context: Any) -> None:
            query = _clean(case.query, repeated)
            body = _clean(case.body, repeated) if isinstance(case.body, Mapping) else None
            for params in (query, body or {}):
                iid = params.get(instance)
                if safe_ids and isinstance(iid, str):
                    params[instance] = NOT_FOUND_PREFIX + iid
            case.query, case.body = query, (body if body is not None else case.body)
            if before_send is not None:
                before_send(case)
            merged = {k: (v[0] if isinstance(v, list) and v else v) for k, v in query.items()}
            merged.update(
                {k: (v[0] if isinstance(v, list) and v else v) for k, v in (body or {}).items()}
            )
            signed = signed_params_v2(
                case.method.upper(),
                {k: v for k, v in merged.items() if isinstance(v, str)},
                action=spec.action,
                version=spec.version,
                access_key_id=credentials.access_key_id,
                access_key_secret=credentials.access_key_secret,
                fmt=merged.get("Format") if isinstance(merged.get("Format"), str) else None,
            )
            for key in (*_SIGNER_OWNED, "Format"):
                if key in signed and key not in (body or {}):
                    query[key] = signed[key]
            case.query = query

    return RpcSigningAuth


def call_case(case: Any, target: HttpServerTarget) -> tuple[Response | None, Exchange]:
    """Send `case` as schemathesis would (its serialisation, byte for byte) through `target`'s
    bounded transport. The schemathesis response to validate, or None when no answer came
    (then the exchange says why); `StoppedAnswering` once the target's breaker is open."""
    kwargs = case.as_transport_kwargs(base_url=target.base_url)
    fields = ("method", "url", "headers", "params", "data", "json", "cookies")
    prepared = requests.Request(**{k: kwargs[k] for k in fields if k in kwargs}).prepare()
    raw = prepared.body
    body = raw.encode("utf-8") if isinstance(raw, str) else raw if isinstance(raw, bytes) else b""
    exchange = target.send_raw(
        str(prepared.method),
        prepared.path_url,
        {str(k): str(v) for k, v in prepared.headers.items()},
        body,
        action=case.operation.label,
    )
    wire = exchange.response
    if wire is None:
        return None, exchange
    response = Response(
        status_code=wire.status,
        headers={k: [v] for k, v in wire.headers.items()},
        content=wire.body,
        request=prepared,
        elapsed=exchange.elapsed_s,
        verify=True,
        message=http.client.responses.get(wire.status, ""),
    )
    return response, exchange


CHECKS = (
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    not_a_server_error,
    negative_data_rejection,
)
"""schemathesis' built-in checks that apply to an RPC operation (positive_data_acceptance does
not: most generated ids name no instance, and the documented answer is then a 404)."""


# -- which requirement each check can support ---------------------------------------------------
#
# A check's failure counts only against the requirement it verifies, and only where a source
# states what it checks. What the sources do not describe becomes an observation (reported with
# its evidence, never failing): a status the OpenAPI does not list, a 5xx (the document lists
# InternalError, but any server may fail), accepted negative data (the dedicated parameter
# tests judge the documented malformed inputs), and an error code the document does not list
# ("For a list of error codes, visit the API Error Center": its table is not the whole list).
OBSERVED_CHECKS: Mapping[str, str] = {
    "status_code_conformance": "unlisted-status",
    "not_a_server_error": "server-error",
    "negative_data_rejection": "accepted-negative-data",
}


def check_requirement(check_name: str, status: int) -> str | None:
    """The requirement a failed check supports for an answer of HTTP `status`, or None when
    the failure is an observation (`OBSERVED_CHECKS`)."""
    if check_name in OBSERVED_CHECKS:
        return None
    if check_name == "content_type_conformance":
        return "protocol.content-type"
    if check_name == "response_schema_conformance":
        return "protocol.envelope.success" if status < 400 else "protocol.envelope.error"
    raise KeyError(f"no requirement is mapped for the schemathesis check {check_name!r}")
