"""Authorization headers: the seeded users' tokens, junk, and tokens signed with the server's key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from hypothesis import strategies as st

from tests.fuzz.bodies import broken_trees
from tests.fuzz.hostile import Raw, encode_json, hostile_bytes, hostile_json

# Subjects that are not the plain user ids encode_token writes: past 32 or 64 bits, signed, padded,
# other digits, other notations, not a number at all.
SUBJECTS = (
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "18446744073709551616",
    "9" * 40,
    " 1",
    "1\x00",
    "+1",
    "01",
    "1.0",
    "1e3",
    "0x1",
    "\u0661",
    "",
    "abc",
)
# Times (`exp`, `iat`, `nbf`) of the wrong type or beyond any clock or float.
TIMES: tuple[object, ...] = (
    Raw(b"1e999"),
    Raw(b"-1e999"),
    Raw(b"NaN"),
    10**30,
    -(10**30),
    2**63,
    1.5,
    "1700000000",
    True,
    None,
    [],
    {},
)
# `sub` is the one claim the app reads itself (PyJWT checks the times), so it gets four draws in nine.
TARGETS = ("sub", "sub", "sub", "sub", "exp", "iat", "nbf", "claims", "header")


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def sign(secret_key: str, header: bytes, claims: bytes) -> bytes:
    """An HS256 token with the server's key over any header and claims bytes, valid JSON or not."""
    signing_input = _b64(header) + b"." + _b64(claims)
    return signing_input + b"." + _b64(hmac.new(secret_key.encode(), signing_input, hashlib.sha256).digest())


@st.composite
def signed_tokens(draw: st.DrawFn, secret_key: str, user_id: int) -> bytes:
    """Correctly signed tokens with one claim odd or out of range, or the claims or header broken: they
    pass the signature check and reach the code that trusts what is inside."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": str(user_id), "iat": now, "exp": now + 3600, "nbf": now - 60}
    header = {"alg": "HS256", "typ": "JWT"}
    target = draw(st.sampled_from(TARGETS))
    if target == "header":
        return sign(secret_key, encode_json(draw(broken_trees(header))), encode_json(claims))
    if target == "claims":
        return sign(secret_key, encode_json(header), encode_json(draw(broken_trees(claims))))
    odd = st.one_of(st.sampled_from(SUBJECTS), st.integers().map(str)) if target == "sub" else st.sampled_from(TIMES)
    claims[target] = draw(st.one_of(odd, hostile_json()))
    return sign(secret_key, encode_json(header), encode_json(claims))


def authorizations(
    secret_key: str, user_id: int, tokens: tuple[str, str], hostile: bool, optional: bool
) -> st.SearchStrategy[list[bytes]]:
    """The Authorization header values to send (none, one, or two); `tokens` are the caller's and
    another user's; `optional`: sending none is valid too."""
    token, other = (value.encode() for value in tokens)
    if not hostile:
        valid = [[b"Token " + token], [b"Bearer " + token], [b"Token " + other]]
        return st.sampled_from(valid + ([[]] if optional else []))
    junk = st.one_of(
        st.sampled_from([[], [b""], [b"Token"], [token], [b"Basic " + token], [b"Token  " + token + b" x"]]),
        hostile_bytes().map(lambda extra: [b"Token " + extra]),
        hostile_bytes().map(lambda extra: [b"Token " + token + extra]),
        st.just([b"Token " + token, b"Token x"]),
    )
    # Half of the hostile tokens are signed: only those get past the signature to the claims.
    return st.one_of(signed_tokens(secret_key, user_id).map(lambda signed: [b"Token " + signed]), junk)
