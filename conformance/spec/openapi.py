"""Turn a parsed operation and the protocol profile into an OpenAPI 3.1 description.

Layout (docs/architecture.md#the-spec-pipeline; other modules read these names): one path `/` with
`get` and `post`, all parameters in the query (POST also accepts them as a form body), responses per
HTTP status with `x-error-codes`, and operation extensions `x-action`, `x-api-version`,
`x-state-precondition`, `x-resulting-state`, `x-locks`, `x-forced-restart`, `x-dryrun`,
`x-instance-id`, `x-conditions`, `x-gateway-errors`, `x-protocol`. Everything is inlined (no
`$ref`) so readers need no resolver.

Types are the document's, as OpenAPI states them (`document_type_schema`): String `string`,
Integer `integer`/int32, Long `integer`/int64, Boolean `boolean`, Float and Double `number`,
Array `array` (sent as a repeat list, `x-style: repeatList`), a String holding JSON
`contentMediaType: application/json`. So a client generator gives a Boolean parameter a bool,
and the standard form serialisation puts `true`/`false` on the wire. What a server must also
accept (official clients send `True`/`False`, docs/protocol.md#booleans) is in the Boolean schema's
`x-wire-booleans` (`true` and `false` spellings, `case-insensitive`), which the suites, the
schemathesis harness and the emulator read; likewise a case-insensitive enumeration (`Format`)
is a pattern (`[Jj][Ss][Oo][Nn]`...) with `x-case-insensitive`, the forms SDKs send in
`x-wire-values`.
`x-document-type` keeps the type as printed.

Every expected answer says where its parts come from: `provenance` (the profile tag of its code
and status, `doc` for the document's rows) and `message` only where a source gives the text
(with `message_provenance`); `emulator_message` is what the reference emulator sends.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from conformance.spec.catalogue import classify_bullet, dryrun_sentences
from conformance.spec.facts import accepted_spellings
from conformance.spec.model import ErrorRow, Operation, Parameter
from conformance.spec.profile import PROFILE_VERSION, EffectiveProfile

__all__ = [
    "AUTH_PARAMETERS",
    "OPENAPI_VERSION",
    "REPEAT_LIST",
    "build_openapi",
    "case_insensitive_pattern",
    "document_type_schema",
    "dump_yaml",
    "parameter_schema",
    "wire_booleans",
]

OPENAPI_VERSION = "3.1.0"

# Common parameters that the signing hook adds to every request (docs/protocol.md#common-parameters,
# docs/protocol.md#signature-v2): optional in the schema so generated cases need not carry them;
# the wire still requires them.
AUTH_PARAMETERS = (
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "SecurityToken",
)

# The official metadata's word for a list sent as `Name.1=...&Name.2=...`.
REPEAT_LIST = "repeatList"
JSON_MEDIA_TYPE = "application/json"

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "float": {"type": "number", "format": "float"},
    "double": {"type": "number", "format": "double"},
    "number": {"type": "number"},
}
# Structured types: a real object in a response body; in a query, JSON text in one parameter.
_STRUCTURED = ("object", "map", "json")
_ARRAY_PREFIX = "array of "


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


def wire_booleans(profile: EffectiveProfile) -> dict[str, Any]:
    """`x-wire-booleans`: the spellings of true and false a server must accept.

    The forms official clients send (`booleans.sent_by`) come first, in the profile's order,
    then the lower-case, capitalised and upper-case forms of the profile's words.
    """
    booleans = profile["booleans"]
    out: dict[str, Any] = {}
    for index, word in enumerate((str(booleans["true"]), str(booleans["false"]))):
        sent = tuple(str(pair[index]) for pair in booleans["sent_by"].values())
        out[word] = list(accepted_spellings(word, sent))
    out["case-insensitive"] = bool(booleans.get("case_insensitive", False))
    out["source"] = f"profile:{profile.locate('booleans')}"
    return out


def document_type_schema(doc_type: str, *, in_query: bool = True) -> dict[str, Any]:
    """JSON Schema of a type as the document prints it (`String`, `Array of Integer`, ...).

    In a query (`in_query`), a structured value (Object, Map, Json) is JSON text in one
    parameter; in a response body it is an object. Unknown names are strings.
    """
    name = " ".join(doc_type.split())
    low = name.lower()
    if low.startswith(_ARRAY_PREFIX):
        return {
            "type": "array",
            "items": document_type_schema(name[len(_ARRAY_PREFIX) :], in_query=False),
        }
    if low in ("array", "repeatlist"):
        return {"type": "array", "items": {"type": "string"}}
    if low in _STRUCTURED:
        if in_query:
            return {"type": "string", "contentMediaType": JSON_MEDIA_TYPE}
        return {"type": "object"}
    return dict(_SCALARS.get(low.split(" ")[0], {"type": "string"}))


def _typed(text: str, schema: Mapping[str, Any]) -> Any:
    """A document value (default, example, valid value) in its schema's type, when it converts
    back to the same text; otherwise the text as printed."""
    kind = schema.get("type")
    value: Any = text
    try:
        if kind == "boolean" and text.lower() in ("true", "false"):
            value = text.lower() == "true"
        elif kind == "integer":
            value = int(text)
        elif kind == "number":
            value = float(text)
    except ValueError:
        return text
    return value if _text(value) == text else text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _holds_json(p: Parameter) -> bool:
    """A String parameter whose value is JSON text (DescribeInstances' InstanceIds)."""
    example = (p.example or "").lstrip()
    return "JSON" in p.description and example[:1] in ("[", "{")


def parameter_schema(p: Parameter, profile: EffectiveProfile) -> dict[str, Any]:
    """JSON Schema of one document parameter, typed as the document states it."""
    schema = document_type_schema(p.type)
    if schema["type"] == "string" and _holds_json(p):
        schema["contentMediaType"] = JSON_MEDIA_TYPE
    if p.valid_values and schema["type"] not in ("boolean", "array"):
        schema["enum"] = [_typed(v.value, schema) for v in p.valid_values]
    if p.default is not None:
        schema["default"] = _typed(p.default, schema)
    if schema["type"] == "boolean":
        schema["x-wire-booleans"] = wire_booleans(profile)
    schema["x-document-type"] = p.type
    return schema


def _document_parameter(p: Parameter, profile: EffectiveProfile, action: str) -> dict[str, Any]:
    schema = parameter_schema(p, profile)
    out: dict[str, Any] = {
        "name": p.name,
        "in": "query",
        "required": p.required,
        "description": p.description,
        "schema": schema,
    }
    if p.name == "Action":
        out["schema"]["enum"] = [action]
    if p.example is not None:
        out["example"] = _typed(p.example, schema)
    if schema["type"] == "array":
        arrays = profile.get("arrays") or {}
        out["x-style"] = str(arrays.get("style", REPEAT_LIST))
    out["x-position"] = p.position
    out["x-valid-values"] = [
        {"value": v.value, "description": v.description} for v in p.valid_values
    ]
    out["x-source"] = f"document:{p.line}"
    return out


def case_insensitive_pattern(values: list[str]) -> str:
    """An ECMA-262 pattern matching each of `values` in any letter case (`[Jj][Ss]...`)."""

    def letters(value: str) -> str:
        return "".join(
            f"[{c.upper()}{c.lower()}]" if c.isalpha() and c.upper() != c.lower() else re.escape(c)
            for c in value
        )

    return "^(?:" + "|".join(letters(v) for v in values) + ")$"


def _common_parameter(item: Mapping[str, Any], version: str) -> dict[str, Any]:
    name = str(item["name"])
    schema: dict[str, Any] = {"type": "string"}
    if "value" in item:
        schema["enum"] = [str(item["value"])]
    if "enum" in item:
        values = [str(v) for v in item["enum"]]
        if item.get("case_insensitive"):
            # Any letter case is the value (JSON Schema has no case-insensitive enum): a
            # pattern says so exactly; the wire forms SDKs send are listed for generators.
            schema["pattern"] = case_insensitive_pattern(values)
            schema["examples"] = values
            schema["x-case-insensitive"] = True
            schema["x-wire-values"] = list(dict.fromkeys(values + [v.lower() for v in values]))
        else:
            schema["enum"] = values
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
        "x-source": f"profile:shared.common_parameters.{name}",
    }


