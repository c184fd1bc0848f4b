"""Hostile values: bytes, text and JSON tokens that a well-behaved client would never send."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

# Bytes that break decoders: invalid or over-long UTF-8, an encoded surrogate, a code point past
# U+10FFFF, NUL, a BOM, stray or broken percent escapes, dot segments, numbers no column can hold.
HOSTILE_BYTES: tuple[bytes, ...] = (
    b"",
    b"\x00",
    b"a\x00b",
    b"\xff",
    b"\xc3(",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xef\xbb\xbf",
    b"\xe2\x80\xae",
    b"\xd9\xa3",
    b"%00",
    b"a%00b",
    b"%ff",
    b"%c3%28",
    b"%ed%a0%80",
    b"%ef%bb%bf",
    b"%",
    b"%zz",
    b"%2f",
    b"..",
    b"../../etc/passwd",
    b"\r\n",
    b" ",
    b"0",
    b"-1",
    b"1.5",
    b"1e999",
    b"NaN",
    b"2147483648",
    b"9223372036854775808",
    b"99999999999999999999999999999999",
)
# Runs longer than any name a file system or a column takes.
LONG_RUNS = st.tuples(st.sampled_from([b"x", b"\xc3\xa9", b"%ff", b"%00"]), st.sampled_from([256, 4097, 70_000]))

HOSTILE_TEXT: tuple[str, ...] = (
    "",
    " ",
    "\n\t",
    "\x00",
    "a\x00b",
    "\x1f",
    "\x7f",
    "\u0085",
    "\ufeff",
    "\u202e",
    "\uffff",
    "\U0010ffff",
    "\U0001f409",
    "\ud800",
    "a\udc00b",
    "x' OR '1'='1",
    "%00",
    "\\",
    '"',
    "9" * 40,
    "x" * 70_000,
)


@dataclass(frozen=True)
class Raw:
    """A JSON token written verbatim: lets a document carry what no JSON encoder would write."""

    token: bytes


HOSTILE_JSON: tuple[Raw, ...] = tuple(
    Raw(token)
    for token in (
        b'"\\ud800"',
        b'"a\\udc00b"',
        b'"\\ud800\\u0041"',
        b'"\\u0000"',
        b'"\xc3("',
        b'"\xff"',
        b'"\xed\xa0\x80"',
        b'"\\x41"',
        b"'single quoted'",
        b"1e999",
        b"-1e999",
        b"NaN",
        b"Infinity",
        b"-0",
        b"0.5",
        b"1e-400",
        b"01",
        b"+1",
        b"2147483648",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"1" + b"0" * 400,
        b"null",
        b"true",
        b"[]",
        b"{}",
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 2000 + b"1" + b"}" * 2000,
    )
)


@cache  # one strategy object: Hypothesis analyses each new one, which costs more than a draw
def hostile_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(HOSTILE_BYTES),
        st.binary(max_size=40),
        st.binary(max_size=40).map(lambda raw: quote_from_bytes(raw, safe="").encode()),
        LONG_RUNS.map(lambda run: run[0] * run[1]),
    )


@cache
def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))


@cache
def hostile_json() -> st.SearchStrategy[object]:
    """A value to put where the schema wants something else: a wrong type, a hostile string or token."""
    return st.one_of(
        st.sampled_from(HOSTILE_JSON),
        hostile_text(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


def encode_json(value: object) -> bytes:
    """JSON bytes for a tree of dicts, lists, scalars, `Raw` tokens and `Pairs` (duplicate keys)."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, Pairs):
        items = (encode_json(key) + b":" + encode_json(item) for key, item in value.items)
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, dict):
        return encode_json(Pairs(tuple(value.items())))
    if isinstance(value, list):
        return b"[" + b",".join(encode_json(item) for item in value) + b"]"
    # Lone surrogates come out as `\ud800` escapes; NaN and Infinity as Python writes them.
    return json.dumps(value).encode()


@dataclass(frozen=True)
class Pairs:
    """A JSON object as written key by key, so a key may appear twice."""

    items: tuple[tuple[object, object], ...]
