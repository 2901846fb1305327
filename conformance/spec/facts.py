"""The protocol profile as frozen, typed views: what `Spec.profile` gives every consumer.

`load_spec()` builds a `Profile` from the OpenAPI file's `x-protocol` (the operation's profile
layers merged by the generator), so the emulator, the gateway, the suites and the clients read
named, typed fields (`spec.profile.envelopes.request_id_header`,
`spec.profile.booleans.spelling(True)`) instead of digging into a mapping with string keys, and
no default of the profile is repeated in code: a section the operation's layers do not give is
`None` (`Profile.lifecycle`), never a guessed value.

>>> profile = load_spec().profile  # doctest: +SKIP
>>> profile.formats.default_v2, profile.timestamp.max_skew_seconds  # doctest: +SKIP
('XML', 900)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, zip_longest
from typing import Any

from conformance.errors import SpecError

__all__ = [
    "ApiFacts",
    "BooleanFacts",
    "CommonParameter",
    "EnvelopeFacts",
    "Fact",
    "FormatFacts",
    "LifecycleFacts",
    "NamedParameters",
    "Profile",
    "SignatureFacts",
    "TimestampFacts",
    "accepted_spellings",
]


@dataclass(frozen=True)
class Fact:
    """One sourced sentence of the profile: its text and its provenance tag."""

    text: str
    tag: str | None = None


@dataclass(frozen=True)
class ApiFacts:
    """Endpoint, methods and schemes (profile `api`)."""

    product: str
    version: str
    style: str
    endpoint: str
    regional_endpoint: str
    path: str
    methods: tuple[str, ...]  # upper-case
    schemes: tuple[str, ...]
    merged_parameters: Fact


@dataclass(frozen=True)
class CommonParameter:
    """One common request parameter of signature V2 (profile `common_parameters`)."""

    name: str
    type: str
    required: bool
    description: str
    value: str | None = None  # the one allowed value (Version, SignatureMethod, ...)
    default: str | None = None
    enum: tuple[str, ...] = ()
    case_insensitive: bool = False
    pattern: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class NamedParameters:
    """Parameter names a server accepts and ignores, with the sentence that says so."""

    names: tuple[str, ...]
    fact: Fact


def accepted_spellings(word: str, sent: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The spellings of one boolean word a server must accept: those official clients send
    (`sent`, in order), then the word lower-case, capitalised and upper-case."""
    forms = [*sent, *(form(word) for form in (str.lower, str.capitalize, str.upper))]
    return tuple(dict.fromkeys(forms))


@dataclass(frozen=True)
class BooleanFacts:
    """How booleans travel: the profile's words, case rule, the SDKs' spellings, and the
    spellings a server must accept (an OpenAPI Boolean schema's `x-wire-booleans`).

    >>> b = BooleanFacts("true", "false", True, {"python": ("True", "False")}, Fact(""))
    >>> b.spelling(True), b.parse("TRUE"), b.parse("1"), b.accepted(False)
    ('true', True, None, ('False', 'false', 'FALSE'))
    """

    true: str
    false: str
    case_insensitive: bool
    sent_by: Mapping[str, tuple[str, str]]  # client -> (true spelling, false spelling)
    fact: Fact
    # value -> accepted spellings; empty: derived from the words and `sent_by`
    wire: Mapping[bool, tuple[str, ...]] = field(default_factory=dict)

    def spelling(self, value: bool) -> str:
        """The canonical wire word for `value`."""
        return self.true if value else self.false

    def accepted(self, value: bool) -> tuple[str, ...]:
        """Every listed spelling of `value` a server must accept (the SDKs' first)."""
        if value in self.wire:
            return self.wire[value]
        index = 0 if value else 1
        sent = tuple(pair[index] for pair in self.sent_by.values())
        return accepted_spellings(self.spelling(value), sent)

    @property
    def all_accepted(self) -> tuple[str, ...]:
        """The accepted spellings of true and false, interleaved (`True`, `False`, ...)."""
        pairs = zip_longest(self.accepted(True), self.accepted(False))
        return tuple(s for s in chain.from_iterable(pairs) if s is not None)

    def parse(self, text: str) -> bool | None:
        """True or False for a spelling a server must accept; None for anything else (any
        letter case when `case_insensitive`, else only the listed spellings)."""
        if self.case_insensitive:
            return self._spellings.get(text.lower())
        return self._spellings.get(text)

    @cached_property
    def _spellings(self) -> dict[str, bool]:
        # a table, as the emulator parses every boolean of every request
        if self.case_insensitive:
            return {self.true.lower(): True, self.false.lower(): False}
        return {s: value for value in (True, False) for s in self.accepted(value)}


@dataclass(frozen=True)
class FormatFacts:
    """Response formats and the content types official clients parse (profile `formats`)."""

    default_v2: str
    default_v3: str
    v3_accept: str
    content_types: Mapping[str, str]  # "JSON" / "XML" -> Content-Type
    v3_json: Fact
    fact: Fact

    def content_type(self, fmt: str) -> str:
        """The Content-Type for `fmt` (`JSON` or `XML`, any case)."""
        return self.content_types[fmt.upper()]


