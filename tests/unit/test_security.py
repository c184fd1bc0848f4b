"""Password hashing and tokens."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from argon2 import PasswordHasher

from service.settings import Settings
from service.users.security import (
    InvalidToken,
    create_password_hasher,
    decode_token,
    encode_token,
    hash_password,
    token_from_header,
    verify_password,
    verify_password_sync,
)

SETTINGS = Settings(secret_key="unit-test-secret-key-0123456789-abcdef")
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


# OWASP's password-storage cheat sheet: Argon2id settings of equal strength, (memory KiB, passes).
OWASP_MINIMUMS = [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)]


def test_default_argon2_parameters_meet_an_owasp_minimum() -> None:
    hasher = create_password_hasher(Settings())
    assert hasher.type.name == "ID"
    assert hasher.parallelism == 1
    assert any(hasher.memory_cost >= memory and hasher.time_cost >= passes for memory, passes in OWASP_MINIMUMS), (
        f"m={hasher.memory_cost} t={hasher.time_cost} is weaker than every OWASP minimum"
    )
    assert hasher.hash("x").startswith("$argon2id$v=19$m=7168,t=5,p=1$")


def test_hash_and_verify() -> None:
    hashed = asyncio.run(hash_password(CHEAP, "correct horse"))
    assert hashed != "correct horse"
    assert asyncio.run(verify_password(CHEAP, hashed, "correct horse")).is_valid
    assert not asyncio.run(verify_password(CHEAP, hashed, "wrong horse")).is_valid
    assert not verify_password_sync(CHEAP, "not-a-hash", "x").is_valid


def test_a_hash_made_with_weaker_parameters_needs_rehash() -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    verdict = verify_password_sync(stronger, CHEAP.hash("pw"), "pw")
    assert verdict.is_valid
    assert verdict.needs_rehash


def test_hashing_runs_off_the_event_loop() -> None:
    """While a slow hash runs, the loop keeps ticking: a burst of logins cannot stall it."""
    slow = PasswordHasher(time_cost=3, memory_cost=65_536, parallelism=1)

    async def scenario() -> int:
        ticks = 0
        stop = False

        async def ticker() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        await hash_password(slow, "password")
        stop = True
        await task
        return ticks

    assert asyncio.run(scenario()) >= 5


def test_token_round_trip_and_expiry() -> None:
    token = encode_token(42, SETTINGS)
    assert decode_token(token, SETTINGS) == 42
    expired = encode_token(42, SETTINGS, now=datetime.now(UTC) - timedelta(seconds=SETTINGS.jwt_expires_seconds + 5))
    with pytest.raises(InvalidToken):
        decode_token(expired, SETTINGS)


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(
            {"sub": "1", "exp": int(time.time()) + 60}, "another-secret-key-0123456789-abcdef", algorithm="HS256"
        ),
        jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, None, algorithm="none"),
        jwt.encode({"sub": "1"}, SETTINGS.secret_key, algorithm="HS256"),  # no exp
        jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, SETTINGS.secret_key, algorithm="HS256"),
        "not.a.jwt",
    ],
    # Named, not shown: a token holding the time would get a different test id in each pytest-xdist
    # process that collects it a second later.
    ids=["other-key", "alg-none", "no-exp", "sub-not-a-number", "not-a-jwt"],
)
def test_forged_unsigned_or_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(token, SETTINGS)


@pytest.mark.parametrize("sub", ["99999999999999999999", str(2**31), "0", "-1", " 1", "\uff11", "1e3", "01"])
def test_a_signed_token_whose_subject_is_no_user_id_is_rejected(sub: str) -> None:
    """Only we can sign tokens, but a subject outside the id column's range must still be a 401, never
    a database error: the value would reach a query as an out-of-range integer."""
    token = jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, SETTINGS.secret_key, algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_token(token, SETTINGS)


def test_authorization_header_parsing() -> None:
    assert token_from_header(None) is None
    assert token_from_header("   ") is None
    assert token_from_header("Token abc") == "abc"
    assert token_from_header("Bearer abc") == "abc"
    for bad in ("Basic abc", "Token", "abc", "Token  "):
        with pytest.raises(InvalidToken):
            token_from_header(bad)
