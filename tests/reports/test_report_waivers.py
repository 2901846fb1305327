"""Waiver files: parsing, validation messages, expiry (conformance.waivers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from report_builders import TODAY

from conformance.errors import ConfigError
from conformance.resources import fixtures_dir
from conformance.waivers import Waiver, load_waivers

VALID = """\
- id: doc.example.one
  reason: known gap
  link: https://t.example/1
  expires: 2026-12-31
- id: protocol.example.two
  reason: "quoted date"
  link: https://t.example/2
  expires: "2026-05-31"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_every_field(tmp_path: Path) -> None:
    waivers = load_waivers(write(tmp_path, VALID), today=TODAY)
    assert waivers == [
        Waiver("doc.example.one", "known gap", "https://t.example/1", date(2026, 12, 31), 1),
        Waiver("protocol.example.two", "quoted date", "https://t.example/2", date(2026, 5, 31), 2),
    ]
    assert [w.expired(TODAY) for w in waivers] == [False, True]


def test_an_empty_file_waives_nothing(tmp_path: Path) -> None:
    assert load_waivers(write(tmp_path, "# nothing waived\n"), today=TODAY) == []


def test_known_ids_accept_the_catalogue(tmp_path: Path) -> None:
    known = {"doc.example.one", "protocol.example.two", "doc.other"}
    assert len(load_waivers(write(tmp_path, VALID), today=TODAY, known_ids=known)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: doc.x\n", r"a YAML list .* not a dict"),
        ("- just a string\n", r"entry 1: expected a mapping"),
        (
            "- {id: doc.x, reason: r, link: l}\n",
            r"entry 1 \(doc.x\): missing expires",
        ),
        (
            "- {id: doc.x, reason: '', link: l, expires: 2026-12-31}\n",
            r"entry 1 \(doc.x\): missing reason",
        ),
        (
            "- {id: doc.x, reason: r, link: l, expires: 2026-12-31, expiry: 2027-01-01}\n",
            r"entry 1 \(doc.x\): unknown field\(s\) expiry",
        ),
        (
            "- {id: doc.x, reason: r, link: l, expires: next year}\n",
            r"entry 1 \(doc.x\): expires must be a date YYYY-MM-DD, got 'next year'",
        ),
        (
            "- {id: doc.x, reason: r, link: l, expires: '2026-02-30'}\n",
            r"expires must be a date YYYY-MM-DD, got '2026-02-30'",
        ),
        (
            "- {id: doc.x, reason: r, link: l, expires: 2026-12-31 10:00:00}\n",
            r"expires must be a date YYYY-MM-DD",
        ),
        ("- {id: 7, reason: r, link: l, expires: 2026-12-31}\n", r"id must be a non-empty string"),
        (
            "- {id: doc.x, reason: r, link: l, expires: 2026-12-31}\n"
            "- {id: doc.x, reason: r, link: l, expires: 2026-12-31}\n",
            r"entry 2: requirement 'doc.x' is already waived by entry 1",
        ),
        ("- [unclosed\n", r"not valid YAML"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_entry_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_waivers(path, today=TODAY)
    assert info.value.exit_code == 2
    assert str(path) in str(info.value)


def test_a_bad_date_hint_shows_a_usable_example(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: doc.x, reason: r, link: l, expires: soon}\n")
    with pytest.raises(ConfigError) as info:
        load_waivers(path, today=TODAY)
    assert "expires: 2026-08-30" in str(info.value)


def test_an_unknown_id_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown requirement id\(s\): entry 2: "):
        load_waivers(write(tmp_path, VALID), today=TODAY, known_ids={"doc.example.one"})


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read waiver file"):
        load_waivers(tmp_path / "absent.yaml", today=TODAY)


def test_the_shipped_example_loads_and_names_catalogue_ids() -> None:
    path = fixtures_dir() / "waivers.example.yaml"
    waivers = load_waivers(path, today=TODAY)
    assert waivers and not any(w.expired(TODAY) for w in waivers)
    try:
        from conformance.spec import load_spec
    except ImportError:
        pytest.skip("conformance.spec.load_spec is not available yet")
    known = {r.id for r in load_spec().requirements}
    assert {w.id for w in waivers} <= known
