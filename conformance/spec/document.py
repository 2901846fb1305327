"""Read an Alibaba Cloud API reference page (plain-text form) into a `model.Operation`.

The format is the one of `spec/source/RebootInstance.txt` (docs/architecture.md#the-spec-pipeline):
a summary sentence, titled sections (`Description`, `Request parameters`, `Response parameters`,
`Examples`, `Error codes`, plus prose sections such as `Debugging` that are skipped), each table
introduced by its exact header line. The parser knows no OpenAPI and no profile: it only reads the
page. Anything it cannot read raises `SpecError` naming the 1-based line and what was expected
there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import SpecError
from conformance.spec.model import ErrorRow, Operation, Parameter, ResponseField, ValidValue

__all__ = [
    "ERROR_TABLE_HEADER",
    "REQUEST_TABLE_HEADER",
    "RESPONSE_TABLE_HEADER",
    "parse_document",
    "read_document",
    "split_error_text",
]

REQUEST_TABLE_HEADER = "Parameter Position Type Required Example Description"
RESPONSE_TABLE_HEADER = "Parameter Type Example Description"
ERROR_TABLE_HEADER = "HTTP status code Error code Error message Description"

# Section titles the parser knows. Any other title (e.g. `Debugging`) is prose and skipped.
_DESCRIPTION = "Description"
_REQUEST = "Request parameters"
_RESPONSE = "Response parameters"
_EXAMPLES = "Examples"
_SAMPLE_REQUESTS = "Sample requests"
_SAMPLE_RESPONSES = "Sample success responses"
_XML = "XML format"
_JSON = "JSON format"
_ERRORS = "Error codes"
_TITLES = (
    _DESCRIPTION,
    _REQUEST,
    _RESPONSE,
    _EXAMPLES,
    _SAMPLE_REQUESTS,
    _SAMPLE_RESPONSES,
    _XML,
    _JSON,
    _ERRORS,
)

# Parameter positions used by Alibaba Cloud references (RPC and ROA pages).
_POSITIONS = ("Query", "Body", "Path", "Header", "Host", "FormData", "Formdata", "Form")
_BULLET = "•"
_NAME = r"[A-Za-z][A-Za-z0-9_.\-]*"
_ROW_START = re.compile(rf"^(?P<name>{_NAME}) (?P<position>{'|'.join(_POSITIONS)})(?: |$)")
_RESPONSE_TYPES = (
    "String",
    "Integer",
    "Long",
    "Boolean",
    "Float",
    "Double",
    "Array",
    "Object",
    "Number",
    "Json",
    "Map",
)
_RESPONSE_ROW = re.compile(
    rf"^(?P<name>{_NAME}) (?P<type>(?:Array of )?(?:{'|'.join(_RESPONSE_TYPES)}))"
    r"(?: (?P<example>.*))?$"
)
_ERROR_ROW = re.compile(r"^(?P<status>\d{3}) (?P<code>\S+)(?: (?P<rest>.*))?$")
_DEFAULT = re.compile(r"(?:Default value:|The default value is)\s+(?P<value>.+?)\.(?:\s|$)")
_SET_VALUE = re.compile(r"Set the value to (?P<value>[A-Za-z][A-Za-z0-9]*)")

# How the description column of an error row opens, in this page family. The message ends
# where one of these begins (earliest one wins); otherwise at its first sentence end.
DESCRIPTION_OPENINGS = (
    "The error message returned",
    "The error message is returned",
    "The error code returned",
    "The error code is returned",
    "The error returned",
    "This error is returned",
    "The operation failed",
    "The request failed",
)


def read_document(path: str | Path) -> Operation:
    """Read and parse the page at `path`; a missing, unreadable or non-UTF-8 file is a SpecError."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise SpecError("the document does not exist", path=str(p)) from None
    except OSError as exc:
        raise SpecError(
            f"the document cannot be read: {exc.strerror or exc}", path=str(p)
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"the document is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
            path=str(p),
            line=line,
        ) from None
    return parse_document(text, path=str(p))


def parse_document(text: str, *, path: str | None = None) -> Operation:
    """Parse one page. Raises SpecError (with path and 1-based line) if it is not in the format.

    >>> op = parse_document(open("spec/source/RebootInstance.txt").read())  # doctest: +SKIP
    >>> op.action, op.parameter("ForceStop").default  # doctest: +SKIP
    ('RebootInstance', 'false')
    """
    return _Parser(text, path).parse()


