"""Idempotency-Key for POST writes (IETF httpapi draft): a retried request gets the first answer, not
a second write.

A client that got no answer, or a 503, cannot know whether its write was committed. It sends the
same request again with the same `Idempotency-Key` header:

1. Before the handler runs, the key is claimed by an INSERT in the request's own transaction. On
   PostgreSQL a second request with the key waits on that INSERT until the first one commits.
2. The handler's answer is stored in the claimed row, still inside that transaction, so the write
   and its answer are committed together or not at all.
3. A request whose INSERT finds the key already there gets the stored answer (with
   `Idempotent-Replayed: true`), or 422 when the key came with another request.

Keys are scoped to the signed-in user, or, for a sign-up, to the request body; they expire after
IDEMPOTENCY_KEY_TTL_SECONDS and are swept by later claims. Failed requests store nothing: their
transaction rolls back, key included, so a retry runs them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter
from litestar.response.base import ASGIResponse
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Transaction, utcnow
from service.dialects import insert_unless_taken
from service.errors import DomainError
from service.models import IdempotencyKey
from service.settings import Settings
from service.state import AppState
from service.users.auth import user_id_from_request

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_ANSWER = "idempotency_answer"  # request.state key of the answer RecordedResponse captured
_KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]

KeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",  # visible ASCII, no spaces: a UUID is the usual choice
        description=(
            "Makes a retry safe: a request repeated with the same key (and the same body) gets the first "
            "answer again instead of writing twice. Keys are per user, kept for 24 hours."
        ),
    ),
]


class KeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(HEADER, "was already used with another request")


class AnsweredBefore(Exception):
    """Not an error: this key's request was already answered; `replay` sends that answer again."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True, slots=True)
class Claim:
    key_hash: str
    fingerprint: str


def replay(_: Request[Any, Any, Any], answered: AnsweredBefore) -> Response[bytes]:
    """The stored answer, byte for byte, marked as a replay."""
    return Response(
        answered.body.encode(),
        status_code=answered.status_code,
        media_type="application/json",
        headers={REPLAYED_HEADER: "true"},
    )


async def claim(session: AsyncSession, claimed: Claim, ttl: timedelta) -> None:
    """Take the key for this request, or raise AnsweredBefore / KeyReused when it was taken before."""
    now = utcnow()
    # First statement of the request, so concurrent sweeps take their row locks in one order.
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    row = {"key_hash": claimed.key_hash, "fingerprint": claimed.fingerprint, "created_at": now, "expires_at": now + ttl}
    inserted = await insert_unless_taken(session, _KEYS, row, key=_KEYS.c.key_hash)
    if inserted is not None:
        return
    stored = (
        await session.execute(
            select(IdempotencyKey.fingerprint, IdempotencyKey.status_code, IdempotencyKey.response_body).where(
                IdempotencyKey.key_hash == claimed.key_hash
            )
        )
    ).one()
    if stored.fingerprint != claimed.fingerprint:
        raise KeyReused()
    # The answer is written in the transaction that inserted the key, so a row we can see has one.
    assert stored.status_code is not None, "an idempotency key was committed without its answer"
    assert stored.response_body is not None, "an idempotency key was committed without its answer"
    raise AnsweredBefore(stored.status_code, stored.response_body)


async def record(session: AsyncSession, claimed: Claim, status_code: int, body: bytes) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key_hash == claimed.key_hash)
        .values(status_code=status_code, response_body=body.decode())
    )


async def claim_for(request: Request[Any, Any, Any], settings: Settings, key: str) -> Claim:
    body = await request.body()
    user_id = user_id_from_request(request, settings)
    scope = f"user:{user_id}" if user_id is not None else f"body:{hashlib.sha256(body).hexdigest()}"
    fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.scope["path"].encode(), body]))
    return Claim(
        key_hash=hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest(),
        fingerprint=fingerprint.hexdigest(),
    )


async def provide_idempotent_db_session(
    state: AppState, request: Request[Any, Any, Any], idempotency_key: KeyHeader = None
) -> AsyncGenerator[AsyncSession, None]:
    """The request's transaction (service.db.Transaction), plus the key's claim and stored answer."""
    async with Transaction(state.database.sessionmaker) as session:
        if idempotency_key is None:
            yield session
            return
        claimed = await claim_for(request, state.settings, idempotency_key)
        await claim(session, claimed, timedelta(seconds=state.settings.idempotency_key_ttl_seconds))
        yield session
        # Litestar builds the response (RecordedResponse) before it finishes this dependency.
        status_code, body = request.state[_ANSWER]
        await record(session, claimed, status_code, body)


class RecordedResponse(Response[Any]):
    """A handler's answer, also kept on the request so provide_idempotent_db_session can store it."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(app, request, **kwargs)
        request.state[_ANSWER] = (response.status_code, response.body)
        return response


def idempotent_post(path: str | None = None, **kwargs: Any) -> post:
    """`@post` for a write a client may retry: it accepts an Idempotency-Key and stores its answer."""
    return post(
        path,
        dependencies={"db_session": Provide(provide_idempotent_db_session)},
        response_class=RecordedResponse,
        **kwargs,
    )


def is_idempotent(handler: HTTPRouteHandler) -> bool:
    return handler.response_class is RecordedResponse
