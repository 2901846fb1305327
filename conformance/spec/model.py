"""The in-memory truth: typed views of an operation document, the protocol profile and the
requirement catalogue.

Two layers live here:

* the *document model* (`Operation`, `Parameter`, `ErrorRow`, ...) that `spec.document` parses
  out of a vendor page and `spec.openapi` turns into OpenAPI;
* the *runtime view* (`Spec`) that `load_spec()` rebuilds from the generated OpenAPI file and the
  requirement catalogue. Emulator, suites, mutants and reports read every expectation from a
  `Spec`; none of them re-types a code, status or message from the document.

Provenance and strictness. Every requirement and every expected answer carries the tag of its
source (`PROVENANCES`): `doc` the published document (every row of the operation page),
`meta` the official API metadata, `sdk` what official SDKs were observed doing on the wire,
`unsure` sources that disagree or are silent, `emulator` a choice of this toolkit where no
source speaks, `design` a contract of the toolkit itself. How strictly a fact may be judged
follows from its provenance alone (`STRICTNESS`, `strictness_of`):

* `exact` (doc, meta, design): codes, statuses and messages as the source gives them (`%s` in
  a document message is a wildcard);
* `observable` (sdk): only what official clients observably need (e.g. a `:` in the
  SignatureDoesNotMatch message, which the old Python SDK splits on);
* `any-variant` (unsure): any listed variant passes; a message is compared only where a source
  gives one;
* `not-held` (emulator): the reference emulator's own choice, never held against another
  implementation.

An expected answer keeps what a check may compare (`ErrorVariant.message`, None where no source
gives the text) apart from what the reference emulator sends (`ErrorVariant.emulator_message`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance.errors import SpecError
from conformance.spec.facts import LifecycleFacts, Profile

__all__ = [
    "CLIENT_ONLY_KINDS",
    "PROVENANCES",
    "ROLE_DRY_RUN",
    "ROLE_FORCE",
    "ROLE_INSTANCE",
    "STRICTNESS",
    "DryRunOutcome",
    "ErrorRow",
    "ErrorVariant",
    "Operation",
    "Parameter",
    "Requirement",
    "ResponseField",
    "Spec",
    "ValidValue",
    "strictness_of",
]

LEVELS = ("doc", "protocol", "interop")
# Parameter roles (Spec.parameter_roles): which document parameter plays which part.
ROLE_INSTANCE = "instance-id"
ROLE_DRY_RUN = "dry-run"
ROLE_FORCE = "force"
# Requirement kinds about what a client does (retrying, coping with an unusable answer): a
# server cannot break them, so a server run leaves them out of its scope.
CLIENT_ONLY_KINDS = frozenset({"retries", "client"})

# Source tag -> how strictly a fact from that source is judged (see the module docstring).
STRICTNESS = {
    "doc": "exact",
    "meta": "exact",
    "design": "exact",
    "sdk": "observable",
    "unsure": "any-variant",
    "emulator": "not-held",
}
PROVENANCES = tuple(STRICTNESS)


def strictness_of(provenance: str) -> str:
    """`exact`, `observable`, `any-variant` or `not-held` for a source tag."""
    try:
        return STRICTNESS[provenance]
    except KeyError:
        raise ValueError(
            f"unknown provenance {provenance!r} (one of {', '.join(PROVENANCES)})"
        ) from None


@dataclass(frozen=True)
class ValidValue:
    """One bullet of a parameter's `Valid values:` list."""

    value: str
    description: str


@dataclass(frozen=True)
class Parameter:
    """One row of the document's request parameter table."""

    name: str
    position: str
    type: str
    required: bool
    example: str | None
    description: str
    default: str | None = None
    valid_values: tuple[ValidValue, ...] = ()
    line: int = 0

    @property
    def is_boolean(self) -> bool:
        return self.type.lower() == "boolean"

    @property
    def enum(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.valid_values)


@dataclass(frozen=True)
class ResponseField:
    """One row of the document's response parameter table."""

    name: str
    type: str
    example: str | None
    description: str
    line: int = 0


_PLACEHOLDER = re.compile(r"%s")