def split_error_text(text: str) -> tuple[str, str]:
    """Split the `Error message Description` cells of one error row.

    The description opens with boilerplate ("The error message returned because ..."): the
    message ends where the earliest such opening begins. Failing that, a leading `%s` is the
    whole message, else the message ends at its first sentence end. A row with one sentence and
    nothing else is a message without a description.
    """
    best: int | None = None
    for opening in DESCRIPTION_OPENINGS:
        at = text.find(" " + opening)
        if at > 0 and (best is None or at < best):
            best = at
    if best is not None:
        return text[:best].rstrip(), text[best + 1 :].strip()
    if text.startswith("%s "):
        return "%s", text[3:].strip()
    m = re.search(r"[.!?] (?=\S)", text)
    if m:
        return text[: m.start() + 1], text[m.end() :].strip()
    return text.strip(), ""


@dataclass
class _Line:
    number: int  # 1-based
    text: str


def _is_bullet(text: str) -> bool:
    return text.lstrip().startswith(_BULLET)


def _bullet_text(text: str) -> str:
    return text.lstrip()[len(_BULLET) :].strip()


class _Parser:
    """A one-pass reader over the page's lines; every failure names its line."""

    def __init__(self, text: str, path: str | None) -> None:
        # Non-breaking spaces appear in pages copied from the web; they mean plain spaces here.
        raw = text.replace("\ufeff", "").replace("\u00a0", " ").splitlines()
        self.raw = tuple(raw)
        self.lines = [_Line(i + 1, t.rstrip()) for i, t in enumerate(raw)]
        self.path = path

    # -- helpers ---------------------------------------------------------------------------
    def fail(self, message: str, line: _Line | int | None) -> SpecError:
        if isinstance(line, _Line):
            return SpecError(message, path=self.path, line=line.number, text=line.text)
        if line is None:
            line = len(self.lines) + 1
            message = f"{message} (reached the end of the document)"
        return SpecError(message, path=self.path, line=line)

    def _titles(self) -> dict[str, int]:
        """Index of each known section title (first occurrence, as a line of its own)."""
        found: dict[str, int] = {}
        for i, ln in enumerate(self.lines):
            t = ln.text.strip()
            if t in _TITLES and t not in found and ln.text == t:
                found[t] = i
        return found

    def _next_title(self, start: int, titles: dict[str, int]) -> int:
        after = [i for i in titles.values() if i > start]
        return min(after) if after else len(self.lines)

    def _first_nonblank(self, start: int, stop: int) -> int | None:
        for i in range(start, stop):
            if self.lines[i].text.strip():
                return i
        return None

    # -- sections --------------------------------------------------------------------------
    def parse(self) -> Operation:
        first = self._first_nonblank(0, len(self.lines))
        if first is None:
            raise self.fail("expected the summary sentence, but the document is empty", 1)
        summary_line = self.lines[first]
        if summary_line.text.strip() in _TITLES:
            raise self.fail("expected the summary sentence before the first section", summary_line)
        summary = summary_line.text.strip()
        titles = self._titles()
        if _REQUEST not in titles:
            raise self.fail(f"expected the section title {_REQUEST!r} on a line of its own", None)
        order = [t for t in (_DESCRIPTION, _REQUEST, _RESPONSE, _ERRORS) if t in titles]
        for a, b in itertools.pairwise(order):
            if titles[a] > titles[b]:
                raise self.fail(f"expected the section {a!r} before {b!r}", self.lines[titles[a]])

        description: tuple[str, ...] = ()
        if _DESCRIPTION in titles:
            start = titles[_DESCRIPTION] + 1
            description = self._description(start, self._next_title(start - 1, titles))

        start = titles[_REQUEST] + 1
        parameters = self._request_table(start, self._next_title(start - 1, titles))

        response_fields: tuple[ResponseField, ...] = ()
        if _RESPONSE in titles:
            start = titles[_RESPONSE] + 1
            response_fields = self._response_table(start, self._next_title(start - 1, titles))

        sample_requests: tuple[str, ...] = ()
        if _SAMPLE_REQUESTS in titles:
            start = titles[_SAMPLE_REQUESTS] + 1
            sample_requests = self._sample_requests(start, self._next_title(start - 1, titles))

        sample_responses: dict[str, str] = {}
        for title, key in ((_XML, "XML"), (_JSON, "JSON")):
            if title in titles:
                start = titles[title] + 1
                block = self._block(start, self._next_title(start - 1, titles))
                if not block:
                    raise self.fail(f"expected the {key} sample after {title!r}", start)
                sample_responses[key] = block

        errors: tuple[ErrorRow, ...] = ()
        if _ERRORS in titles:
            start = titles[_ERRORS] + 1
            errors = self._error_table(start, self._next_title(start - 1, titles))

        action = self._action(parameters)
        return Operation(
            action=action,
            summary=summary,
            description=description,
            parameters=parameters,
            response_fields=response_fields,
            sample_requests=sample_requests,
            sample_responses=sample_responses,
            errors=errors,
            source_lines=self.raw,
        )

    def _description(self, start: int, stop: int) -> tuple[str, ...]:
        """The bullets of `Description` (continuation lines joined); other prose is skipped."""
        items: list[str] = []
        in_bullet = False
        for i in range(start, stop):
            t = self.lines[i].text
            if _is_bullet(t):
                items.append(_bullet_text(t))
                in_bullet = True
            elif t.strip() and in_bullet:
                items[-1] = f"{items[-1]} {t.strip()}"
            else:
                in_bullet = False
                if items and t.strip():
                    break  # prose after the bullet list: an unknown section such as Debugging
        if not items:
            first = self._first_nonblank(start, stop)
            if first is not None:
                items.append(self.lines[first].text.strip())
        return tuple(items)

    def _expect_header(self, start: int, stop: int, header: str, what: str) -> int:
        i = self._first_nonblank(start, stop)
        if i is None:
            raise self.fail(f"expected the {what} table header {header!r}", start + 1)
        if " ".join(self.lines[i].text.split()) != header:
            raise self.fail(f"expected the {what} table header {header!r}", self.lines[i])
        return i + 1

    def _request_table(self, start: int, stop: int) -> tuple[Parameter, ...]:
        i = self._expect_header(start, stop, REQUEST_TABLE_HEADER, "request parameter")
        rows: list[tuple[_Line, list[_Line]]] = []
        for j in range(i, stop):
            ln = self.lines[j]
            if not _is_bullet(ln.text) and _ROW_START.match(ln.text):
                rows.append((ln, []))
            elif not rows:
                if ln.text.strip():
                    raise self.fail(
                        "expected a request parameter row 'Name Position Type Required Example' "
                        f"(Position one of {', '.join(_POSITIONS)})",
                        ln,
                    )
            else:
                rows[-1][1].append(ln)
        if not rows:
            raise self.fail(
                "expected at least one request parameter row after the table header",
                self.lines[i - 1],
            )
        params: list[Parameter] = []
        seen: set[str] = set()
        for row, body in rows:
            p = self._parameter(row, body)
            if p.name in seen:
                raise self.fail(f"parameter {p.name!r} is listed twice", row)
            seen.add(p.name)
            params.append(p)
        return tuple(params)

    def _parameter(self, row: _Line, body: Sequence[_Line]) -> Parameter:
        tokens = row.text.split(" ")
        name, position = tokens[0], tokens[1]
        rest = tokens[2:]
        req_at = next((k for k, tok in enumerate(rest) if tok in ("Yes", "No")), None)
        if req_at is None:
            raise self.fail(
                f"expected 'Yes' or 'No' in the Required column of parameter {name!r}", row
            )
        if req_at == 0:
            raise self.fail(f"expected a Type before the Required column of {name!r}", row)
        ptype = " ".join(rest[:req_at])
        example = " ".join(rest[req_at + 1 :]).strip() or None
        paragraphs, bullets = self._paragraphs(body)
        description_parts: list[str] = []
        valid: list[ValidValue] = []
        collecting = False  # after a paragraph ending in "Valid values:"
        for kind, text in _merge(paragraphs, bullets):
            if kind == "bullet" and collecting:
                valid.append(_valid_value(text))
            elif kind == "bullet":
                description_parts.append(f"{_BULLET} {text}")
            else:
                collecting = _wants_values(text)
                description_parts.append(text)
        description = "\n\n".join(description_parts)
        default = None
        m = _DEFAULT.search(" ".join(description_parts))
        if m:
            default = m.group("value").strip()
        return Parameter(
            name=name,
            position=position,
            type=ptype,
            required=rest[req_at] == "Yes",
            example=example,
            description=description,
            default=default,
            valid_values=tuple(valid),
            line=row.number,
        )

    def _paragraphs(
        self, body: Sequence[_Line]
    ) -> tuple[list[tuple[str, _Line]], list[tuple[str, _Line]]]:
        """Split free text into paragraphs and bullets (in order, tagged by line)."""
        paragraphs: list[tuple[str, _Line]] = []
        bullets: list[tuple[str, _Line]] = []
        current: list[str] = []
        cur_line: _Line | None = None
        last: str | None = None  # "p" or "b": what a continuation line extends
        for ln in body:
            t = ln.text
            if not t.strip():
                if current and cur_line is not None:
                    paragraphs.append((" ".join(current), cur_line))
                current, cur_line, last = [], None, None
            elif _is_bullet(t):
                if current and cur_line is not None:
                    paragraphs.append((" ".join(current), cur_line))
                current, cur_line = [], None
                bullets.append((_bullet_text(t), ln))
                last = "b"
            elif last == "b":
                text, bl = bullets[-1]
                bullets[-1] = (f"{text} {t.strip()}", bl)
            else:
                if cur_line is None:
                    cur_line = ln
                current.append(t.strip())
                last = "p"
        if current and cur_line is not None:
            paragraphs.append((" ".join(current), cur_line))
        return paragraphs, bullets

    def _response_table(self, start: int, stop: int) -> tuple[ResponseField, ...]:
        i = self._expect_header(start, stop, RESPONSE_TABLE_HEADER, "response parameter")
        fields: list[tuple[_Line, list[str]]] = []
        after_blank = True
        for j in range(i, stop):
            ln = self.lines[j]
            m = _RESPONSE_ROW.match(ln.text)
            if m and (after_blank or not fields):
                fields.append((ln, []))
            elif not fields:
                if ln.text.strip():
                    raise self.fail(
                        "expected a response parameter row 'Name Type Example' "
                        f"(Type one of {', '.join(_RESPONSE_TYPES)})",
                        ln,
                    )
            elif ln.text.strip():
                fields[-1][1].append(ln.text.strip())
            after_blank = not ln.text.strip()
        out: list[ResponseField] = []
        for row, body in fields:
            m = _RESPONSE_ROW.match(row.text)
            assert m is not None  # matched above
            out.append(
                ResponseField(
                    name=m.group("name"),
                    type=m.group("type"),
                    example=(m.group("example") or "").strip() or None,
                    description=" ".join(body),
                    line=row.number,
                )
            )
        return tuple(out)

    def _block(self, start: int, stop: int) -> str:
        """A sample block as printed, without its surrounding blank lines."""
        texts = [ln.text for ln in self.lines[start:stop]]
        while texts and not texts[0].strip():
            texts.pop(0)
        while texts and not texts[-1].strip():
            texts.pop()
        return "\n".join(texts)

    def _sample_requests(self, start: int, stop: int) -> tuple[str, ...]:
        requests: list[list[str]] = []
        for ln in self.lines[start:stop]:
            t = ln.text.strip()
            if not t:
                continue
            if t.startswith("&") and requests:
                requests[-1].append(t)
            elif re.match(r"^(?:https?://|GET |POST )", t):
                requests.append([t])
            else:
                raise self.fail(
                    "expected a sample request URL, or a continuation line starting with '&'", ln
                )
        return tuple("\n".join(r) for r in requests)

    def _error_table(self, start: int, stop: int) -> tuple[ErrorRow, ...]:
        i = self._expect_header(start, stop, ERROR_TABLE_HEADER, "error code")
        rows: list[ErrorRow] = []
        previous_blank = False
        for j in range(i, stop):
            ln = self.lines[j]
            if not ln.text.strip():
                previous_blank = True
                continue
            m = _ERROR_ROW.match(ln.text)
            if not m:
                if rows and previous_blank:
                    break  # a closing note after the table ("For a list of error codes, ...")
                raise self.fail(
                    "expected an error row 'HTTP-STATUS Code Message Description' "
                    "(a three-digit status first)",
                    ln,
                )
            previous_blank = False
            status = int(m.group("status"))
            if not 100 <= status <= 599:
                raise self.fail(f"expected an HTTP status (100-599), got {status}", ln)
            rest = (m.group("rest") or "").strip()
            if not rest:
                raise self.fail(f"expected an error message after the code {m.group('code')!r}", ln)
            message, description = split_error_text(rest)
            if not message:
                raise self.fail(
                    f"expected an error message before the description of {m.group('code')!r}",
                    ln,
                )
            rows.append(ErrorRow(status, m.group("code"), message, description, line=ln.number))
        if not rows:
            raise self.fail(
                "expected at least one error row after the error code table header",
                self.lines[i - 1],
            )
        return tuple(rows)

    def _action(self, parameters: Sequence[Parameter]) -> str:
        for p in parameters:
            if p.name == "Action":
                if p.example and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", p.example):
                    return p.example
                m = _SET_VALUE.search(p.description)
                if m:
                    return m.group("value")
                raise self.fail(
                    "expected the Action parameter's example (or 'Set the value to X.')",
                    self.lines[p.line - 1],
                )
        raise self.fail("expected an 'Action' row in the request parameter table", None)


def _wants_values(paragraph: str) -> bool:
    return paragraph.rstrip().endswith("Valid values:")


def _valid_value(text: str) -> ValidValue:
    value, sep, desc = text.partition(":")
    if not sep:
        return ValidValue(text.strip(), "")
    return ValidValue(value.strip(), desc.strip())


def _merge(
    paragraphs: list[tuple[str, _Line]], bullets: list[tuple[str, _Line]]
) -> list[tuple[str, str]]:
    """Paragraphs and bullets back in page order, tagged by kind."""
    items = [("para", t, ln) for t, ln in paragraphs] + [("bullet", t, ln) for t, ln in bullets]
    items.sort(key=lambda item: item[2].number)
    return [(kind, text) for kind, text, _ in items]
