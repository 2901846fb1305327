"""JSON and XML response bodies: success and error envelopes, `ApiError`, `WireResponse`.

The envelope facts (content types, error fields, XML roots, HostId, Recommend template, request
id header) are read from the spec's typed profile (`Spec.profile`, built from the OpenAPI
`x-protocol`); none is typed here (docs/protocol.md#responses).
"""

from __future__ import annotations

import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any
from xml.sax.saxutils import escape

from conformance.spec.facts import Profile
from conformance.spec.model import ErrorVariant

__all__ = [
    "ApiError",
    "Envelopes",
    "ResponseFormat",
    "WireResponse",
    "new_request_id",
    "parse_response",
]

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


class ResponseFormat(StrEnum):
    """The two response formats of the `Format` parameter (docs/protocol.md#common-parameters)."""

    JSON = "JSON"
    XML = "XML"

    @classmethod
    def parse(cls, value: str) -> ResponseFormat | None:
        """Case-insensitive lookup (`json` is sent by some SDKs); None when unknown."""
        return _FORMATS.get(value.upper())


_FORMATS = {f.value: f for f in ResponseFormat}


class ApiError(Exception):
    """An error answer on the wire: HTTP status, `Code`, `Message`, optional extra headers.

    `fmt` is the response format the request asked for, when the raiser knows it (the gateway
    sets it so that errors found before `Format` is validated still honour it).

    >>> e = ApiError(400, "MissingInstanceId", "InstanceId is mandatory for this action.")
    >>> e.http_status, e.code
    (400, 'MissingInstanceId')
    """

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        fmt: ResponseFormat | None = None,
    ) -> None:
        super().__init__(f"{http_status} {code}: {message}")
        self.http_status = http_status
        self.code = code
        self.message = message
        self.headers: Mapping[str, str] = dict(headers or {})
        self.fmt = fmt

    @classmethod
    def from_variant(
        cls,
        variant: ErrorVariant,
        *,
        headers: Mapping[str, str] | None = None,
        fmt: ResponseFormat | None = None,
    ) -> ApiError:
        """The error of one (already rendered) `ErrorVariant`."""
        return cls(
            variant.http_status, variant.code, variant.emulator_message, headers=headers, fmt=fmt
        )


def new_request_id() -> str:
    """A RequestId like the document's examples: an upper-case hyphenated UUID4.

    >>> import uuid; uuid.UUID(new_request_id()).version
    4
    """
    # What uuid.uuid4() makes, spelled directly: ~2.5x cheaper, and one is made per request.
    h = os.urandom(16).hex().upper()
    variant = _UUID_VARIANT[int(h[16], 16) & 3]  # RFC 4122: the top bits of byte 8 are 10
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


_UUID_VARIANT = "89AB"


# Characters XML 1.0 forbids even escaped; a message echoing client text must not break the body.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Where a request id goes in an error template: random, so no message can contain it.
_REQUEST_ID_SLOT = uuid.uuid4().hex
_MAX_ERROR_TEMPLATES = 1024
_PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9-]*")

# One encoder for every answer: json.dumps with non-default options builds a new one per call,
# a measurable share of the emulator's per-request cost.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _xml_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_XML_FORBIDDEN.sub("\ufffd", str(value)))


def _xml_elements(fields: Mapping[str, object], out: list[str]) -> None:
    for key, value in fields.items():
        items = value if isinstance(value, list | tuple) else (value,)
        for item in items:
            out.append(f"<{key}>")
            if isinstance(item, Mapping):
                _xml_elements(item, out)
            else:
                out.append(_xml_value(item))
            out.append(f"</{key}>")


