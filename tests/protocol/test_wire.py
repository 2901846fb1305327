"""wire.py: percent-encoding, canonical query, parsing, booleans, timestamps."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.protocol.wire import (
    WireError,
    canonical_query,
    format_timestamp,
    merge_params,
    new_nonce,
    parse_timestamp,
    parse_urlencoded,
    percent_encode,
)

# Text without lone surrogates: what a UTF-8 wire can carry.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("", ""),
        ("AZaz09-_.~", "AZaz09-_.~"),
        (" ", "%20"),
        ("*", "%2A"),
        ("+", "%2B"),
        ("/:@=&%", "%2F%3A%40%3D%26%25"),
        ("é中", "%C3%A9%E4%B8%AD"),
        ("😀", "%F0%9F%98%80"),
    ],
)
def test_percent_encode_examples(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


def test_percent_encode_every_byte_is_upper_case_hex() -> None:
    for code in range(256):
        ch = chr(code)
        expected = ch if ch in string.ascii_letters + string.digits + "-_.~" else None
        got = percent_encode(ch)
        if expected is not None:
            assert got == expected
        else:
            assert got == "".join(f"%{b:02X}" for b in ch.encode())


@given(TEXT)
def test_percent_encode_is_inverted_by_unquote(value: str) -> None:
    assert unquote(percent_encode(value), errors="strict") == value


@given(TEXT)
def test_percent_encode_agrees_with_rfc3986_quote(value: str) -> None:
    assert percent_encode(value) == quote(value, safe="-_.~")


@given(st.dictionaries(NAMES, TEXT, max_size=8), st.randoms())
def test_canonical_query_ignores_order(params: dict[str, str], rnd: object) -> None:
    pairs = list(params.items())
    shuffled = pairs[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert canonical_query(pairs) == canonical_query(shuffled)


def test_canonical_query_sorts_by_encoded_name_then_value() -> None:
    pairs = [("b", "2"), ("a b", "x"), ("a", "z"), ("a", "y"), ("B", "")]
    assert canonical_query(pairs) == "B=&a=y&a=z&a%20b=x&b=2"


@given(st.lists(st.tuples(NAMES, TEXT), max_size=8))
def test_parse_urlencoded_inverts_encoding(pairs: list[tuple[str, str]]) -> None:
    raw = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)
    assert parse_urlencoded(raw) == pairs
    assert parse_urlencoded(raw.encode()) == pairs


def test_parse_urlencoded_form_rules() -> None:
    assert parse_urlencoded(b"a=x+y&SignatureType=&flag&&c=%2b%2B") == [
        ("a", "x y"),
        ("SignatureType", ""),
        ("flag", ""),
        ("c", "++"),
    ]
    assert parse_urlencoded(b"") == []
    assert parse_urlencoded("k=%C3%A9") == [("k", "é")]


@pytest.mark.parametrize(
    "raw",
    [b"a=%", b"a=%4", b"a=%zz", b"a=100%", b"a=%C3", b"a=%FF", b"a=\xff", b"%=1", b"=v"],
    ids=[
        "lone",
        "short",
        "nonhex",
        "trailing",
        "truncated-utf8",
        "bad-utf8",
        "raw-byte",
        "bad-name",
        "no-name",
    ],
)
def test_parse_urlencoded_refuses_unreadable(raw: bytes) -> None:
    with pytest.raises(WireError) as info:
        parse_urlencoded(raw)
    assert info.value.reason


def test_merge_params_refuses_duplicates() -> None:
    assert merge_params([("a", "1")], [("b", "2")]) == {"a": "1", "b": "2"}
    for query, body in (([("a", "1"), ("a", "1")], []), ([("a", "1")], [("a", "2")])):
        with pytest.raises(WireError, match="parameter a is given more than once"):
            merge_params(query, body)


def test_timestamps_round_trip() -> None:
    dt = datetime(2026, 11, 27, 14, 6, 15, tzinfo=UTC)
    assert format_timestamp(dt) == "2026-11-27T14:06:15Z"
    assert format_timestamp(dt.astimezone(timezone(timedelta(hours=8)))) == "2026-11-27T14:06:15Z"
    assert parse_timestamp("2026-11-27T14:06:15Z") == dt
    now = format_timestamp()
    assert abs(parse_timestamp(now).timestamp() - datetime.now(UTC).timestamp()) < 5


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2026-11-27T14:06:15",
        "2026-11-27 14:06:15Z",
        "2026-11-27T14:06:15.000Z",
        "2026-11-27T14:06:15+08:00",
        "2026-1-27T14:06:15Z",
        "2026-13-27T14:06:15Z",
        "2026-11-27T25:06:15Z",
        "２０２６-11-27T14:06:15Z",
        "2026-11-27t14:06:15z",
        "+026-11-27T14:06:15Z",
    ],
)
def test_parse_timestamp_is_strict(value: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_new_nonce_is_fresh_hex() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == 32 and set(n) <= set(string.hexdigits.lower()) for n in nonces)
