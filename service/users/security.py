"""Password hashing and token encoding: pure functions, no I/O."""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.models import ID_MAX
from service.settings import Settings

JWT_ALGORITHM = "HS256"
# The subject is a user id written by encode_token: plain ASCII digits, no sign, no spaces.
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


class InvalidToken(ValueError):
    """The token is malformed, expired, or not signed by us."""


@dataclass(frozen=True, slots=True)
class PasswordVerdict:
    is_valid: bool
    needs_rehash: bool


def create_password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def hash_password_sync(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify_password_sync(hasher: PasswordHasher, password_hash: str, password: str) -> PasswordVerdict:
    try:
        hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordVerdict(is_valid=False, needs_rehash=False)
    return PasswordVerdict(is_valid=True, needs_rehash=hasher.check_needs_rehash(password_hash))


# Argon2 costs tens of milliseconds of CPU and argon2_memory_kib (7 MiB) of memory on purpose.
# argon2-cffi releases the GIL, so hashing in threads keeps the event loop serving other requests
# during a burst of logins. One thread per core, in a pool of its own: more hashes at once would
# not finish sooner (each keeps a core busy), but each would hold its memory block, and asyncio's
# default pool runs up to cores + 4.
_HASHING = ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="argon2")


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, partial(hash_password_sync, hasher, password))


async def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> PasswordVerdict:
    verify = partial(verify_password_sync, hasher, password_hash, password)
    return await asyncio.get_running_loop().run_in_executor(_HASHING, verify)


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's initial value


def keep_large_blocks_returnable() -> None:
    """Make every block over 128 KiB an mmap that free() hands back to the system, for good.

    That is glibc's rule at start, but after the first such block is freed it raises the threshold
    to that block's size (up to 32 MiB): every later Argon2 block (7 MiB) then comes from a heap
    arena, and the process keeps the memory. Setting the threshold fixes it (and turns the sliding
    off). Measured after 100 concurrent hashes on 2 cores: the process kept +14 MiB (a block per
    hashing thread) without it, under 1 MiB with it (tests/unit/test_password_memory.py). Elsewhere
    than glibc (musl, macOS) it does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def encode_token(user_id: int, settings: Settings, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + timedelta(seconds=settings.jwt_expires_seconds)}
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


def decode_token(token: str, settings: Settings) -> int:
    """The user id in a valid token; only HS256 is accepted, so `alg: none` and key confusion fail."""
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    subject = claims["sub"]
    # Checked even though only we sign tokens: an id out of the column's range would reach a query
    # and fail there (a 500 on PostgreSQL) instead of being a plain 401.
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject) or int(subject) > ID_MAX:
        raise InvalidToken("the subject is not a user id")
    return int(subject)


def token_from_header(header: str | None) -> str | None:
    """The token in `Authorization: Token <jwt>` (or `Bearer <jwt>`); None if the header is absent.

    Raises InvalidToken for a header that is present but malformed or uses another scheme.
    """
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        raise InvalidToken("expected 'Token <jwt>'")
    return token.strip()
