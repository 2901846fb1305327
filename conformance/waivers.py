"""Waivers: requirements a team has agreed to live without, for a while (docs/contracts.md#waivers).

A waiver file is a YAML list of `{id, reason, link, expires}`::

    - id: doc.state.only-running
      reason: our gateway answers IncorrectInstanceStatus with 409 until the Q3 release
      link: https://tracker.example.com/GW-1234
      expires: 2026-12-31

`expires` is the last day the waiver counts (`YYYY-MM-DD`). A waiver turns a failed requirement
into `waived`; an expired waiver fails the run; a waiver whose requirement passes is reported so
it can go. A file that is not in this shape is a `ConfigError` (exit 2) naming the entry.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import ConfigError, did_you_mean

__all__ = ["Waiver", "check_waiver_ids", "load_waivers"]

_FIELDS = ("id", "reason", "link", "expires")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML without implicit dates: `expires: 2027-13-45` arrives as text and gets the
    waiver's own message, instead of PyYAML's ValueError from inside its parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Waiver:
    """One accepted, time-boxed exception to a requirement.

    >>> w = Waiver("doc.dryrun.passes", "tracked upstream", "https://x/1", date(2026, 12, 31))
    >>> w.expired(date(2026, 12, 31)), w.expired(date(2027, 1, 1))
    (False, True)
    """

    id: str
    reason: str
    link: str
    expires: date
    entry: int = 0  # 1-based position in the file, for messages

    def expired(self, today: date) -> bool:
        """True once `today` is past `expires` (the expiry day itself still counts)."""
        return today > self.expires


def load_waivers(
    path: Path | str, *, today: date, known_ids: Collection[str] | None = None
) -> list[Waiver]:
    """Read and validate a waiver file.

    Expired waivers are returned, not rejected: expiry is a verdict (exit 1), not a usage error.
    `today` only shapes the hints; `known_ids`, when given, rejects ids outside the catalogue.
    Raises `ConfigError` naming the file, the entry and what is wrong.
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except OSError as exc:
        raise ConfigError(f"cannot read waiver file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(
            f"{path}: a waiver file is a YAML list of {{id, reason, link, expires}} entries, "
            f"not a {type(raw).__name__}",
            hint="start each waiver with '- id: ...'",
        )
    waivers = [_parse_entry(path, n, entry, today) for n, entry in enumerate(raw, start=1)]
    seen: dict[str, int] = {}
    for w in waivers:
        if w.id in seen:
            raise ConfigError(
                f"{path}: entry {w.entry}: requirement {w.id!r} is already waived by entry "
                f"{seen[w.id]}",
                hint="keep one waiver per requirement",
            )
        seen[w.id] = w.entry
    if known_ids is not None:
        check_waiver_ids(waivers, known_ids, source=str(path))
    return waivers


def check_waiver_ids(
    waivers: Collection[Waiver], known_ids: Collection[str], *, source: str = "waivers"
) -> None:
    """Raise `ConfigError` if a waiver names a requirement id that is not in the catalogue."""
    known = set(known_ids)
    unknown = [w for w in waivers if w.id not in known]
    if unknown:
        listed = ", ".join(
            f"entry {w.entry}: {w.id!r}{did_you_mean(w.id, sorted(known))}" for w in unknown
        )
        raise ConfigError(
            f"{source}: unknown requirement id(s): {listed}",
            hint="`ecs-conformance requirements` lists every id",
        )


def _parse_entry(path: Path, n: int, entry: Any, today: date) -> Waiver:
    where = f"{path}: entry {n}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with {', '.join(_FIELDS)}, got {entry!r}")
    if isinstance(entry.get("id"), str):
        where = f"{where} ({entry['id']})"
    extra = sorted(str(k) for k in entry if k not in _FIELDS)
    if extra:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(extra)}",
            hint=f"a waiver has exactly {', '.join(_FIELDS)}",
        )
    missing = [f for f in _FIELDS if entry.get(f) in (None, "")]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    for name in ("id", "reason", "link"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise ConfigError(f"{where}: {name} must be a non-empty string, got {entry[name]!r}")
    return Waiver(
        id=entry["id"].strip(),
        reason=entry["reason"].strip(),
        link=entry["link"].strip(),
        expires=_parse_date(where, entry["expires"], today),
        entry=n,
    )


def _parse_date(where: str, value: Any, today: date) -> date:
    # YAML reads an unquoted 2026-12-31 as a date already; a quoted one arrives as a string.
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    example = (today + timedelta(days=90)).isoformat()
    raise ConfigError(
        f"{where}: expires must be a date YYYY-MM-DD, got {value!r}",
        hint=f"for example 'expires: {example}' (the last day the waiver counts)",
    )