def _parameters(op: Operation, profile: EffectiveProfile) -> list[dict[str, Any]]:
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
        prop: dict[str, Any] = document_type_schema(f.type, in_query=False)
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
        "provenance": "doc",
        "message_provenance": "doc",
    }


def gateway_variant(variant: Mapping[str, Any], tag: str) -> dict[str, Any]:
    """One `x-gateway-errors` variant: code and status with their provenance, the message a
    check may compare (None where no source gives one) and the emulator's own text."""
    message = variant.get("message")
    return {
        "code": str(variant["code"]),
        "http_status": int(variant["http_status"]),
        "provenance": tag,
        "message": None if message is None else str(message),
        "message_provenance": str(variant["message_tag"]) if message is not None else "emulator",
        "emulator_message": str(variant["emulator_message"]),
    }


def _gateway_variants(profile: EffectiveProfile) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for situation, entry in profile["gateway_errors"].items():
        tag = _tag(profile, f"gateway_errors.{situation}")
        out[situation] = [gateway_variant(v, tag) for v in entry["variants"]]
    return out


def _tag(profile: EffectiveProfile, key: str) -> str:
    """The provenance tag of `key` (the profile's shape check makes sure there is one)."""
    tag = profile.tag(key)
    if tag is None:
        raise ValueError(f"the profile gives no provenance tag for {key!r}")
    return tag


