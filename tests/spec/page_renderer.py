"""Render an `Operation` model as a reference page, and hypothesis strategies for such models.

The renderer writes the plain-text format of `spec/source/RebootInstance.txt`, so that a parsed
page can be compared with the model it came from (tests/spec/test_document.py).
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from conformance.spec.document import (
    ERROR_TABLE_HEADER,
    REQUEST_TABLE_HEADER,
    RESPONSE_TABLE_HEADER,
)
from conformance.spec.model import ErrorRow, Operation, Parameter, ResponseField, ValidValue

__all__ = ["operations", "render_page"]


def _render_parameter(p: Parameter, *, tight: bool) -> list[str]:
    row = f"{p.name} {p.position} {p.type} {'Yes' if p.required else 'No'}"
    if p.example is not None:
        row = f"{row} {p.example}"
    lines = [row, ""]
    paragraphs = p.description.split("\n\n") if p.description else []
    for n, para in enumerate(paragraphs):
        lines.append(para)
        if para.endswith("Valid values:") and p.valid_values:
            lines.append("")
            lines += [f"  • {v.value}: {v.description}" for v in p.valid_values]
            # the real page puts the next row right under the last bullet (RebootInstance.txt:31)
            if tight and n == len(paragraphs) - 1:
                return lines
        lines.append("")
    return lines


def render_page(op: Operation, *, tight: bool = False) -> str:
    """The page text of `op`; `tight` omits the blank line after a final valid-value list."""
    out = [op.summary, "", "Description", ""]
    out += [f"  • {b}" for b in op.description]
    out += [
        "",
        "Debugging",
        "",
        "OpenAPI Explorer automatically calculates the signature value.",
        "",
    ]
    out += ["Request parameters", "", REQUEST_TABLE_HEADER]
    for p in op.parameters:
        out += _render_parameter(p, tight=tight)
    out += ["Response parameters", "", RESPONSE_TABLE_HEADER]
    for f in op.response_fields:
        row = f"{f.name} {f.type}" + (f" {f.example}" if f.example is not None else "")
        out += [row, "", f.description, ""]
    out += ["Examples", "", "Sample requests", ""]
    for r in op.sample_requests:
        out += [r, ""]
    out += ["Sample success responses", ""]
    for fmt, title in (("XML", "XML format"), ("JSON", "JSON format")):
        if fmt in op.sample_responses:
            out += [title, "", op.sample_responses[fmt], ""]
    out += ["Error codes", "", ERROR_TABLE_HEADER]
    for e in op.errors:
        out.append(f"{e.http_status} {e.code} {e.message} {e.description}".rstrip())
    out += ["", "For a list of error codes, visit the API Error Center."]
    return "\n".join(out)


# -- strategies ---------------------------------------------------------------------------------
_WORDS = [
    "instance",
    "request",
    "value",
    "disk",
    "region",
    "resource",
    "check",
    "state",
    "zone",
    "billing",
    "node",
    "cache",
    "network",
    "image",
    "snapshot",
    "policy",
    "quota",
    "limit",
    "account",
    "owner",
    "data",
    "storage",
    "flag",
    "mode",
]
_word = st.sampled_from(_WORDS)


def _sentence(first: str = "The") -> st.SearchStrategy[str]:
    return st.lists(_word, min_size=2, max_size=8).map(lambda ws: f"{first} {' '.join(ws)}.")


_token = st.from_regex(r"[A-Za-z0-9*-]{1,12}", fullmatch=True)
_name = st.from_regex(r"[A-Z][a-z]{2,8}(?:[A-Z][a-z]{1,6}){0,2}", fullmatch=True)
_type = st.sampled_from(["String", "Boolean", "Integer", "Long", "Array of String", "Float"])


@st.composite
def _parameter(draw: st.DrawFn, name: str) -> Parameter:
    ptype = draw(_type)
    example = draw(st.none() | st.lists(_token, min_size=1, max_size=3).map(" ".join))
    lead = draw(_sentence("Specifies"))
    default = draw(st.none() | st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True))
    values: tuple[ValidValue, ...] = ()
    if draw(st.booleans()):
        names = draw(
            st.lists(
                st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        values = tuple(
            ValidValue(
                v, draw(st.lists(_word, min_size=1, max_size=6).map(lambda ws: " ".join(ws) + "."))
            )
            for v in names
        )
    first = lead
    if default is not None:
        first = f"{first} Default value: {default}."
    if values:
        first = f"{first} Valid values:"
    paragraphs = [first]
    if draw(st.booleans()):
        paragraphs.append(draw(_sentence()))
    return Parameter(
        name=name,
        position=draw(st.sampled_from(["Query", "Body"])),
        type=ptype,
        required=draw(st.booleans()),
        example=example,
        description="\n\n".join(paragraphs),
        default=default,
        valid_values=values,
    )


# How descriptions open in Alibaba Cloud error tables (independent of the parser's own list).
_OPENINGS = (
    "The error message returned",
    "The error code returned",
    "The error message is returned",
    "The operation failed",
    "This error is returned",
)
_code = st.from_regex(r"[A-Z][a-z]{2,10}(?:\.[A-Z][A-Za-z]{2,10}){0,2}", fullmatch=True)


@st.composite
def _error(draw: st.DrawFn, codes: list[str]) -> ErrorRow:
    status = draw(st.sampled_from([400, 403, 404, 409, 500, 503]))
    code = draw(st.sampled_from(codes))
    opener = draw(st.sampled_from([*_OPENINGS, None]))
    if opener is None:
        # no recognised opening: the message is one sentence, the description follows it
        message = draw(st.just("%s") | _sentence())
        description = draw(_sentence("Check"))
    else:
        parts = draw(st.lists(_sentence() | _sentence("Specified %s"), min_size=1, max_size=2))
        message = draw(st.just("%s") | st.just(" ".join(parts)))
        description = (
            f"{opener} because " + draw(st.lists(_word, min_size=1, max_size=8).map(" ".join)) + "."
        )
    return ErrorRow(status, code, message, description)


@st.composite
def operations(draw: st.DrawFn) -> Operation:
    """A random but well-formed operation model (line numbers left at 0)."""
    action = draw(_name.map(lambda n: n + "Instance"))
    names = draw(
        st.lists(_name, min_size=1, max_size=6, unique=True).filter(lambda ns: "Action" not in ns)
    )
    params = [
        Parameter(
            name="Action",
            position="Query",
            type="String",
            required=True,
            example=action,
            description=f"The operation that you want to perform. Set the value to {action}.",
        )
    ] + [draw(_parameter(n)) for n in names]
    request_id = draw(st.uuids()).hex.upper()
    fields = [ResponseField("RequestId", "String", request_id, "The ID of the request.")]
    codes = draw(st.lists(_code, min_size=1, max_size=4, unique=True))
    errors = draw(st.lists(_error(codes), min_size=1, max_size=8))
    bullets = draw(st.lists(_sentence("Only"), min_size=0, max_size=3))
    query = "\n".join(
        f"&{p.name}={p.example}" for p in params[1:] if p.example and " " not in p.example
    )
    sample = f"https://ecs.aliyuncs.com/?Action={action}" + (f"\n{query}" if query else "")
    return Operation(
        action=action,
        summary=draw(_sentence("You can call this operation to")),
        description=tuple(bullets) or (draw(_sentence()),),
        parameters=tuple(params),
        response_fields=tuple(fields),
        sample_requests=(sample,),
        sample_responses={
            "XML": (
                f"<{action}Response>\n      <RequestId>{request_id}</RequestId>\n"
                f"</{action}Response>"
            ),
            "JSON": json.dumps({"RequestId": request_id}, indent=4),
        },
        errors=tuple(errors),
    )
