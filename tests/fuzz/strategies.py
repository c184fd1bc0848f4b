"""Whole raw requests for one operation: every part valid but one (or all) made hostile."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from tests.fuzz.asgi import RawRequest
from tests.fuzz.bodies import Known, bodies, valid_values
from tests.fuzz.hostile import URL_POISONS, hostile_bytes, hostile_text, splice
from tests.fuzz.operations import Operation, Parameter
from tests.fuzz.tokens import authorizations

PARTS = ("nothing", "method", "path", "query", "headers", "token", "body", "everything")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "get", "", "G\x00T")
CONTENT_TYPES = (
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=fuzz",
    b"application/json; charset=latin-1",
    b"application/json, text/plain",
    b"application/xml",
    b"*/*",
)
# Headers the app, Litestar or a proxy in front of it read; a fuzzed one gets a hostile value.
HEADER_NAMES = (
    b"authorization",
    b"content-type",
    b"content-length",
    b"origin",
    b"access-control-request-method",
    b"access-control-request-headers",
    b"x-request-id",
    b"accept",
    b"accept-encoding",
    b"cookie",
    b"host",
    b"range",
    b"if-modified-since",
    b"if-none-match",
    b"transfer-encoding",
    b"x-forwarded-for",
)
# Built once: Hypothesis analyses every new strategy object, which costs more than drawing from it.
_JSON_TYPES = st.sampled_from([b"application/json", b"application/json; charset=utf-8"])
_HOSTILE_CONTENT_TYPES = st.one_of(st.none(), st.sampled_from(CONTENT_TYPES), hostile_bytes())
# Appended to the right length: nothing, a digit (ten times too long), junk, absurd or negative.
_HOSTILE_LENGTHS = st.one_of(
    st.none(), st.sampled_from([b"", b"0", b"9" * 20, b"abc", b"e3"]), hostile_bytes(), st.just(b"-")
)
_SHUFFLER = st.randoms(use_true_random=False)
_CUT = st.one_of(st.none(), st.integers(0, 2**16))
# The peer address; behind a proxy it comes from X-Forwarded-For, so it is text the client chose.
_HOSTILE_CLIENTS = st.one_of(
    st.none(), st.tuples(hostile_bytes().map(lambda raw: raw.decode("latin-1")), st.integers(0, 65535))
)
_EXTRA_HEADERS = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.binary(max_size=20)), hostile_bytes()), max_size=4
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Seeds:
    """Real data to aim at, so requests get past validation into the services and the database."""

    secret_key: str
    user_id: int
    token: str
    other_token: str
    known: Mapping[str, Sequence[str]]


def raw_requests(operation: Operation, seeds: Seeds) -> st.SearchStrategy[RawRequest]:
    """Built once per operation and seeds (building strategies costs more than drawing from them)."""
    return st.one_of([_requests(operation, seeds, target) for target in PARTS])


def _requests(operation: Operation, seeds: Seeds, target: str) -> st.SearchStrategy[RawRequest]:
    def hostile(part: str) -> bool:
        return target in (part, "everything")

    body_strategy = bodies(operation.body_schema, seeds.known, hostile("body"))
    methods = st.sampled_from(METHODS) if hostile("method") else st.just(operation.method)
    paths = raw_paths(operation, seeds.known, hostile("path"))
    queries = query_strings(operation, seeds.known, hostile("query"))
    tokens = authorizations(
        seeds.secret_key,
        seeds.user_id,
        (seeds.token, seeds.other_token),
        hostile("token"),
        optional=not operation.accepts_token,
    )
    peers = _HOSTILE_CLIENTS if hostile("headers") else st.just(("127.0.0.1", 50000))

    @st.composite
    def requests(draw: st.DrawFn) -> RawRequest:
        body = draw(body_strategy)
        return RawRequest(
            method=draw(methods),
            raw_path=draw(paths),
            query_string=draw(queries),
            headers=draw_headers(draw, draw(tokens), body, hostile("headers")),
            body_chunks=draw_chunks(draw, body),
            client=draw(peers),
        )

    return requests()


def _valid_parameter(parameter: Parameter, known: Known) -> st.SearchStrategy[bytes]:
    values = valid_values(parameter.schema, parameter.name, known)
    return values.map(lambda value: quote_from_bytes(str(value).encode("utf-8", "surrogatepass"), safe="").encode())


def _hostile_parameter(parameter: Parameter, known: Known) -> st.SearchStrategy[bytes]:
    """A hostile value, or a valid one with a poison (NUL, a byte that is not UTF-8) spliced in."""
    encoded_text = hostile_text().map(lambda text: quote_from_bytes(text.encode("utf-8", "surrogatepass")).encode())
    numbers = st.integers().map(lambda number: str(number).encode())
    poisoned = st.builds(splice, _valid_parameter(parameter, known), st.integers(0, 64), st.sampled_from(URL_POISONS))
    return st.one_of(poisoned, hostile_bytes(), encoded_text, numbers)


def raw_paths(operation: Operation, known: Known, hostile: bool) -> st.SearchStrategy[bytes]:
    """The path template filled with real values; hostile: one parameter broken, or the path itself."""
    pieces = _PLACEHOLDER.split(operation.path)  # literal, name, literal, name, ..., literal
    names = pieces[1::2]
    valid = {parameter.name: _valid_parameter(parameter, known) for parameter in operation.parameters}
    broken_values = {parameter.name: _hostile_parameter(parameter, known) for parameter in operation.parameters}

    def filled(broken: str | None) -> st.SearchStrategy[bytes]:
        parts = [
            st.just(piece.encode()) if index % 2 == 0 else (broken_values[piece] if piece == broken else valid[piece])
            for index, piece in enumerate(pieces)
        ]
        return st.tuples(*parts).map(b"".join)

    if not hostile:
        return filled(None)
    if names:
        return st.one_of([filled(name) for name in names])
    path = operation.path.encode()
    return st.one_of(
        hostile_bytes().map(lambda junk: path + b"/" + junk),
        st.just(path.replace(b"/", b"//") + b"/"),
        st.binary(max_size=60),
    )


def _named(name: str, values: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return values.map(lambda value: name.encode() + b"=" + value)


def query_strings(operation: Operation, known: Known, hostile: bool) -> st.SearchStrategy[bytes]:
    """Some of the declared query parameters; hostile: bad values, stray pairs, or any bytes at all."""
    values = [
        _named(parameter.name, (_hostile_parameter if hostile else _valid_parameter)(parameter, known))
        for parameter in operation.parameters
        if parameter.location == "query"
    ]
    pairs = st.tuples(*[st.one_of(st.none(), value) for value in values]).map(lambda drawn: [p for p in drawn if p])
    if hostile:
        pairs = st.tuples(pairs, st.lists(hostile_bytes(), max_size=3)).map(lambda both: both[0] + both[1])
    joined = pairs.flatmap(st.permutations).map(b"&".join)
    return st.one_of(joined, st.binary(max_size=60)) if hostile else joined


def draw_headers(
    draw: st.DrawFn, authorization: list[bytes], body: bytes, hostile: bool
) -> tuple[tuple[bytes, bytes], ...]:
    """Drawn in place rather than as a strategy of its own: it depends on the body drawn before it."""
    headers = [(b"host", b"testserver"), *((b"authorization", value) for value in authorization)]
    length = str(len(body)).encode()
    if not hostile:
        if body or draw(st.booleans()):  # clients send the JSON type even without a body (Q10)
            headers.append((b"content-type", draw(_JSON_TYPES)))
        if draw(st.booleans()):
            headers.append((b"content-length", length))
        return tuple(headers)
    if (content_type := draw(_HOSTILE_CONTENT_TYPES)) is not None:
        headers.append((b"content-type", content_type))
    if (content_length := draw(_HOSTILE_LENGTHS)) is not None:
        headers.append((b"content-length", length + content_length))  # "" keeps it right, "0" makes it 10x
    headers += draw(_EXTRA_HEADERS)
    if draw(st.booleans()):  # a CORS preflight, with a hostile method or header list
        headers += [(b"origin", b"https://example.com"), (b"access-control-request-method", draw(hostile_bytes()))]
    draw(_SHUFFLER).shuffle(headers)
    return tuple(headers)


def draw_chunks(draw: st.DrawFn, body: bytes) -> tuple[bytes, ...]:
    """The body in one piece, or split in two as a slow client would send it."""
    cut = draw(_CUT)
    return (body,) if cut is None else (body[: min(cut, len(body))], body[min(cut, len(body)) :])