@dataclass(frozen=True)
class EnvelopeFacts:
    """Success and error bodies (profile `envelopes`)."""

    success_status: int
    success_xml_root: str  # a template with `{Action}`
    error_fields: tuple[str, ...]
    error_xml_root: str
    host_id: str
    recommend: str  # a template with `{Code}` and `{RequestId}`
    request_id_header: str
    success: Fact
    error: Fact
    both_signals: Fact
    request_id: Fact

    def success_root(self, action: str) -> str:
        """The XML root of `action`'s success answer (`<{Action}Response>`)."""
        return self.success_xml_root.replace("{Action}", action)


@dataclass(frozen=True)
class SignatureFacts:
    """Signature V2 and V3 constants (profile `signatures`)."""

    v2_method: str
    v2_version: str
    v3_algorithm: str
    v3_required_headers: tuple[str, ...]
    # What every V3 signature must cover: these headers, and every header with these prefixes.
    v3_signed_required: tuple[str, ...]
    v3_signed_prefixes: tuple[str, ...]
    v2: Fact
    v3: Fact
    plus_space: Fact
    v2_algorithm: Fact  # SignatureMethod and SignatureVersion are checked
    v3_signed_headers: Fact  # what SignedHeaders must cover


@dataclass(frozen=True)
class TimestampFacts:
    """The timestamp shape and the accepted clock skew (profile `timestamp`)."""

    format: str  # strftime pattern
    max_skew_seconds: int
    fact: Fact


@dataclass(frozen=True)
class LifecycleFacts:
    """Instance statuses and locks of the operation's document family (profile `lifecycle`)."""

    statuses: tuple[str, ...]
    settle: Mapping[str, str]  # transient status -> the status it settles to
    lock_reasons: tuple[str, ...]
    disk_ok_status: str  # the disk status that lets an instance operation proceed
    transient_alternatives: tuple[str, ...] = ()  # other transient statuses a check accepts
    transient_text: Fact | None = None


@dataclass(frozen=True)
class Profile:
    """The operation's protocol profile, typed. Built by `Profile.from_mapping(x_protocol)`."""

    api: ApiFacts
    common_parameters: tuple[CommonParameter, ...]
    tolerated_parameters: NamedParameters
    hidden_parameters: NamedParameters | None
    booleans: BooleanFacts
    formats: FormatFacts
    envelopes: EnvelopeFacts
    signatures: SignatureFacts
    timestamp: TimestampFacts
    lifecycle: LifecycleFacts | None  # None: the operation belongs to no document family
    injectable_fault_codes: tuple[str, ...]
    client_facts: Mapping[str, Fact]  # clients.<name>: nonce, retries, unusable_response, ...

    def common_parameter(self, name: str) -> CommonParameter:
        """The common parameter called `name`."""
        for p in self.common_parameters:
            if p.name == name:
                return p
        raise KeyError(f"the profile has no common parameter {name!r}")

    @property
    def common_parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.common_parameters)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, path: str = "<x-protocol>") -> Profile:
        """Read the merged profile (the OpenAPI `x-protocol`); a missing key is a SpecError."""
        r = _Reader(data, path)
        api = r.node("api")
        booleans = r.node("booleans")
        formats = r.node("formats")
        envelopes = r.node("envelopes")
        success, error = r.node("envelopes", "success"), r.node("envelopes", "error")
        v2, v3 = r.node("signatures", "v2"), r.node("signatures", "v3")
        signed = r.node("signatures", "v3", "signed_headers")
        timestamp = r.node("timestamp")
        hidden = data.get("hidden_parameters")
        life = data.get("lifecycle")
        return cls(
            api=ApiFacts(
                product=str(r.get(api, "api", "product")),
                version=str(r.get(api, "api", "version")),
                style=str(api.get("style", "")),
                endpoint=str(r.get(api, "api", "endpoint")),
                regional_endpoint=str(api.get("regional_endpoint", "")),
                path=str(api.get("path", "/")),
                methods=tuple(str(m).upper() for m in r.get(api, "api", "methods")),
                schemes=tuple(str(s) for s in api.get("schemes") or ()),
                merged_parameters=_fact(api.get("merged_parameters")),
            ),
            common_parameters=tuple(_common(item) for item in r.node_list("common_parameters")),
            tolerated_parameters=_named(r.node("tolerated_parameters")),
            hidden_parameters=None if hidden is None else _named(hidden),
            booleans=BooleanFacts(
                true=str(r.get(booleans, "booleans", "true")),
                false=str(r.get(booleans, "booleans", "false")),
                case_insensitive=bool(booleans.get("case_insensitive", False)),
                sent_by={
                    str(k): (str(v[0]), str(v[1]))
                    for k, v in (booleans.get("sent_by") or {}).items()
                },
                fact=_fact(booleans),
            ),
            formats=FormatFacts(
                default_v2=str(r.get(formats, "formats", "default_v2")),
                default_v3=str(r.get(formats, "formats", "default_v3")),
                v3_accept=str(r.get(formats, "formats", "v3_accept")),
                content_types={
                    str(k).upper(): str(v)
                    for k, v in r.get(formats, "formats", "content_types").items()
                },
                v3_json=_fact(formats.get("v3_json")),
                fact=_fact(formats),
            ),
            envelopes=EnvelopeFacts(
                success_status=int(r.get(success, "envelopes.success", "http_status")),
                success_xml_root=str(r.get(success, "envelopes.success", "xml_root")),
                error_fields=tuple(str(f) for f in r.get(error, "envelopes.error", "fields")),
                error_xml_root=str(r.get(error, "envelopes.error", "xml_root")),
                host_id=str(r.get(error, "envelopes.error", "host_id")),
                recommend=str(error.get("recommend", "")),
                request_id_header=str(r.get(envelopes, "envelopes", "request_id_header")).lower(),
                success=_fact(success),
                error=_fact(error),
                both_signals=_fact(envelopes.get("both_signals")),
                request_id=_fact(envelopes.get("request_id")),
            ),
            signatures=SignatureFacts(
                v2_method=str(r.get(v2, "signatures.v2", "method")),
                v2_version=str(r.get(v2, "signatures.v2", "version")),
                v3_algorithm=str(r.get(v3, "signatures.v3", "algorithm")),
                v3_required_headers=tuple(
                    str(h) for h in r.get(v3, "signatures.v3", "required_headers")
                ),
                v3_signed_required=_lower(r.get(signed, _SIGNED_HEADERS, "required")),
                v3_signed_prefixes=_lower(r.get(signed, _SIGNED_HEADERS, "prefixes")),
                v2=_fact(v2),
                v3=_fact(v3),
                plus_space=_fact(v2.get("plus_space")),
                v2_algorithm=_fact(r.get(v2, "signatures.v2", "algorithm")),
                v3_signed_headers=_fact(signed),
            ),
            timestamp=TimestampFacts(
                format=str(r.get(timestamp, "timestamp", "format")),
                max_skew_seconds=int(r.get(timestamp, "timestamp", "max_skew_seconds")),
                fact=_fact(timestamp),
            ),
            lifecycle=None if life is None else _lifecycle(r, life),
            injectable_fault_codes=tuple(
                str(c) for c in (data.get("injectable_faults") or {}).get("extra_codes") or ()
            ),
            client_facts={str(k): _fact(v) for k, v in (data.get("clients") or {}).items() if v},
        )


