"""Everything that differs between SQLite, PostgreSQL and MariaDB/MySQL, in one place: how an engine
is set up, how a transaction begins, the inserts that meet a conflict, and what a bulk load
(loadtests/seed.py) must do afterwards.

Repositories never ask which database they run on; they call the functions here. ADR 0010 says what
each engine does differently and why each choice keeps the service's behaviour the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, event, func, insert, select, text
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert
from sqlalchemy.util import await_only as await_

from service.pool import FirstComePool
from service.settings import Settings

SQLITE, POSTGRESQL, MYSQL = "sqlite", "postgresql", "mysql"  # SQLAlchemy's names; MariaDB is "mysql"


def backend_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# ---- Engines ---------------------------------------------------------------------------------


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine tuned per database: SQLite with WAL and foreign keys; PostgreSQL and MariaDB with a
    bounded pool, connect and statement timeouts, and READ COMMITTED (MariaDB's default would be
    REPEATABLE READ, whose gap locks make concurrent inserts wait on each other)."""
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == SQLITE:
        return _sqlite_engine(url)
    pooled: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "poolclass": FirstComePool,  # the longest-waiting request gets the next free connection
        "pool_pre_ping": True,  # a connection the server closed (restart, failover) is replaced, not used
        # Error messages (and so logged tracebacks) would otherwise carry the bound values:
        # e-mail addresses, password hashes.
        "hide_parameters": True,
    }
    # The client gives up a second after the server should have: a frozen server is a 503, not a hang.
    client_timeout = settings.db_statement_timeout_ms / 1000 + 1
    if backend == MYSQL:
        engine = create_async_engine(
            url,
            **pooled,
            isolation_level="READ COMMITTED",
            connect_args={
                "connect_timeout": settings.db_connect_timeout_seconds,
                "read_timeout": client_timeout,
                "charset": "utf8mb4",
                "async_creator_fn": _asyncmy_connect_within(settings.db_connect_timeout_seconds),
            },
        )
        event.listen(engine.sync_engine, "connect", _mysql_session_settings(settings.db_statement_timeout_ms))
        return engine
    engine = create_async_engine(
        url,
        **pooled,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": client_timeout,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "conduit",
            },
        },
    )
    # The pool calls the dialect's do_ping on every checkout; this instance's ping is cheaper.
    engine.dialect.do_ping = _ping_in_one_round_trip  # type: ignore[method-assign]
    return engine


def _sqlite_engine(url: URL) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, hide_parameters=True)
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


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


