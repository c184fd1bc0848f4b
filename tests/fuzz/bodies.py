"""Request bodies: valid ones drawn from the operation's JSON schema, then broken one piece at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.hostile import (
    HOSTILE_BYTES,
    JSON_POISONS,
    Pairs,
    Raw,
    encode_json,
    hostile_bytes,
    hostile_json,
    hostile_text,
    splice,
)
from tests.fuzz.operations import JsonSchema

Known = Mapping[str, Sequence[str]]  # real values by field or parameter name (a seeded e-mail, slug...)
Path = tuple[str | int, ...]  # keys and indices from the root of a JSON tree to one node
LONGEST_TEXT = 60  # generated valid strings stay short; the hostile values cover the long ones


def valid_values(schema: JsonSchema, name: str = "", known: Known | None = None) -> st.SearchStrategy[Any]:
    """Values the schema accepts (mostly: the service may still refuse them, which is fine)."""
    generated = _from_schema(schema, known or {})
    if known and known.get(name):
        return st.one_of(st.sampled_from(list(known[name])), generated)
    return generated


def _from_schema(schema: JsonSchema, known: Known) -> st.SearchStrategy[Any]:
    if "oneOf" in schema:  # Litestar puts the constraints beside the alternatives
        outer = {key: value for key, value in schema.items() if key != "oneOf"}
        return st.one_of([_from_schema({**outer, **choice}, known) for choice in schema["oneOf"]])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {key: valid_values(value, key, known) for key, value in properties.items()}
        return st.fixed_dictionaries(
            {key: fields[key] for key in properties if key in required},
            optional={key: fields[key] for key in properties if key not in required},
        )
    if kind == "array":
        items = valid_values(schema.get("items", {}), "", known)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 3), 3))
    if kind == "string":
        return _strings(schema.get("pattern"), schema.get("minLength", 0), schema.get("maxLength", LONGEST_TEXT))
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.integers(None if low is None else int(low), None if high is None else int(high))
    if kind == "boolean":
        return st.booleans()
    return st.none()


# Characters to fill a string up to its length limit: one byte, two, four in UTF-8, and "İ", whose
# lower case is two characters long (a limit checked before lower-casing no longer holds after it).
_FILLERS = ("x", "é", "\U0001f409", "\u0130")


@cache
def _strings(pattern: str | None, min_length: int, max_length: int) -> st.SearchStrategy[str]:
    longest = max(min_length, min(max_length, LONGEST_TEXT))
    if pattern is None:
        short = st.text(min_size=min_length, max_size=longest)
    else:
        short = st.from_regex(re.compile(pattern), fullmatch=True).filter(
            lambda text: min_length <= len(text) <= longest
        )
    at_limit = st.tuples(short, st.sampled_from(_FILLERS)).map(lambda pair: fill(*pair, max_length))
    return st.one_of(short, at_limit)


def fill(text: str, filler: str, length: int) -> str:
    """`text` made exactly `length` characters long, keeping its last character last (patterns anchor it)."""
    if not text or len(text) >= length:
        return text
    return text[:-1] + filler * (length - len(text)) + text[-1]


def node_paths(tree: object, prefix: Path = ()) -> list[Path]:
    """The path to every node of a JSON tree, the root included."""
    paths = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            paths += node_paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            paths += node_paths(value, (*prefix, index))
    return paths


def update(tree: Any, path: Path, change: Callable[[Any], Any]) -> Any:
    """A copy of `tree` with the node at `path` replaced by `change(node)`."""
    if not path:
        return change(tree)
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {key: update(value, rest, change) if key == head else value for key, value in tree.items()}
    return [update(value, rest, change) if index == head else value for index, value in enumerate(tree)]


def poisoned(node: object, offset: int, poison: bytes) -> Raw:
    """A string node with the poison spliced into its JSON bytes; any other node becomes a poisoned string."""
    encoded = encode_json(node)[1:-1] if isinstance(node, str) else b""
    return Raw(b'"' + splice(encoded, offset, poison) + b'"')


# Poisoning gets two draws in six: every string field must refuse NUL and survive bad bytes.
MUTATIONS = ("replace", "poison", "poison", "drop", "duplicate", "add key")


@st.composite
def broken_trees(draw: st.DrawFn, tree: object) -> object:
    """`tree` with one thing wrong: a value replaced or poisoned (NUL, bytes that are not UTF-8, a lone
    surrogate), a key dropped, repeated or added with a hostile name."""
    path = draw(st.sampled_from(node_paths(tree)))
    parent_path, key = path[:-1], (path[-1] if path else None)
    mutation = draw(st.sampled_from(MUTATIONS))
    if mutation == "poison":
        offset, poison = draw(st.integers(0, 64)), draw(st.sampled_from(JSON_POISONS))
        return update(tree, path, lambda node: poisoned(node, offset, poison))
    if mutation == "replace" or not isinstance(key, str):
        return update(tree, path, lambda _: draw(hostile_json()))
    if mutation == "drop":
        return update(tree, parent_path, lambda parent: {k: v for k, v in parent.items() if k != key})
    if mutation == "duplicate":  # the repeated key comes before or after the original
        extra = (key, draw(hostile_json()))
        first = draw(st.booleans())
        return update(
            tree, parent_path, lambda parent: Pairs((extra, *parent.items()) if first else (*parent.items(), extra))
        )
    hostile_key = draw(st.one_of(hostile_text(), st.sampled_from([Raw(b'"\xff"'), Raw(b'"\\ud800"'), Raw(b"1")])))
    return update(tree, parent_path, lambda parent: Pairs((*parent.items(), (hostile_key, draw(hostile_json())))))


@st.composite
def broken_bytes(draw: st.DrawFn, document: bytes) -> bytes:
    """The encoded document damaged as bytes: a BOM, a cut, a bad byte inside, trailing garbage."""
    offset = draw(st.integers(0, len(document)))
    damage = draw(st.sampled_from(["bom", "cut", "insert", "append"]))
    if damage == "bom":
        return b"\xef\xbb\xbf" + document
    if damage == "cut":
        return document[:offset]
    inserted = draw(st.one_of(st.sampled_from(HOSTILE_BYTES), st.binary(min_size=1, max_size=4)))
    return document[:offset] + inserted + document[offset:] if damage == "insert" else document + inserted


FORM_BODY = b"user[email]=a%40b.c&user[password]=%ff%00"
MULTIPART_BODY = b'--fuzz\r\nContent-Disposition: form-data; name="user"\r\n\r\n\xff\x00\r\n--fuzz--\r\n'


def hostile_documents() -> st.SearchStrategy[bytes]:
    """Whole bodies that are no JSON document of any expected shape."""
    return st.one_of(
        st.sampled_from([FORM_BODY, MULTIPART_BODY, b"\xef\xbb\xbf{}", b"{}{}", b"{", b"null"]),
        st.sampled_from(HOSTILE_BYTES),
        hostile_bytes(),
        hostile_json().map(encode_json),
    )


def bodies(schema: JsonSchema | None, known: Known, hostile: bool) -> st.SearchStrategy[bytes]:
    if schema is None:  # clients send nothing, `{}` or an irrelevant object (spec quirk Q10 (docs/spec-quirks.md))
        valid = st.sampled_from([b"", b"{}", b'{"user": {}}'])
        return hostile_documents() if hostile else valid
    trees = valid_values(schema, "", known)
    if not hostile:
        return trees.map(encode_json)
    return st.one_of(
        trees.flatmap(broken_trees).map(encode_json),
        trees.map(encode_json).flatmap(broken_bytes),
        hostile_documents(),
    )