@dataclass(frozen=True)
class Envelopes:
    """Renders success and error bodies from the profile's envelope facts.

    Build it with `Envelopes.from_profile(spec.profile)`.
    """

    content_types: Mapping[ResponseFormat, str]
    error_fields: tuple[str, ...]
    error_xml_root: str
    host_id: str
    recommend: str
    success_xml_root: str  # a template with `{Action}`
    request_id_header: str
    # Rendered error bodies split where the request id goes, per (code, message, format): a
    # DryRun or a refusal is then a join, not a fresh encoding (the emulator's hot path).
    _error_templates: dict[tuple[str, str, ResponseFormat], list[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_profile(cls, profile: Profile) -> Envelopes:
        """The envelope and format facts of a typed profile (`Spec.profile`)."""
        e = profile.envelopes
        return cls(
            content_types={f: profile.formats.content_type(f.value) for f in ResponseFormat},
            error_fields=e.error_fields,
            error_xml_root=e.error_xml_root,
            host_id=e.host_id,
            recommend=e.recommend,
            success_xml_root=e.success_xml_root,
            request_id_header=e.request_id_header,
        )

    def content_type(self, fmt: ResponseFormat) -> str:
        """The Content-Type official clients parse for `fmt`."""
        return self.content_types[fmt]

    def _render(self, root: str, fields: Mapping[str, object], fmt: ResponseFormat) -> bytes:
        if fmt is ResponseFormat.JSON:
            return _encode_json(fields).encode("utf-8")
        out = [_XML_DECLARATION, f"<{root}>"]
        _xml_elements(fields, out)
        out.append(f"</{root}>")
        return "".join(out).encode("utf-8")

    def render_success(
        self, action: str, fields: Mapping[str, object], fmt: ResponseFormat
    ) -> tuple[bytes, str]:
        """`(body, content type)` of a success answer; XML root `<{Action}Response>`.

        Nested mappings become elements; a list under a key repeats that key's element.
        """
        root = self.success_xml_root.replace("{Action}", action)
        return self._render(root, fields, fmt), self.content_types[fmt]

    def error_fields_for(self, error: ApiError, request_id: str) -> dict[str, str]:
        """The error envelope's fields, in the profile's order."""
        values = {
            "RequestId": request_id,
            "HostId": self.host_id,
            "Code": error.code,
            "Message": error.message,
            "Recommend": self.recommend.replace("{Code}", error.code).replace(
                "{RequestId}", request_id
            ),
        }
        return {name: values.get(name, "") for name in self.error_fields}

    def render_error(
        self, error: ApiError, fmt: ResponseFormat, request_id: str
    ) -> tuple[bytes, str]:
        """`(body, content type)` of an error answer: flat JSON, or XML root `<Error>`."""
        if not _PLAIN_REQUEST_ID.fullmatch(request_id):
            # Only ids that need no escaping may be spliced into a template.
            fields = self.error_fields_for(error, request_id)
            return self._render(self.error_xml_root, fields, fmt), self.content_types[fmt]
        key = (error.code, error.message, fmt)
        parts = self._error_templates.get(key)
        if parts is None:
            fields = self.error_fields_for(error, _REQUEST_ID_SLOT)
            parts = (
                self._render(self.error_xml_root, fields, fmt)
                .decode("utf-8")
                .split(_REQUEST_ID_SLOT)
            )
            if len(self._error_templates) >= _MAX_ERROR_TEMPLATES:
                self._error_templates.clear()  # messages that echo client text must not pile up
            self._error_templates[key] = parts
        return request_id.join(parts).encode("utf-8"), self.content_types[fmt]


def _element_to_value(element: ET.Element) -> object:
    children = list(element)
    if not children:
        return element.text or ""
    out: dict[str, object] = {}
    for child in children:
        value = _element_to_value(child)
        if child.tag in out:
            existing = out[child.tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[child.tag] = [existing, value]
        else:
            out[child.tag] = value
    return out


@dataclass(frozen=True)
class _Parsed:
    fmt: ResponseFormat | None
    data: dict[str, Any] | None
    root: str | None
    error: str | None


@dataclass(frozen=True)
class WireResponse:
    """An HTTP answer as a server target gives it; the body is parsed lazily and never raises.

    `headers` have lower-case names. `format` is what the Content-Type declares, else what the
    body looks like; `data` is the JSON object, or the XML root's children as a dict (repeated
    elements become lists); `parse_error` says why `data` is None.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    request_id_header: str | None = field(default=None, repr=False)  # None: body only

    @property
    def content_type(self) -> str | None:
        """The Content-Type header as sent, or None."""
        return self.headers.get("content-type")

    @cached_property
    def _parsed(self) -> _Parsed:
        ctype = (self.content_type or "").lower()
        fmt: ResponseFormat | None = None
        if "json" in ctype:
            fmt = ResponseFormat.JSON
        elif "xml" in ctype:
            fmt = ResponseFormat.XML
        else:
            head = self.body.lstrip()[:1]
            fmt = {b"{": ResponseFormat.JSON, b"<": ResponseFormat.XML}.get(head)
        if not self.body.strip():
            return _Parsed(fmt, None, None, "empty body")
        if fmt is ResponseFormat.JSON:
            try:
                obj = json.loads(self.body)
            except (ValueError, RecursionError) as exc:
                return _Parsed(fmt, None, None, f"invalid JSON: {exc}")
            if not isinstance(obj, dict):
                return _Parsed(fmt, None, None, f"JSON body is a {type(obj).__name__}")
            return _Parsed(fmt, obj, None, None)
        if fmt is ResponseFormat.XML:
            try:
                root = ET.fromstring(self.body)
            except (ET.ParseError, ValueError, RecursionError) as exc:
                return _Parsed(fmt, None, None, f"invalid XML: {exc}")
            value = _element_to_value(root)
            data = value if isinstance(value, dict) else {}
            return _Parsed(fmt, data, root.tag, None)
        return _Parsed(None, None, None, f"unknown body format (Content-Type {ctype or 'absent'})")

    @property
    def format(self) -> ResponseFormat | None:
        """JSON or XML (declared by Content-Type, else sniffed), or None."""
        return self._parsed.fmt

    @property
    def data(self) -> dict[str, Any] | None:
        """The parsed body as a dict, or None (then `parse_error` says why)."""
        return self._parsed.data

    @property
    def xml_root(self) -> str | None:
        """The XML root element's tag (e.g. `Error`), for XML bodies."""
        return self._parsed.root

    @property
    def parse_error(self) -> str | None:
        """Why the body could not be read as a JSON object or an XML document, or None."""
        return self._parsed.error

    def _field(self, name: str) -> str | None:
        data = self._parsed.data
        if data is None:
            return None
        value = data.get(name)
        return value if isinstance(value, str) else None

    @property
    def code(self) -> str | None:
        """The body's `Code`, or None."""
        return self._field("Code")

    @property
    def message(self) -> str | None:
        """The body's `Message`, or None."""
        return self._field("Message")

    @property
    def host_id(self) -> str | None:
        """The body's `HostId`, or None."""
        return self._field("HostId")

    @property
    def request_id(self) -> str | None:
        """The body's `RequestId`, else the request id header, else None."""
        from_body = self._field("RequestId")
        if from_body or self.request_id_header is None:
            return from_body
        return self.headers.get(self.request_id_header)

    def describe(self, elapsed_s: float, *, shown: int = 1500) -> list[str]:
        """The answer as evidence lines (`< HTTP 403 (2.1 ms)`, its headers, the first `shown`
        bytes of the body), as every report shows an exchange."""
        lines = [f"< HTTP {self.status}   ({elapsed_s * 1000:.1f} ms)"]
        lines += [f"< {k}: {v}" for k, v in self.headers.items()]
        text = self.body[:shown].decode("utf-8", "replace")
        if len(self.body) > shown:
            text += f" [... {len(self.body)} bytes]"
        lines.append("< " + text)
        return lines


def parse_response(
    status: int,
    headers: Mapping[str, str] | Any,
    body: bytes,
    *,
    request_id_header: str | None = None,
) -> WireResponse:
    """Build a `WireResponse`, lower-casing header names (`headers` may be any mapping or a list
    of pairs). `request_id_header` (`Spec.profile.envelopes.request_id_header`) is where the
    request id is looked for when the body has none."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {str(k).lower(): str(v) for k, v in items}
    header = None if request_id_header is None else request_id_header.lower()
    return WireResponse(status, lowered, body, header)