class _Reader:
    """Key access that names the missing key of `x-protocol` in a SpecError."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def _missing(self, key: str) -> SpecError:
        return SpecError(
            f"the generated spec's x-protocol has no {key!r}",
            path=self.path,
            hint="regenerate it with `ecs-conformance spec build`",
        )

    def node(self, *keys: str) -> Mapping[str, Any]:
        node: Any = self.data
        for k in keys:
            node = node.get(k) if isinstance(node, Mapping) else None
            if not isinstance(node, Mapping):
                raise self._missing(".".join(keys))
        return node  # type: ignore[no-any-return]

    def node_list(self, key: str) -> list[Mapping[str, Any]]:
        node = self.data.get(key)
        if not isinstance(node, list):
            raise self._missing(key)
        return node

    def get(self, node: Mapping[str, Any], where: str, key: str) -> Any:
        if key not in node:
            raise self._missing(f"{where}.{key}")
        return node[key]


_SIGNED_HEADERS = "signatures.v3.signed_headers"


def _lower(items: Any) -> tuple[str, ...]:
    return tuple(str(item).lower() for item in items)


def _fact(node: Any) -> Fact:
    if not isinstance(node, Mapping):
        return Fact("")
    tag = node.get("tag")
    return Fact(str(node.get("text", "")), None if tag is None else str(tag))


def _named(node: Mapping[str, Any]) -> NamedParameters:
    return NamedParameters(tuple(str(n) for n in node.get("names") or ()), _fact(node))


def _common(item: Mapping[str, Any]) -> CommonParameter:
    def opt(key: str) -> str | None:
        return None if item.get(key) is None else str(item[key])

    return CommonParameter(
        name=str(item["name"]),
        type=str(item.get("type", "String")),
        required=bool(item.get("required", False)),
        description=str(item.get("description", "")),
        value=opt("value"),
        default=opt("default"),
        enum=tuple(str(v) for v in item.get("enum") or ()),
        case_insensitive=bool(item.get("case_insensitive", False)),
        pattern=opt("pattern"),
        tag=opt("tag"),
    )


def _lifecycle(r: _Reader, life: Mapping[str, Any]) -> LifecycleFacts:
    transient = life.get("transient_alternatives") or {}
    return LifecycleFacts(
        statuses=tuple(str(s) for s in r.get(life, "lifecycle", "statuses")),
        settle={str(k): str(v) for k, v in (life.get("settle") or {}).items()},
        lock_reasons=tuple(str(s) for s in life.get("lock_reasons") or ()),
        disk_ok_status=str(r.get(life, "lifecycle", "disk_ok_status")),
        transient_alternatives=tuple(str(s) for s in transient.get("statuses") or ()),
        transient_text=_fact(transient) if transient else None,
    )
