"""Hypothesis strategies built from the Spec (docs/architecture.md#property-based-testing): wire
booleans, instance ids with every character class, arranged conditions, extra parameters, reboot
calls.

Every value that the document or the profile fixes (boolean spellings, statuses, lock reasons,
the disk status that allows a reboot, hidden and tolerated parameter names) is read from the
spec; nothing of the document is re-typed here.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.spec.model import Spec
from conformance.targets.base import NOT_FOUND_PREFIX, Condition

__all__ = [
    "ID_SPECIAL_CHARACTERS",
    "OTHER_DISK_STATUSES",
    "boolean_spellings",
    "case_variants",
    "conditions",
    "extra_parameters",
    "id_suffixes",
    "invalid_booleans",
    "not_found_ids",
    "passing_condition",
    "refusing_conditions",
    "unknown_parameters",
]

# Characters that stress encoding and signing (docs/protocol.md#signature-v2): reserved, sub-delims,
# `%`, `+` (a space in form encoding), and multi-byte UTF-8.
ID_SPECIAL_CHARACTERS = (" ", "*", "~", "+", "/", "%", "&", "=", "?", "#", ":", "é", "中", "😀")
# A disk "in a state that forbids the reboot" is any value but the profile's OK one
# (docs/contracts.md#test-control).
OTHER_DISK_STATUSES = ("Creating", "Attaching", "Detaching", "ReIniting", "Unavailable")


def case_variants(word: str) -> st.SearchStrategy[str]:
    """Every upper/lower-case spelling of `word` (`true`, `True`, `tRuE`, ...)."""
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda ups: "".join(c.upper() if u else c.lower() for c, u in zip(word, ups, strict=True))
    )


def boolean_spellings(spec: Spec, value: bool) -> st.SearchStrategy[str]:
    """Valid wire spellings of `value` (the Boolean schemas' `x-wire-booleans`): every case
    variant when booleans are case-insensitive, else the listed spellings."""
    b = spec.profile.booleans
    if b.case_insensitive:
        return case_variants(b.spelling(value))
    return st.sampled_from(b.accepted(value))


def invalid_booleans(spec: Spec) -> st.SearchStrategy[str]:
    """Non-empty strings that are no spelling of true or false: numbers, yes/no, padded or
    truncated words, arbitrary text. (The empty string is left out: whether `DryRun=` counts as
    absent is not documented.)"""
    near = st.sampled_from(
        ["1", "0", "yes", "no", "on", "off", "t", "f", "tru", "fals", "truee", "null", "maybe"]
    )
    padded = st.sampled_from(["true", "false", "True", "False"]).flatmap(
        lambda w: st.sampled_from([f" {w}", f"{w} ", f"{w}\t", f'"{w}"', f"{w}1", f"{w},{w}"])
    )
    text = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
        min_size=1,
        max_size=12,
    )
    parse = spec.profile.booleans.parse
    return st.one_of(near, padded, text).filter(lambda s: s and parse(s) is None)


def id_suffixes(max_size: int = 6) -> st.SearchStrategy[str]:
    """Text mixing plain characters with every special class of `ID_SPECIAL_CHARACTERS`."""
    alphabet = st.one_of(
        st.sampled_from(ID_SPECIAL_CHARACTERS),
        st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_."),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    )
    return st.text(alphabet=alphabet, max_size=max_size)


def not_found_ids() -> st.SearchStrategy[str]:
    """Ids no instance can have (docs/contracts.md#black-box-fixtures), with special characters
    after the prefix."""
    return st.tuples(st.binary(min_size=6, max_size=6), id_suffixes()).map(
        lambda t: NOT_FOUND_PREFIX + t[0].hex() + t[1]
    )


def passing_condition(spec: Spec) -> Condition:
    """The one condition in which the reboot is allowed (the precondition status, no locks)."""
    return Condition(spec.precondition_status)


def conditions(spec: Spec, *, locks: bool = True) -> st.SearchStrategy[Condition]:
    """Arranged conditions: every status x the locks that matter x disk x KMS
    (docs/contracts.md#test-control)."""
    life = spec.lifecycle
    statuses = list(life.statuses or [spec.precondition_status])
    disk_ok = life.disk_ok_status
    lock_reasons = sorted(spec.lock_errors)
    lock_sets = (
        st.lists(st.sampled_from(lock_reasons), unique=True, max_size=len(lock_reasons)).map(tuple)
        if locks and lock_reasons
        else st.just(())
    )
    disks = st.one_of(st.none(), st.just(disk_ok), st.sampled_from(OTHER_DISK_STATUSES))
    return st.builds(
        Condition,
        status=st.sampled_from(statuses),
        operation_locks=lock_sets,
        disk_status=disks,
        kms_key_accessible=st.booleans(),
    )


def refusing_conditions(spec: Spec) -> st.SearchStrategy[Condition]:
    """Conditions under which the reboot is refused (at least one documented code applies)."""
    passing = passing_condition(spec)
    disk_ok = spec.lifecycle.disk_ok_status
    return conditions(spec).filter(
        lambda c: (
            not (
                c.status == passing.status
                and not set(c.operation_locks) & set(spec.lock_errors)
                and (c.disk_status or disk_ok) == disk_ok
                and c.kms_key_accessible
            )
        )
    )


def extra_parameters(spec: Spec) -> st.SearchStrategy[dict[str, str]]:
    """Hidden and tolerated parameters official clients add (profile `hidden_parameters`,
    `tolerated_parameters`), with plausible values; `SignatureType` empty as the old SDK sends."""
    profile = spec.profile
    hidden = list(profile.hidden_parameters.names) if profile.hidden_parameters else []
    names = hidden + list(profile.tolerated_parameters.names)
    if not names:
        return st.just({})

    def value_for(name: str) -> st.SearchStrategy[str]:
        if name == "SignatureType":
            return st.just("")
        if name.endswith("Id"):
            return st.integers(min_value=1, max_value=10**15).map(str)
        return st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=12)

    return st.lists(st.sampled_from(names), unique=True, min_size=1).flatmap(
        lambda chosen: st.fixed_dictionaries({n: value_for(n) for n in chosen})
    )


def unknown_parameters(spec: Spec) -> st.SearchStrategy[dict[str, str]]:
    """Parameters no document names (clients from the future send them): `X`-prefixed names
    that cannot clash with a parameter of the spec."""
    known = {p.name for p in spec.parameters}
    name = st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10
    ).map(lambda s: "XConformance" + s)
    return st.dictionaries(
        name.filter(lambda n: n not in known),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -", max_size=10),
        min_size=1,
        max_size=3,
    )
