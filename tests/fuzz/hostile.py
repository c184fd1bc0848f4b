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


# Byte sequences that cannot appear in UTF-8 text: a broken pair, a lone continuation byte, an
# encoded surrogate, an over-long "/", a code point past U+10FFFF.
BAD_UTF8: tuple[bytes, ...] = (b"\xc3(", b"\xff", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80")
# Spliced into an otherwise valid value, so it gets past every check but the one for the poison:
# inside a JSON string's bytes, or into a path segment or query value.
JSON_POISONS: tuple[bytes, ...] = (b"\\u0000", *BAD_UTF8, b"\\ud800")
URL_POISONS: tuple[bytes, ...] = (b"%00", b"%ff", b"%c3%28", b"%ed%a0%80", b"%c0%af", b"\xff", b"\x00")
# JSON strings a decoder must refuse: bytes that are not UTF-8, lone surrogate escapes, bad escapes.
BROKEN_STRINGS: tuple[Raw, ...] = (
    *(Raw(b'"' + bad + b'"') for bad in BAD_UTF8),
    Raw(b'"\\ud800"'),
    Raw(b'"a\\udc00b"'),
    Raw(b'"\\ud800\\u0041"'),
    Raw(b'"\\x41"'),
    Raw(b"'single quoted'"),
)
# Tokens of the wrong type, or numbers no column (or float) can hold.
ODD_TOKENS: tuple[Raw, ...] = tuple(
    Raw(token)
    for token in (
        b'"\\u0000"',
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
    other_values = st.one_of(
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )
    return st.one_of(st.sampled_from(BROKEN_STRINGS), st.sampled_from(ODD_TOKENS), hostile_text(), other_values)


def splice(value: bytes, offset: int, poison: bytes) -> bytes:
    offset = min(offset, len(value))
    return value[:offset] + poison + value[offset:]


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
