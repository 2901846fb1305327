"""Turn a parsed operation and the protocol profile into an OpenAPI 3.1 description.

Layout (docs/architecture.md#the-spec-pipeline; other modules read these names): one path `/` with
`get` and `post`, all parameters in the query (POST also accepts them as a form body), responses per
HTTP status with `x-error-codes`, and operation extensions `x-action`, `x-api-version`,
`x-state-precondition`, `x-resulting-state`, `x-locks`, `x-forced-restart`, `x-dryrun`,
`x-conditions`, `x-gateway-errors`, `x-protocol`. Everything is inlined (no `$ref`) so readers need
no resolver.

Booleans: the wire carries text, and official clients send `true`/`false` and `True`/`False`
(docs/protocol.md#booleans). A Boolean parameter is therefore `type: string` with an `enum` of the
wire forms (lower-case, capitalised, upper-case), so that schemathesis generates every accepted form
and its negative mode generates invalid ones (`maybe`). `x-document-type: Boolean` keeps the
document's type.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import yaml

from conformance.spec.catalogue import classify_bullet, dryrun_sentences
from conformance.spec.model import ErrorRow, Operation, Parameter

__all__ = [
    "AUTH_PARAMETERS",
    "OPENAPI_VERSION",
    "boolean_wire_values",
    "build_openapi",
    "dump_yaml",
    "parameter_schema",
]

OPENAPI_VERSION = "3.1.0"

# Common parameters that the signing hook adds to every request (docs/protocol.md#common-parameters,
# docs/protocol.md#signature-v2): optional
# in the schema so generated cases need not carry them; the wire still requires them.
AUTH_PARAMETERS = (
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "SecurityToken",
)

_TYPES = {
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "number": "number",
    "array": "array",
    "object": "object",
    "json": "string",
}


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML has no stubs here
    """Safe dumper without anchors/aliases: the GET and POST operations repeat the same data."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: Any) -> str:
    """Deterministic YAML: insertion order kept, unicode as is, no line folding."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000
    )
    return text


def boolean_wire_values(profile: Mapping[str, Any]) -> list[str]:
    """Every wire form of a boolean: lower-case, capitalised and upper-case of the profile's words.

    The forms official clients send (`booleans.sent_by`) come first, in the profile's order.
    """
    booleans = profile["booleans"]
    words = [str(booleans.get("true", "true")), str(booleans.get("false", "false"))]
    values: list[str] = []
    for client in booleans["sent_by"]:
        values.extend(str(v) for v in booleans["sent_by"][client])
    for form in (str.lower, str.capitalize, str.upper):
        values.extend(form(w) for w in words)
    return list(dict.fromkeys(values))


def parameter_schema(p: Parameter, profile: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema of one document parameter as it travels on the wire."""
    schema: dict[str, Any]
    if p.is_boolean:
        schema = {"type": "string", "enum": boolean_wire_values(profile)}
    else:
        base = p.type.split(" ")[0].lower()
        schema = {"type": _TYPES.get(base, "string")}
        if schema["type"] in ("array", "object"):
            # RPC pages serialise structured values into one query string
            # (docs/protocol.md#observing-instances).
            schema = {"type": "string"}
        if p.valid_values:
            schema["enum"] = [v.value for v in p.valid_values]
    if p.default is not None:
        schema["default"] = p.default
    schema["x-document-type"] = p.type
    return schema


def _document_parameter(p: Parameter, profile: Mapping[str, Any], action: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": p.name,
        "in": "query",
        "required": p.required,
        "description": p.description,
        "schema": parameter_schema(p, profile),
    }
    if p.name == "Action":
        out["schema"]["enum"] = [action]
    if p.example is not None:
        out["example"] = p.example
    out["x-position"] = p.position
    out["x-valid-values"] = [
        {"value": v.value, "description": v.description} for v in p.valid_values
    ]
    out["x-source"] = f"document:{p.line}"
    return out


