"""Declarative base, the engine, and the one transaction each request runs in."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from litestar import Request
from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect, Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from service.errors import DomainError
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


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are normalised to UTC on the way
    in and the zone is re-attached on the way out (spec quirk Q1).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use service.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes ON CONFLICT clauses, for the session's database: the one statement whose
    SQLAlchemy construct differs between SQLite and PostgreSQL (both spell the SQL alike)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement: postgresql.Insert | sqlite.Insert = module.insert(table)
    return statement


def insert_ignore(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING: a row that is already there is not an error."""
    return upsert(session, table).on_conflict_do_nothing()


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: the database's answer to "did this write happen"."""
    return cast(CursorResult[Any], result).rowcount


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine tuned per backend: SQLite with WAL and foreign keys, PostgreSQL with timeouts."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,  # a connection the server closed (restart, failover) is replaced, not used
        # Error messages (and so logged tracebacks) would otherwise carry the bound values:
        # e-mail addresses, password hashes.
        hide_parameters=True,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 1,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "conduit",
            },
        },
    )


def _configure_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes; WAL keeps it consistent
    cursor.execute("PRAGMA busy_timeout = 5000")  # writers queue for the lock instead of failing at once
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Start every transaction with BEGIN IMMEDIATE (reads in autocommit mode have none).

    Python's sqlite3 driver would only begin before the first INSERT/UPDATE/DELETE: the reads before
    it ran outside the transaction, and a SAVEPOINT could commit on its release. An explicit BEGIN
    fixes both; IMMEDIATE takes the write lock at once (waiting up to busy_timeout for it), because a
    transaction that read first and wrote later fails without waiting when another writer committed
    in between. Writes on SQLite queue one after the other, which is what SQLite does anyway.
    """
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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


def sessionmaker_for(request: Request[Any, Any, Any], database: Database) -> async_sessionmaker[AsyncSession]:
    """Exception 2 to "one transaction per request": reads (GET, HEAD) run without BEGIN/COMMIT.

    They change nothing, each statement still reads one consistent snapshot, and the two round
    trips were ~14% of a list request's cost. The trade (two statements of one GET can see a write
    commit in between) is in ADR 0003.
    """
    return database.read_sessionmaker if request.method in READ_ONLY_METHODS else database.sessionmaker


async def provide_db_session(state: AppState, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One session and one transaction per request, committed after the handler returns and
    before the response is sent, so a failing commit reaches the client as an error."""
    async with Transaction(sessionmaker_for(request, state.database)) as session:
        yield session
