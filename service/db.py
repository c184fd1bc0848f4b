"""Declarative base, the database a process talks to, and the one transaction each request runs in.

What differs between SQLite, PostgreSQL and MariaDB lives in service/dialects.py."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from litestar.utils.scope.state import CONNECTION_STATE_KEY
from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from service.dialects import create_engine
from service.errors import TRANSACTION_CONFLICT, DomainError
from service.settings import Settings
from service.state import AppState

# Named constraints make migrations reviewable and let errors.py tell which field a violation is about.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Column types whose MariaDB/MySQL spelling must differ (the migrations use them too):
# DATETIME(6), as a plain DATETIME would drop the fraction (spec quirk Q1, docs/spec-quirks.md);
# MEDIUMTEXT where a value can pass TEXT's 64 KiB (an article body of 65,536 characters, a stored
# answer that holds one).
TIMESTAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql")
LONG_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
_NAIVE_UTC = frozenset({"sqlite", "mysql"})  # databases whose timestamp type has no zone


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores `timestamptz`; SQLite and MariaDB have no zone in the type, so values are
    normalised to UTC on the way in and the zone is re-attached on the way out (spec quirk Q1,
    docs/spec-quirks.md).
    """

    impl = TIMESTAMP
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use service.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name in _NAIVE_UTC else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: the database's answer to "did this write happen"."""
    return cast(CursorResult[Any], result).rowcount


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose connections run each statement on its own (no BEGIN/COMMIT), for reads.

    Same pool as the engine's; the connection is taken lazily, at the first query, and its
    isolation level is restored when it goes back to the pool.
    """
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built after the commit from objects already loaded.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@dataclass(frozen=True, slots=True)
class Database:
    """The engine and the two kinds of session a request can get (see provide_db_session)."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        return cls(engine, create_sessionmaker(engine), create_read_sessionmaker(engine))


_log = structlog.get_logger("service.db")

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


class Transaction:
    """`async with Transaction(sessionmaker) as session:` commits when the block ends and rolls
    back when it raises, with one exception: see `ends_in_commit`.

    A class rather than an @asynccontextmanager generator on purpose: the request dependencies
    are generators already, and when Litestar leaves one unfinished (it does when a later
    dependency raises), the garbage collector would finalize the two nested generators in two
    tasks at once ("aclose(): asynchronous generator is already running").
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.session = sessionmaker()

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, exc_type: type[BaseException] | None, error: BaseException | None, _: object) -> None:
        try:
            await (self.session.commit() if ends_in_commit(error) else self.session.rollback())
        finally:
            await self.session.close()


def ends_in_commit(error: BaseException | None) -> bool:
    """Exception 1 to "a request that fails writes nothing": a domain error that keeps its writes.

    A failed login answers 401 and must still store the attempt it counted, or the failed-login
    limit would count nothing (`LoginFailed.keeps_writes`). Every other error rolls back.
    """
    return error is None or (isinstance(error, DomainError) and error.keeps_writes)


class ReadSession(Transaction):
    """Exception 2 to "one transaction per request": reads (GET, HEAD) run without BEGIN/COMMIT.

    They change nothing, each statement still reads one consistent snapshot, and the two round
    trips were ~14% of a list request's cost. The trade (two statements of one GET can see a write
    commit in between) is in ADR 0003. With each statement committed on its own there is nothing
    to commit or roll back at the end, so the session is only closed: the ORM's commit, a no-op on
    the wire, still cost ~4% of a list request's CPU.
    """

    async def __aexit__(self, exc_type: type[BaseException] | None, error: BaseException | None, _: object) -> None:
        await self.session.close()


def transaction_for(request: Request[Any, Any, Any], database: Database) -> Transaction:
    if request.method in READ_ONLY_METHODS:
        return ReadSession(database.read_sessionmaker)
    return Transaction(database.sessionmaker)


async def provide_db_session(state: AppState, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One session and one transaction per request, committed after the handler returns and
    before the response is sent, so a failing commit reaches the client as an error."""
    async with transaction_for(request, state.database) as session:
        yield session


class RetryTransactionConflicts(ASGIMiddleware):
    """Run a write request again, from the start, when the database rolled its transaction back to
    break a deadlock (MariaDB 1213, PostgreSQL 40P01) or a serialization failure (40001).

    InnoDB meets such deadlocks in ordinary traffic: one user favoriting an article many times at
    once while its author deletes it is enough (tests/races). The database kept nothing of the
    victim, so running it again is safe, and it most often succeeds; only after `attempts` does the
    client get the 503 (with `Retry-After: 1`). The body is replayed from what was received; the
    answer of a failed attempt is never sent, so the client sees one response. Reads have no
    transaction to lose and are not retried.
    """

    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, attempts: int = 5) -> None:
        self.attempts = attempts

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") in READ_ONLY_METHODS:
            await next_app(scope, receive, send)
            return
        received: list[ReceiveMessage] = []

        async def recording_receive() -> ReceiveMessage:
            message = await receive()
            received.append(message)
            return message

        # What routing cached before this point; each attempt starts from a copy of it, so one
        # attempt's parsed body or dependency cache is not the next one's.
        litestar_state = scope["state"].get(CONNECTION_STATE_KEY)
        for attempt in range(1, self.attempts + 1):
            _reset_state(scope, litestar_state)
            last = attempt == self.attempts
            if not await _run_once(next_app, scope, _replaying(received, recording_receive), send, last):
                return
            _log.info("transaction_retried", attempt=attempt)
            # Jittered backoff, so the transactions that deadlocked do not meet again at once.
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 (not for security)


async def _run_once(app: ASGIApp, scope: Scope, receive: Receive, send: Send, last: bool) -> bool:
    """Run the request; True if it ended in a transaction conflict whose answer was held back."""
    held_back = False

    async def send_unless_held_back(message: Message) -> None:
        nonlocal held_back
        if message["type"] == "http.response.start" and not last:
            held_back = bool(scope["state"].get(TRANSACTION_CONFLICT))
        if not held_back:
            await send(message)

    await app(scope, receive, send_unless_held_back)
    return held_back


def _reset_state(scope: Scope, litestar_state: Any) -> None:
    # In place, not a copy of the scope: what the layers outside read back from it once the
    # request is done (the request log's user_id) must be what the last attempt wrote.
    state = {key: value for key, value in scope["state"].items() if key != TRANSACTION_CONFLICT}
    if litestar_state is not None:
        state[CONNECTION_STATE_KEY] = copy.copy(litestar_state)
    scope["state"] = state


def _replaying(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """A receive that first gives back what earlier attempts read (the body), then reads on."""
    pending = list(received)

    async def replay_then_receive() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay_then_receive