def _common_parameter(item: Mapping[str, Any], version: str) -> dict[str, Any]:
    name = str(item["name"])
    schema: dict[str, Any] = {"type": "string"}
    if "value" in item:
        schema["enum"] = [str(item["value"])]
    if "enum" in item:
        values = [str(v) for v in item["enum"]]
        if item.get("case_insensitive"):
            values += [v.lower() for v in values]
        schema["enum"] = list(dict.fromkeys(values))
    if "pattern" in item:
        schema["pattern"] = str(item["pattern"])
    if "default" in item:
        schema["default"] = str(item["default"])
    if name == "Version":
        schema["enum"] = [version]
    description = str(item.get("description", ""))
    required = bool(item.get("required"))
    if name in AUTH_PARAMETERS:
        description = (
            f"{description} Added by the signing hook; optional in this schema although the "
            "protocol requires it on the wire."
        ).strip()
        required = False
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        "x-common": True,
        "x-required-on-wire": bool(item.get("required")),
        "x-source": f"profile:common_parameters.{name}",
    }


def _parameters(op: Operation, profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    version = str(profile["api"]["version"])
    params = [_document_parameter(p, profile, op.action) for p in op.parameters]
    own = {p.name for p in op.parameters}
    params += [
        _common_parameter(item, version)
        for item in profile["common_parameters"]
        if item["name"] not in own
    ]
    return params


def _success_response(op: Operation, profile: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for f in op.response_fields:
        prop: dict[str, Any] = {"type": _TYPES.get(f.type.split(" ")[0].lower(), "string")}
        if f.type.lower() == "boolean":
            prop = {"type": "boolean"}
        prop["description"] = f.description
        if f.example is not None:
            prop["examples"] = [f.example]
        prop["x-document-type"] = f.type
        prop["x-source"] = f"document:{f.line}"
        properties[f.name] = prop
    if "RequestId" not in properties:
        properties["RequestId"] = {"type": "string"}
    schema = {"type": "object", "properties": properties, "required": ["RequestId"]}
    xml_root = str(profile["envelopes"]["success"].get("xml_root", "{Action}Response"))
    xml_root = xml_root.replace("{Action}", op.action)
    json_media: dict[str, Any] = {"schema": schema}
    xml_media: dict[str, Any] = {"schema": {**copy.deepcopy(schema), "xml": {"name": xml_root}}}
    if "JSON" in op.sample_responses:
        try:
            json_media["example"] = json.loads(op.sample_responses["JSON"])
        except ValueError:
            json_media["example"] = op.sample_responses["JSON"]
    if "XML" in op.sample_responses:
        xml_media["example"] = op.sample_responses["XML"]
    return {
        "description": str(profile["envelopes"]["success"]["text"]),
        "content": {"application/json": json_media, "text/xml": xml_media},
    }


def _error_schema(profile: Mapping[str, Any]) -> dict[str, Any]:
    fields = [str(f) for f in profile["envelopes"]["error"]["fields"]]
    return {
        "type": "object",
        "properties": {f: {"type": "string"} for f in fields},
        "required": [f for f in ("RequestId", "Code", "Message") if f in fields],
    }


def _document_entry(row: ErrorRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "message": row.message,
        "description": row.description,
        "dynamic": row.dynamic,
        "source": "document",
        "line": row.line,
    }


def _error_responses(op: Operation, profile: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    entries: dict[int, list[dict[str, Any]]] = {}
    for row in op.errors:
        entries.setdefault(row.http_status, []).append(_document_entry(row))
    dry = profile["dryrun"]
    entries.setdefault(int(dry["http_status"]), []).append(
        {
            "code": str(dry["code"]),
            "message": str(dry["message"]),
            "description": str(dry["text"]),
            "dynamic": False,
            "source": "profile",
            "situation": "dryrun",
        }
    )
    for situation, entry in profile["gateway_errors"].items():
        for v in entry["variants"]:
            entries.setdefault(int(v["http_status"]), []).append(
                {
                    "code": str(v["code"]),
                    "message": str(v["message"]),
                    "description": str(entry.get("text", "")),
                    "dynamic": "{" in str(v["message"]) or "{" in str(v["code"]),
                    "source": "profile",
                    "situation": situation,
                }
            )
    schema = _error_schema(profile)
    envelope = profile["envelopes"]["error"]
    xml_root = str(envelope.get("xml_root", "Error"))
    host_id = str(envelope.get("host_id", ""))
    out: dict[int, dict[str, Any]] = {}
    for status in sorted(entries):
        first = entries[status][0]
        example = {
            "RequestId": _example_request_id(op),
            "HostId": host_id,
            "Code": first["code"],
            "Message": first["message"],
        }
        xml_example = (
            f"<{xml_root}>\n"
            + "".join(f"  <{k}>{_xml_escape(str(v))}</{k}>\n" for k, v in example.items())
            + f"</{xml_root}>"
        )
        codes = ", ".join(dict.fromkeys(e["code"] for e in entries[status]))
        out[status] = {
            "description": f"Error envelope ({codes}). {envelope['text']}",
            "content": {
                "application/json": {"schema": copy.deepcopy(schema), "example": example},
                "text/xml": {
                    "schema": {**copy.deepcopy(schema), "xml": {"name": xml_root}},
                    "example": xml_example,
                },
            },
            "x-error-codes": entries[status],
        }
    return out


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _example_request_id(op: Operation) -> str:
    for f in op.response_fields:
        if f.name == "RequestId" and f.example:
            return f.example
    return ""


def _state_extensions(op: Operation, profile: Mapping[str, Any]) -> dict[str, Any]:
    """x-state-precondition, x-resulting-state, x-locks, x-forced-restart from the bullets.

    Values come from the document's sentences where it states them, else from the profile.
    """
    facts = [classify_bullet(b, op) for b in op.description]
    conditions = {k: v for k, v in profile["conditions"].items() if isinstance(v, dict)}
    lifecycle = profile["lifecycle"]
    out: dict[str, Any] = {}

    pre = next((f for f in facts if f.kind == "state-precondition"), None)
    if pre is None:
        summary_fact = classify_bullet(
            op.summary.replace("an instance that is", "Only instances that are"), op
        )
        if summary_fact.kind == "state-precondition":
            pre = summary_fact
    if pre is not None and pre.value:
        status_error = conditions.get("status_not_running", {}).get("code")
        out["x-state-precondition"] = {"status": pre.value, "error": status_error, "text": pre.text}

    after = next((f for f in facts if f.kind == "state-after-call"), None)
    if after is not None and after.value:
        settle = lifecycle["settle"]
        alternatives = [
            str(s) for s in lifecycle["transient_alternatives"]["statuses"] if s != after.value
        ]
        out["x-resulting-state"] = {
            "status": after.value,
            "settles-to": str(settle.get(after.value, after.value)),
            "alternatives": alternatives,
            "text": after.text,
            "alternatives-text": str(lifecycle["transient_alternatives"]["text"]),
        }

    locks: list[dict[str, Any]] = []
    for f in facts:
        if f.kind == "lock" and f.value:
            error = next((c["code"] for c in conditions.values() if c.get("lock") == f.value), None)
            locks.append({"reason": f.value, "error": error, "text": f.text, "source": "document"})
    for c in conditions.values():
        if "lock" in c and all(lk["reason"] != c["lock"] for lk in locks):
            locks.append(
                {
                    "reason": str(c["lock"]),
                    "error": c["code"],
                    "text": str(c.get("text", "")),
                    "source": "profile",
                }
            )
    out["x-locks"] = locks

    forced = next((f for f in facts if f.kind == "forced-restart"), None)
    if forced is not None and forced.value:
        out["x-forced-restart"] = {"parameter": forced.value, "text": forced.text}
    return out


def _dryrun_extension(op: Operation, profile: Mapping[str, Any]) -> dict[str, Any] | None:
    param = next((p for p in op.parameters if p.name == "DryRun" and p.is_boolean), None)
    if param is None:
        return None
    sentences = dryrun_sentences(param)
    true = next((v for v in param.valid_values if v.value.lower() == "true"), None)
    dry = profile["dryrun"]
    return {
        "parameter": param.name,
        "passes": {
            "code": str(dry["code"]),
            "http-status": int(dry["http_status"]),
            "message": str(dry["message"]),
        },
        "fails": sentences.get("fails-like-the-call", "the error the call would give"),
        "no-side-effects": sentences.get("no-side-effects", ""),
        "text": true.description if true is not None else param.description,
        "profile-text": str(dry["text"]),
    }


def _protocol(profile: Mapping[str, Any]) -> dict[str, Any]:
    skip = {"gateway_errors", "conditions", "profile_version"}
    return {k: copy.deepcopy(v) for k, v in profile.items() if k not in skip}


def build_openapi(
    op: Operation,
    profile: Mapping[str, Any],
    *,
    document_sha256: str,
    profile_sha256: str,
    document: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 description of `op` merged with `profile` (see module docstring)."""
    version = str(profile["api"]["version"])
    info: dict[str, Any] = {
        "title": f"ECS {op.action}",
        "version": version,
        "description": op.summary,
        "x-document-sha256": document_sha256,
        "x-profile-sha256": profile_sha256,
        "x-profile-version": profile.get("profile_version"),
    }
    if document is not None:
        info["x-document"] = document

    parameters = _parameters(op, profile)
    responses: dict[str, Any] = {"200": _success_response(op, profile)}
    for status, response in _error_responses(op, profile).items():
        responses[str(status)] = response

    extensions: dict[str, Any] = {"x-action": op.action, "x-api-version": version}
    if op.sample_requests:
        # As printed, placeholders such as `<Common request parameters>` included.
        extensions["x-sample-requests"] = list(op.sample_requests)
    extensions.update(_state_extensions(op, profile))
    dryrun = _dryrun_extension(op, profile)
    if dryrun is not None:
        extensions["x-dryrun"] = dryrun
    extensions["x-conditions"] = {
        name: str(c["code"]) for name, c in profile["conditions"].items() if isinstance(c, dict)
    }
    extensions["x-gateway-errors"] = {
        situation: [
            {
                "code": str(v["code"]),
                "http_status": int(v["http_status"]),
                "message": str(v["message"]),
            }
            for v in entry["variants"]
        ]
        for situation, entry in profile["gateway_errors"].items()
    }
    extensions["x-protocol"] = _protocol(profile)

    form_schema = {
        "type": "object",
        "properties": {p["name"]: copy.deepcopy(p["schema"]) for p in parameters},
    }
    operations: dict[str, Any] = {}
    for method in ("get", "post"):
        if method.upper() not in [str(m).upper() for m in profile["api"]["methods"]]:
            continue
        operation: dict[str, Any] = {
            "operationId": f"{op.action}{method.capitalize()}",
            "summary": op.summary,
            "description": "\n".join(f"- {b}" for b in op.description),
            "parameters": copy.deepcopy(parameters),
        }
        if method == "post":
            operation["requestBody"] = {
                "required": False,
                "description": "The same parameters may travel in a form body; the server merges "
                "them with the query (docs/protocol.md#transport).",
                "content": {
                    "application/x-www-form-urlencoded": {"schema": copy.deepcopy(form_schema)}
                },
            }
        operation["responses"] = copy.deepcopy(responses)
        operation.update(copy.deepcopy(extensions))
        operations[method] = operation

    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "servers": [{"url": str(profile["api"]["endpoint"])}],
        "paths": {str(profile["api"].get("path", "/")): operations},
    }