def _error_responses(op: Operation, profile: EffectiveProfile) -> dict[int, dict[str, Any]]:
    entries: dict[int, list[dict[str, Any]]] = {}
    for row in op.errors:
        entries.setdefault(row.http_status, []).append(_document_entry(row))
    dry = profile["dryrun"]
    dry_tag = _tag(profile, "dryrun")
    entries.setdefault(int(dry["http_status"]), []).append(
        {
            "code": str(dry["code"]),
            "message": str(dry["message"]),
            "description": str(dry["text"]),
            "dynamic": False,
            "source": "profile",
            "situation": "dryrun",
            "provenance": dry_tag,
            "message_provenance": dry_tag,
        }
    )
    for situation, variants in _gateway_variants(profile).items():
        text = str(profile["gateway_errors"][situation].get("text", ""))
        for v in variants:
            shown = v["message"] if v["message"] is not None else v["emulator_message"]
            entries.setdefault(v["http_status"], []).append(
                {
                    "code": v["code"],
                    "message": v["message"],
                    "emulator_message": v["emulator_message"],
                    "description": text,
                    "dynamic": "{" in shown or "%s" in shown or "{" in v["code"],
                    "source": "profile",
                    "situation": situation,
                    "provenance": v["provenance"],
                    "message_provenance": v["message_provenance"],
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
            "Message": first["message"]
            if first["message"] is not None
            else first["emulator_message"],
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


def _conditions(profile: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The operation's arrangeable conditions (its profile entry); none for other pages."""
    return {k: v for k, v in (profile.get("conditions") or {}).items() if isinstance(v, dict)}


def _state_extensions(op: Operation, profile: Mapping[str, Any]) -> dict[str, Any]:
    """x-state-precondition, x-resulting-state, x-locks, x-forced-restart from the bullets.

    Values come from the document's sentences where it states them, else from the profile.
    """
    facts = [classify_bullet(b, op) for b in op.description]
    conditions = _conditions(profile)
    lifecycle = profile.get("lifecycle") or {}
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
        settle = lifecycle.get("settle") or {}
        transient = lifecycle.get("transient_alternatives") or {}
        alternatives = [str(s) for s in transient.get("statuses") or () if s != after.value]
        resulting: dict[str, Any] = {
            "status": after.value,
            "settles-to": str(settle.get(after.value, after.value)),
            "alternatives": alternatives,
            "text": after.text,
        }
        if transient.get("text"):
            resulting["alternatives-text"] = str(transient["text"])
        out["x-resulting-state"] = resulting

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


def _dryrun_extension(op: Operation, profile: EffectiveProfile) -> dict[str, Any] | None:
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
            "provenance": _tag(profile, "dryrun"),
        },
        "fails": sentences.get("fails-like-the-call", "the error the call would give"),
        "no-side-effects": sentences.get("no-side-effects", ""),
        "text": true.description if true is not None else param.description,
        "profile-text": str(dry["text"]),
    }


def _instance_extension(op: Operation) -> dict[str, Any] | None:
    """`x-instance-id`: the required parameter that names the instance the call acts on."""
    for p in op.parameters:
        if p.name == "Action" or not p.required or p.type.lower() != "string":
            continue
        if p.name.endswith("InstanceId") or p.description.startswith("The ID of the instance"):
            return {"parameter": p.name, "text": p.description}
    return None


def _protocol(op: Operation, profile: Mapping[str, Any]) -> dict[str, Any]:
    """`x-protocol`: the operation's merged profile, less what other extensions carry; the
    tolerated names that are the operation's own parameters are left out."""
    skip = {"gateway_errors", "conditions"}
    out = {k: copy.deepcopy(v) for k, v in profile.items() if k not in skip}
    own = {p.name for p in op.parameters}
    tolerated = out.get("tolerated_parameters")
    if isinstance(tolerated, dict):
        tolerated["names"] = [n for n in tolerated.get("names", []) if n not in own]
    return out


def build_openapi(
    op: Operation,
    profile: EffectiveProfile,
    *,
    document_sha256: str,
    profile_sha256: str,
    document: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 description of `op` merged with `profile` (see module docstring).

    `profile` is the operation's `EffectiveProfile` (`load_profile().for_action(action)`).
    """
    version = str(profile["api"]["version"])
    info: dict[str, Any] = {
        "title": f"ECS {op.action}",
        "version": version,
        "description": op.summary,
        "x-document-sha256": document_sha256,
        "x-profile-sha256": profile_sha256,
        "x-profile-version": PROFILE_VERSION,
        "x-profile-layers": list(profile.layer_names),
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
    instance = _instance_extension(op)
    if instance is not None:
        extensions["x-instance-id"] = instance
    extensions.update(_state_extensions(op, profile))
    dryrun = _dryrun_extension(op, profile)
    if dryrun is not None:
        extensions["x-dryrun"] = dryrun
    extensions["x-conditions"] = {name: str(c["code"]) for name, c in _conditions(profile).items()}
    extensions["x-gateway-errors"] = _gateway_variants(profile)
    extensions["x-protocol"] = _protocol(op, profile)

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
