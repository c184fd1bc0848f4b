"""The systematic half of the fuzzer: every poison in every slot of an operation's request, once.

Random examples find the unexpected; this sweep makes sure the expected is never left untried:
NUL, bytes that are not UTF-8 and lone surrogates in every string field and every path and query
parameter, numbers past 32 and 64 bits, duplicate keys, a BOM, other content types, odd header
bytes and signed tokens with odd claims, each alone in an otherwise valid request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote

from tests.fuzz.asgi import RawRequest
from tests.fuzz.bodies import Known, Path, fill, poisoned, update
from tests.fuzz.hostile import Pairs, Raw, encode_json
from tests.fuzz.operations import JsonSchema, Operation
from tests.fuzz.strategies import CONTENT_TYPES, Seeds
from tests.fuzz.tokens import sign

Change = Callable[[Any], Any]  # one node of a JSON tree -> what replaces it

JSON_STRING_POISONS = {"NUL": b"\\u0000", "bytes that are not UTF-8": b"\xc3(", "a lone surrogate": b"\\ud800"}
JSON_VALUE_POISONS = {"a number past 64 bits": Raw(b"18446744073709551616"), "1e999": Raw(b"1e999")}
VALID = b"\x01"  # in a parameter poison: where the valid value goes
PARAMETER_POISONS = {
    "NUL": b"%00",
    "NUL after a valid value": VALID + b"%00",
    "percent-escapes that are not UTF-8": VALID + b"%C3%28",
    "an encoded surrogate": b"%ED%A0%80",
    "a raw 0xFF byte": VALID + b"\xff",
    "a number past 64 bits": b"18446744073709551616",
    "a number past 32 bits": b"2147483648",
    "-1": b"-1",
    "0": b"0",
    "256 characters": b"x" * 256,
}
# Headers are read by Litestar and the app the same way on every route: one value with all three.
HEADER_POISON = b"a\x00b\xff\xc3("
POISONED_HEADERS = (b"authorization", b"content-type", b"x-request-id", b"origin", b"accept", b"cookie")
CONTENT_LENGTHS = (b"99999999999999999999", b"-1", b"abc")
PREFLIGHT_METHODS = (b"PATCH", b"\x00")  # a method the API does not allow, and no method at all
# Every operation decodes its token with the same function, so one of each kind is enough here (the
# random part draws from the longer lists in tokens.py). PyJWT, not the app, reads the times.
SWEPT_SUBJECTS: tuple[object, ...] = (
    "0",
    "-1",
    "2147483648",
    "18446744073709551616",
    " 1",
    "1\x00",
    "\u0661",
    "abc",
    1,
    None,
)
SWEPT_TIMES: tuple[object, ...] = (Raw(b"1e999"), 10**30, "1700000000", None)


@dataclass(frozen=True)
class Case:
    slot: str
    poison: str
    build: Callable[[Seeds], RawRequest]  # from the current seeds: an earlier case may have used some up

    def __str__(self) -> str:
        return f"{self.poison} in {self.slot}"


def cases(operation: Operation) -> list[Case]:
    return [
        *_body_cases(operation),
        *_parameter_cases(operation),
        *_header_cases(operation),
        *(_claim_cases(operation) if operation.accepts_token else []),
    ]


# --- valid requests -------------------------------------------------------------------------


def example_of(schema: JsonSchema, name: str, known: Known) -> Any:
    """One valid value, the same every time: the schema's example, else a known value by name (a
    seeded e-mail or slug), else the shortest plain text its length allows.

    The example comes first so that a sign-up does not reuse a seeded, taken name or e-mail.
    """
    if "oneOf" in schema:
        outer = {key: value for key, value in schema.items() if key != "oneOf"}
        return example_of({**outer, **schema["oneOf"][0]}, name, known)
    kind = schema.get("type")
    if kind == "object":
        return {key: example_of(value, key, known) for key, value in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), "", known)]
    if schema.get("examples"):
        return schema["examples"][0]
    if known.get(name):
        return known[name][0]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    return "x" * max(1, schema.get("minLength", 1)) if kind == "string" else None


def valid_request(operation: Operation, seeds: Seeds, body: object = None) -> RawRequest:
    if body is None and operation.body_schema is not None:
        body = example_of(operation.body_schema, "", seeds.known)
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    if operation.accepts_token:
        headers.append((b"authorization", b"Token " + seeds.token.encode()))
    payload = b"" if body is None else encode_json(body)
    return RawRequest(operation.method, _path(operation, seeds.known), b"", tuple(headers), (payload,))


def _path(operation: Operation, known: Known, poison: tuple[str, bytes] | None = None) -> bytes:
    path = operation.path.encode()
    for parameter in operation.parameters:
        if parameter.location == "path":
            value = quote(str(known.get(parameter.name, ["1"])[0]), safe="").encode()
            if poison and poison[0] == parameter.name:
                value = poison[1].replace(VALID, value)
            path = path.replace(b"{%s}" % parameter.name.encode(), value)
    return path


def _with_header(request: RawRequest, name: bytes, value: bytes | None) -> RawRequest:
    headers = tuple(pair for pair in request.headers if pair[0] != name)
    return replace(request, headers=headers if value is None else (*headers, (name, value)))


# --- the body -------------------------------------------------------------------------------


def _string_leaves(schema: JsonSchema, tree: Any, path: Path = ()) -> Iterator[tuple[Path, JsonSchema]]:
    """The path and schema of every string in `tree`, an example of `schema`."""
    if "oneOf" in schema:
        schema = {**schema, **schema["oneOf"][0]}
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _string_leaves(schema.get("properties", {}).get(key, {}), value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _string_leaves(schema.get("items", {}), value, (*path, index))
    elif isinstance(tree, str):
        yield path, schema


def _keys(tree: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every key of every object in `tree`."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield (*path, key)
            yield from _keys(value, (*path, key))


def _changed_body(operation: Operation, path: Path, change: Change, seeds: Seeds) -> RawRequest:
    assert operation.body_schema is not None
    return valid_request(operation, seeds, update(example_of(operation.body_schema, "", seeds.known), path, change))


def _duplicated_key(operation: Operation, path: Path, last: bool, seeds: Seeds) -> RawRequest:
    """The key at `path` written twice, once with NUL in its value: the last one is the one that counts."""
    extra = (path[-1], Raw(b'"a\\u0000b"'))

    def duplicate(parent: dict[str, Any]) -> Pairs:
        return Pairs((*parent.items(), extra) if last else (extra, *parent.items()))

    return _changed_body(operation, path[:-1], duplicate, seeds)


def _filled(text: str, length: int) -> str:
    """`text` made `length` long with "İ", which lower-cases to two characters: a limit checked before
    lower-casing no longer holds after it."""
    return fill(text, "\u0130", length)


def _body_cases(operation: Operation) -> Iterator[Case]:
    if operation.body_schema is None:
        return
    schema, sample = operation.body_schema, example_of(operation.body_schema, "", {})

    def change(path: Path, node_change: Change) -> Callable[[Seeds], RawRequest]:
        return partial(_changed_body, operation, path, node_change)

    for path, leaf in _string_leaves(schema, sample):
        slot = "body " + ".".join(map(str, path))
        for name, poison in JSON_STRING_POISONS.items():
            yield Case(slot, name, change(path, partial(_poison, poison)))
        for name, token in JSON_VALUE_POISONS.items():
            yield Case(slot, name, change(path, partial(_constant, token)))
        if "maxLength" in leaf:
            yield Case(slot, "İ up to the length limit", change(path, partial(_filled, length=leaf["maxLength"])))
    for path in _keys(sample):
        slot = "body " + ".".join(map(str, path))
        yield Case(slot, "a duplicate key, the last with NUL", partial(_duplicated_key, operation, path, True))
        yield Case(slot, "a duplicate key, the first with NUL", partial(_duplicated_key, operation, path, False))
    yield Case("body", "a byte order mark before it", partial(_with_bom, operation))
    for content_type in CONTENT_TYPES:
        yield Case("content-type", content_type.decode(), partial(_with_content_type, operation, content_type))
    yield Case("content-type", "none", partial(_with_content_type, operation, None))


def _poison(poison: bytes, node: Any) -> Raw:
    return poisoned(node, 1, poison)


def _constant(token: Raw, _node: Any) -> Raw:
    return token


def _with_bom(operation: Operation, seeds: Seeds) -> RawRequest:
    request = valid_request(operation, seeds)
    return replace(request, body_chunks=(b"\xef\xbb\xbf" + b"".join(request.body_chunks),))


def _with_content_type(operation: Operation, content_type: bytes | None, seeds: Seeds) -> RawRequest:
    return _with_header(valid_request(operation, seeds), b"content-type", content_type)


# --- parameters, headers, token claims ----------------------------------------------------------


def _with_parameter(operation: Operation, name: str, location: str, poison: bytes, seeds: Seeds) -> RawRequest:
    request = valid_request(operation, seeds)
    if location == "path":
        return replace(request, raw_path=_path(operation, seeds.known, (name, poison)))
    valid = quote(str(seeds.known.get(name, ["1"])[0]), safe="").encode()
    return replace(request, query_string=name.encode() + b"=" + poison.replace(VALID, valid))


def _parameter_cases(operation: Operation) -> Iterator[Case]:
    for parameter in operation.parameters:
        for name, poison in PARAMETER_POISONS.items():
            build = partial(_with_parameter, operation, parameter.name, parameter.location, poison)
            yield Case(f"{parameter.location} {parameter.name}", name, build)


def _with_header_value(operation: Operation, header: bytes, value: bytes, seeds: Seeds) -> RawRequest:
    return _with_header(valid_request(operation, seeds), header, value)


def _header_cases(operation: Operation) -> Iterator[Case]:
    for header in POISONED_HEADERS:
        build = partial(_with_header_value, operation, header, HEADER_POISON)
        yield Case(f"header {header.decode()}", "NUL and bytes that are not UTF-8", build)
    for method in PREFLIGHT_METHODS:
        yield Case("CORS pre-flight", f"asking for {method!r}", partial(_preflight, operation, method))
    for length in CONTENT_LENGTHS:
        yield Case(
            "header content-length", length.decode(), partial(_with_header_value, operation, b"content-length", length)
        )


def _preflight(operation: Operation, method: bytes, seeds: Seeds) -> RawRequest:
    request = replace(valid_request(operation, seeds), method="OPTIONS")
    return _with_header(
        _with_header(request, b"origin", b"https://example.com"), b"access-control-request-method", method
    )


def _with_claim(operation: Operation, claim: str, value: object, seeds: Seeds) -> RawRequest:
    now = int(time.time())
    claims = {"sub": str(seeds.user_id), "iat": now, "exp": now + 3600, claim: value}
    token = sign(seeds.secret_key, b'{"alg":"HS256","typ":"JWT"}', encode_json(claims))
    return _with_header(valid_request(operation, seeds), b"authorization", b"Token " + token)


def _claim_cases(operation: Operation) -> Iterator[Case]:
    for subject in SWEPT_SUBJECTS:
        yield Case("token claim sub", repr(subject), partial(_with_claim, operation, "sub", subject))
    for claim in ("exp", "iat", "nbf"):
        for value in SWEPT_TIMES:
            yield Case(f"token claim {claim}", repr(value), partial(_with_claim, operation, claim, value))