@dataclass(frozen=True)
class ErrorRow:
    """One row of the document's error code table (a code may have several rows)."""

    http_status: int
    code: str
    message: str
    description: str
    line: int = 0

    @property
    def dynamic(self) -> bool:
        """True when the message is a template (`%s` marks the dynamic part)."""
        return "%s" in self.message

    def matches(self, message: str) -> bool:
        """Does a received message match this row (`%s` matches any non-empty text)?"""
        if not self.dynamic:
            return message == self.message
        parts = [re.escape(p) for p in _PLACEHOLDER.split(self.message)]
        return re.fullmatch("(.+)".join(parts), message, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class Operation:
    """Everything the parser reads out of one operation page."""

    action: str
    summary: str
    description: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    response_fields: tuple[ResponseField, ...]
    sample_requests: tuple[str, ...]
    sample_responses: Mapping[str, str]  # "XML" / "JSON" -> text as printed
    errors: tuple[ErrorRow, ...]
    source_lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class Requirement:
    """A normative fact with a stable id (e.g. `doc.state.only-running`)."""

    id: str
    level: str  # one of LEVELS
    kind: str  # parameter, default, valid-value, state, lock, dryrun, error, signature, ...
    text: str  # the exact source sentence
    source: str  # "document:LINE" or "profile:LAYER.KEY"
    provenance: str = "doc"  # the source's tag, one of PROVENANCES

    @property
    def strictness(self) -> str:
        """How strictly this requirement may be judged, from its provenance (STRICTNESS)."""
        return strictness_of(self.provenance)

    @property
    def client_only(self) -> bool:
        """Only a client can break it (see CLIENT_ONLY_KINDS)."""
        return self.kind in CLIENT_ONLY_KINDS


@dataclass(frozen=True)
class ErrorVariant:
    """One accepted form of an error: code, HTTP status and message template.

    Templates use `{Name}`-style fields (the profile's gateway errors) and `%s` (the document's
    dynamic messages). `emulator_message` is the text the reference emulator sends; `message`
    is what a source gives (None when none does: then the text is the emulator's wording);
    `provenance` is the source tag of code and status, `message_provenance` that of `message`
    (`emulator` when there is none). `matches()` still compares `emulator_message`.
    """

    code: str
    http_status: int
    emulator_message: str
    message: str | None = None
    provenance: str = "doc"
    message_provenance: str = "emulator"

    @property
    def strictness(self) -> str:
        """How strictly code and status may be judged (STRICTNESS of `provenance`)."""
        return strictness_of(self.provenance)

    @property
    def message_strictness(self) -> str:
        """How strictly the message may be judged (`not-held` when no source gives it)."""
        return strictness_of(self.message_provenance)

    def render(self, **fields: str) -> ErrorVariant:
        """Fill the `{Field}` placeholders that `fields` names; leave the others as they are."""
        return replace(
            self,
            code=_fill(self.code, fields),
            emulator_message=_fill(self.emulator_message, fields),
            message=None if self.message is None else _fill(self.message, fields),
        )

    def matches(self, code: str | None, http_status: int | None, message: str | None) -> bool:
        """Code and status equal (a `{Field}` left in the code matches any word), and the
        message matches what a source gives (`message`, `%s` and `{Field}` wildcards); where no
        source gives the text (`message` None), any message does: the emulator's wording is
        never held against another implementation."""
        if http_status != self.http_status or code is None:
            return False
        if not re.fullmatch(_wildcards(self.code, "[A-Za-z0-9]+"), code):
            return False
        if self.message is None:
            return True
        if message is None:
            return False
        return re.fullmatch(_wildcards(self.message, "(.*)"), message, flags=re.DOTALL) is not None


def _wildcards(template: str, field: str) -> str:
    """A regular expression for `template`: `{Field}` placeholders match `field`, `%s` any
    non-empty text."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{[A-Za-z_]+\\\}", field.replace("\\", "\\\\"), pattern)
    return pattern.replace("%s", "(.+)")


def _fill(template: str, fields: Mapping[str, str]) -> str:
    return re.sub(r"\{([A-Za-z_]+)\}", lambda m: fields.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class DryRunOutcome:
    """What a DryRun that passes validation answers (doc + docs/protocol.md#dryrun); every part
    is sourced (`provenance`)."""

    code: str
    http_status: int
    message: str
    provenance: str = "doc"

    @property
    def strictness(self) -> str:
        """How strictly code, status and message may be judged."""
        return strictness_of(self.provenance)


@dataclass(frozen=True)
class Spec:
    """The runtime view of the generated spec. Built by `conformance.spec.load_spec()`."""

    action: str
    version: str
    parameters: tuple[Parameter, ...]
    response_fields: tuple[ResponseField, ...]
    errors: tuple[ErrorRow, ...]
    dryrun: DryRunOutcome
    precondition_status: str  # x-state-precondition
    resulting_status: str  # x-resulting-state
    settled_status: str
    transient_alternatives: tuple[str, ...]
    conditions: Mapping[str, str]  # arranged condition -> documented code (x-conditions)
    lock_errors: Mapping[str, str]  # lock reason -> documented code (x-locks)
    gateway_errors: Mapping[str, tuple[ErrorVariant, ...]]  # situation -> accepted variants
    profile: Profile  # x-protocol as typed views (conformance.spec.facts)
    requirements: tuple[Requirement, ...]
    document_sha256: str
    openapi_sha256: str
    openapi: Mapping[str, Any] = field(repr=False, compare=False)
    openapi_path: Path | None = field(default=None, compare=False)
    sample_requests: tuple[str, ...] = ()  # x-sample-requests, as printed in the document
    # role -> document parameter name: instance-id (x-instance-id), dry-run (x-dryrun),
    # force (x-forced-restart)
    parameter_roles: Mapping[str, str] = field(default_factory=dict)

    # -- parameters -------------------------------------------------------------------------
    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"{self.action} has no parameter {name!r}")

    def _role(self, role: str, what: str) -> Parameter:
        name = self.parameter_roles.get(role)
        if name is None:
            raise SpecError(
                f"the spec of {self.action} names no {what} parameter",
                path=None if self.openapi_path is None else str(self.openapi_path),
            )
        return self.parameter(name)

    @property
    def instance_parameter(self) -> Parameter:
        """The parameter naming the instance the call acts on (`InstanceId`)."""
        return self._role(ROLE_INSTANCE, "instance id")

    @property
    def dry_run_parameter(self) -> Parameter:
        """The Boolean parameter that asks for validation only (`DryRun`, x-dryrun)."""
        return self._role(ROLE_DRY_RUN, "DryRun")

    @property
    def force_parameter(self) -> Parameter:
        """The Boolean parameter that forces the operation (`ForceStop`, x-forced-restart)."""
        return self._role(ROLE_FORCE, "forced-restart")

    @property
    def lifecycle(self) -> LifecycleFacts:
        """The instance lifecycle of the operation's document family (profile `lifecycle`)."""
        if self.profile.lifecycle is None:
            raise SpecError(
                f"the profile gives {self.action} no instance lifecycle (it is in no family)",
                path=None if self.openapi_path is None else str(self.openapi_path),
            )
        return self.profile.lifecycle

    @property
    def required_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.required and p.name != "Action")

    @property
    def boolean_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.is_boolean)

    # -- errors -----------------------------------------------------------------------------
    def error_rows(self, code: str) -> tuple[ErrorRow, ...]:
        rows = tuple(r for r in self.errors if r.code == code)
        if not rows:
            raise KeyError(f"{code!r} is not in the error table of {self.action}")
        return rows

    def error_status(self, code: str) -> int:
        return self.error_rows(code)[0].http_status

    def error_message(self, code: str) -> str:
        """The first static message documented for `code` (what the reference answers)."""
        rows = self.error_rows(code)
        for r in rows:
            if not r.dynamic:
                return r.message
        return rows[0].message

    def error_matches(self, code: str, http_status: int | None, message: str | None) -> bool:
        """Do status and message match any documented row of `code`?"""
        try:
            rows = self.error_rows(code)
        except KeyError:
            return False
        return any(r.http_status == http_status and r.matches(message or "") for r in rows)

    @property
    def error_codes(self) -> tuple[str, ...]:
        """Distinct documented codes, in table order."""
        return tuple(dict.fromkeys(r.code for r in self.errors))

    def gateway_error(self, situation: str, **fields: str) -> ErrorVariant:
        """The first (reference) variant of a gateway-level error, fields filled in."""
        return self.gateway_errors[situation][0].render(**fields)

    def gateway_variants(self, situation: str, **fields: str) -> tuple[ErrorVariant, ...]:
        return tuple(v.render(**fields) for v in self.gateway_errors[situation])

    def sample_request_params(self, index: int = 0) -> dict[str, str]:
        """The parameters of a sample request, as printed; placeholders such as
        `<Common request parameters>` are left out. Empty when there is no such sample."""
        if index >= len(self.sample_requests):
            return {}
        text = "".join(line.strip() for line in self.sample_requests[index].splitlines())
        query = text.partition("?")[2]
        out: dict[str, str] = {}
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            if sep and name and not name.startswith("<"):
                out[name] = value
        return out

    # -- requirements -----------------------------------------------------------------------
    def requirement(self, requirement_id: str) -> Requirement:
        found = self._requirements_by_id.get(requirement_id)
        if found is None:
            raise KeyError(f"no requirement {requirement_id!r} in the catalogue")
        return found

    @cached_property
    def _requirements_by_id(self) -> Mapping[str, Requirement]:
        # Looked up per exchange by the checking proxy: an index rather than a scan.
        return {r.id: r for r in self.requirements}