def _ping_in_one_round_trip(dbapi_connection: Any) -> bool:
    """The pre-ping on PostgreSQL: one `SELECT 1`, one round trip.

    SQLAlchemy's asyncpg ping is BEGIN, a prepared `;` and ROLLBACK (the transaction is there for
    PgBouncer's transaction mode, where a prepared statement could meet another server connection):
    three round trips. asyncpg's execute() without arguments sends the statement with the simple
    query protocol, which prepares nothing, so it is one message that also passes PgBouncer (an
    empty statement would do, but asyncpg's execute() cannot read its empty status). A closed
    connection fails it just the same: the error is translated as in SQLAlchemy's own ping, and the
    pool replaces the connection (tests/faults/test_database_faults.py, restart between requests).
    """
    try:
        await_(dbapi_connection._connection.execute("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - translated into the DBAPI error the pool checks, then raised
        dbapi_connection._handle_exception(error)
    return True


def _asyncmy_connect_within(seconds: float) -> Callable[..., Awaitable[Any]]:
    """asyncmy.connect, given up on after `seconds` in all.

    asyncmy's connect_timeout bounds only the TCP connect; the server's greeting and the login are
    read under read_timeout (statement timeout + 1 s), so a frozen server, whose kernel still
    accepts connections, kept a new connection waiting that long, where asyncpg's `timeout` covers
    the whole handshake. Raises TimeoutError, as asyncpg does (a 503 in errors.py). SQLAlchemy's
    asyncmy adapter calls this in place of asyncmy.connect (the `async_creator_fn` argument that
    create_async_engine's `async_creator` uses), with the arguments it built from the URL.
    """

    async def connect(*args: Any, **kwargs: Any) -> Any:
        import asyncmy  # imported on the first MariaDB/MySQL connection only

        async def open_connection() -> Any:
            return await asyncmy.connect(*args, **kwargs)

        return await asyncio.wait_for(open_connection(), seconds)

    return connect


def _mysql_session_settings(statement_timeout_ms: int) -> Any:
    def configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        """UTC for NOW() and DATETIME arithmetic, strict SQL (an over-long value is an error, never
        cut short), and the statement timeout: MariaDB's max_statement_time (seconds, every
        statement); MySQL 8's max_execution_time (milliseconds) bounds SELECTs only."""
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION time_zone = '+00:00'")
        cursor.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'")
        cursor.execute("SELECT VERSION()")
        is_mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
        if is_mariadb:
            cursor.execute(f"SET SESSION max_statement_time = {statement_timeout_ms / 1000:.3f}")
        else:
            cursor.execute(f"SET SESSION max_execution_time = {int(statement_timeout_ms)}")
        cursor.close()

    return configure


# ---- Inserts that meet a conflict ----------------------------------------------------------------


def keep_existing(session: AsyncSession, table: Table, key: Column[Any]) -> Insert:
    """An INSERT for which a row already there (same primary or unique key) is not an error and is
    left as it is: ON CONFLICT DO NOTHING, or MariaDB's ON DUPLICATE KEY UPDATE with a no-op
    assignment (never INSERT IGNORE, which would also silence foreign-key and data errors).

    Use it where the caller does not need to know whether a row was added (a favorite, a follow, a
    tag); `insert_unless_taken` tells.
    """
    backend = backend_of(session)
    if backend == MYSQL:
        keep: Insert = mysql.insert(table).on_duplicate_key_update({key.name: key})
        return keep
    module = postgresql if backend == POSTGRESQL else sqlite
    do_nothing: Insert = module.insert(table).on_conflict_do_nothing()
    return do_nothing


async def insert_unless_taken(session: AsyncSession, table: Table, values: dict[str, Any], key: Column[Any]) -> Any:
    """Insert one row into `table`; its `key` (the new id), or None when a unique key of the table
    (primary or not) already holds one of its values, in which case nothing is written.

    PostgreSQL and SQLite answer in one statement (ON CONFLICT DO NOTHING RETURNING). MariaDB has no
    such clause, and its ON DUPLICATE KEY UPDATE reports a duplicate and an insert alike under
    SQLAlchemy's FOUND_ROWS flag, so there the insert runs in a savepoint and its duplicate-key error
    is the answer.
    """
    backend = backend_of(session)
    if backend != MYSQL:
        module = postgresql if backend == POSTGRESQL else sqlite
        return await session.scalar(module.insert(table).values(values).on_conflict_do_nothing().returning(key))
    try:
        async with session.begin_nested():
            result = await session.execute(insert(table).values(values))
    except IntegrityError as error:
        if _is_duplicate_key(error):
            return None
        raise
    return values.get(key.name, result.lastrowid)  # type: ignore[attr-defined]  # an autoincrement id


def _is_duplicate_key(error: IntegrityError) -> bool:
    return bool(getattr(error.orig, "args", None)) and error.orig.args[0] == _MYSQL_DUPLICATE_KEY  # type: ignore[union-attr]


_MYSQL_DUPLICATE_KEY = 1062  # ER_DUP_ENTRY


async def insert_returning_id(session: AsyncSession, statement: Insert, table: Table) -> int | None:
    """Run an INSERT ... SELECT of at most one row; the new row's id, or None when the SELECT found
    nothing. RETURNING where the database has it for INSERT ... SELECT, else the driver's last id."""
    if backend_of(session) != MYSQL:
        new_id: int | None = await session.scalar(statement.returning(table.c.id))
        return new_id
    result = await session.execute(statement)
    return int(result.lastrowid) if result.rowcount else None  # type: ignore[attr-defined]


# ---- Migrations ----------------------------------------------------------------------------------

# PostgreSQL's advisory locks are per database, so one fixed key serves every database on a server.
MIGRATION_LOCK_KEY = 0x636F6E6475697400  # "conduit\0"
_POSTGRESQL_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired


@contextmanager
def migration_lock(connection: Connection, attempt_seconds: float) -> Iterator[None]:
    """Hold the database's migration lock while the body runs, so that migrations started at once
    (a Job and its retry, several pods, two operators) run one after the other: the first applies
    them, the others wait, then find nothing left to do.

    PostgreSQL: a session advisory lock (pg_advisory_lock) on this connection; MariaDB/MySQL:
    GET_LOCK, whose name is server-wide, so it names the database. SQLite: none (one file, one host:
    start one `migrate` at a time). The wait is made of attempts of `attempt_seconds` each, shorter
    than the statement timeout and the client's read timeout, so a long migration elsewhere is
    waited out, not a timeout error. The lock goes with the connection: if the body fails, closing
    the connection (env.py disposes of its engine) releases it.
    """
    backend = connection.dialect.name
    if backend == SQLITE:
        yield
        return
    if backend == POSTGRESQL:
        while not _try_postgresql_lock(connection, attempt_seconds):
            pass
        connection.commit()  # a session lock outlives the transaction; Alembic then begins its own
        yield
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
    else:
        name = "CONCAT('conduit_migrations_', MD5(DATABASE()))"  # at most 64 characters
        while connection.exec_driver_sql(f"SELECT GET_LOCK({name}, {attempt_seconds:.3f})").scalar() != 1:
            pass
        connection.commit()
        yield
        connection.exec_driver_sql(f"SELECT RELEASE_LOCK({name})")
    connection.commit()


def _try_postgresql_lock(connection: Connection, seconds: float) -> bool:
    """One wait for the advisory lock, given up after `seconds` (lock_timeout) with False."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}")
    try:
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != _POSTGRESQL_LOCK_NOT_AVAILABLE:
            raise
        connection.rollback()  # SET LOCAL goes with it
        return False
    return True


# ---- After a bulk load (loadtests/seed.py) ---------------------------------------------------------


async def follow_explicit_ids(connection: AsyncConnection, tables: Iterable[Table]) -> None:
    """After rows were inserted with their ids given, make each table's next generated id follow the
    largest one.

    Only PostgreSQL needs it: a sequence moves only when asked for a value, so the service's next
    insert would be handed an id the load already used. MariaDB's AUTO_INCREMENT and SQLite's rowid
    follow the largest id by themselves.
    """
    if connection.dialect.name != POSTGRESQL:
        return
    for table in tables:
        largest = select(func.max(table.c.id)).scalar_subquery()  # NULL for an empty table: setval skips it
        await connection.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), largest)))


async def refresh_statistics(connection: AsyncConnection, tables: Iterable[Table]) -> None:
    """Fresh planner statistics for `tables` after a bulk load, so query plans fit the new size.

    PostgreSQL and SQLite say `ANALYZE t`, MariaDB `ANALYZE TABLE t` (a bare `ANALYZE` is a syntax
    error there). SQLite would otherwise have none at all: it never analyzes by itself.
    """
    keyword = "ANALYZE TABLE" if connection.dialect.name == MYSQL else "ANALYZE"
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        await connection.execute(text(f"{keyword} {quote(table.name)}"))
