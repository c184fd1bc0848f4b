"""Fixtures for the in-process suites: a migrated database per backend, the app and its test client.

Every integration test runs three times: on SQLite, PostgreSQL and MariaDB. Each run creates its own
PostgreSQL and MariaDB databases (so parallel runs never collide) and drops them at the end. Without
a reachable server that part is skipped with the reason shown, unless REQUIRE_SERVICES=1 (set by
.ci/run), which makes the skip a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.app import create_app
from service.cli import migrate
from service.db import Base
from tests.query_count import QueryCounter, counting_queries
from tests.support import make_settings

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# A database name is needed to connect; it is used only to create and drop the test databases.
MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/mysql")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Every table, children first (a new table needs no edit here).
TABLES = tuple(table.name for table in reversed(Base.metadata.sorted_tables))


def skip_or_fail(reason: str) -> None:
    """Skip a test whose real component is missing; under REQUIRE_SERVICES=1 that is a failure."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


async def _admin(statement: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def postgres_unavailable_reason() -> str | None:
    """Why the PostgreSQL server of TEST_POSTGRES_URL cannot be used, or None when it can."""
    try:
        asyncio.run(asyncio.wait_for(_admin("SELECT 1"), timeout=5))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"; the reason is shown
        return f"PostgreSQL at {make_url(POSTGRES_ADMIN_URL).render_as_string()} unreachable: {exc!r}"
    return None


@contextmanager
def postgres_database(prefix: str = "conduit_test", migrated: bool = True) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated unless `migrated` is false; dropped afterwards."""
    reason = postgres_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def mariadb_unavailable_reason() -> str | None:
    """Why the MariaDB/MySQL server of TEST_MARIADB_URL cannot be used, or None when it can."""
    try:
        asyncio.run(asyncio.wait_for(_admin("SELECT 1", MARIADB_ADMIN_URL), timeout=5))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"; the reason is shown
        return f"MariaDB at {make_url(MARIADB_ADMIN_URL).render_as_string()} unreachable: {exc!r}"
    return None


@contextmanager
def mariadb_database(prefix: str = "conduit_test", migrated: bool = True) -> Iterator[str]:
    """A fresh MariaDB database, migrated unless `migrated` is false; dropped afterwards.

    Created with the server's default collation on purpose: the migrations must set their own
    (migrations/env.py), and the MariaDB integration tests would notice if they did not.
    """
    reason = mariadb_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE `{name}`", MARIADB_ADMIN_URL))
    url = make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS `{name}`", MARIADB_ADMIN_URL))


def server_database(
    backend: str,
    prefix: str = "conduit_test",
    migrated: bool = True,
) -> AbstractContextManager[str]:
    """A fresh database on the PostgreSQL or MariaDB test server, migrated unless `migrated` is false."""
    if backend == "postgresql":
        return postgres_database(prefix, migrated)
    return mariadb_database(prefix, migrated)


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{directory / 'conduit.db'}"
    migrate(url)
    yield url


BACKENDS = ("sqlite", "postgresql", "mariadb")


def fresh_database(backend: str, directory: Path, prefix: str) -> AbstractContextManager[str]:
    """A migrated database of its own on `backend`, unlike the suite's shared `database_url`
    (SQLite: a file in `directory`; a server's is dropped afterwards)."""
    return sqlite_database(directory) if backend == "sqlite" else server_database(backend, prefix)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        with sqlite_database(tmp_path_factory.mktemp("sqlite")) as url:
            yield url
    else:
        with server_database(request.param) as url:
            yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Litestar:
    return create_app(make_settings(database_url))


@pytest.fixture(scope="session")
def session_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:  # children first, so no foreign key is in the way
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def client(session_client: TestClient[Litestar], app: Litestar) -> Iterator[TestClient[Litestar]]:
    """The shared client, on empty tables (login-failure counts included)."""
    session_client.headers.clear()
    yield session_client
    # Every request must give its connection back: a leak shows here, not only under load.
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0, "a request kept its pooled connection"
    session_client.blocking_portal.call(empty_tables, app.state.database.engine)


@pytest.fixture
def count_queries(app: Litestar) -> Callable[[], AbstractContextManager[QueryCounter]]:
    """`with count_queries() as counter:` records the SQL statements the app runs inside the block."""
    return partial(counting_queries, app.state.database.engine)
