"""The database servers of the native stack, PostgreSQL or MariaDB: does one answer, and creating,
finding and dropping a database on it.

Each server is named by the URL the test suites use too: TEST_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) and TEST_MARIADB_URL (default
mysql+asyncmy://root@127.0.0.1:3306). Its user must be allowed to create and drop databases.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ServerKind:
    """What differs between the two servers for creating and dropping a database."""

    title: str
    setting: str  # the environment variable naming the server
    default_url: str
    admin_database: str | None  # where an admin connection goes (PostgreSQL needs one; MariaDB none)
    exists_query: str
    drop_options: str
    connect_args: dict[str, Any]


KINDS = {
    "postgresql": ServerKind(
        "PostgreSQL",
        "TEST_POSTGRES_URL",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        "postgres",
        "SELECT 1 FROM pg_database WHERE datname = :name",
        # Ends the sessions still connected (an app process that was killed and not yet reaped).
        " WITH (FORCE)",
        {"timeout": TIMEOUT_SECONDS},
    ),
    "mariadb": ServerKind(
        "MariaDB",
        "TEST_MARIADB_URL",
        "mysql+asyncmy://root@127.0.0.1:3306",
        None,
        "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :name",
        "",
        {"connect_timeout": TIMEOUT_SECONDS},
    ),
}
# SQLAlchemy's backend name of each kind's URLs (MariaDB's is "mysql").
BACKENDS = {"postgresql": "postgresql", "mysql": "mariadb"}


def kind_of(database_url: str) -> str:
    """The kind of server a database URL names, "postgresql" or "mariadb"; ValueError for any other."""
    backend = make_url(database_url).get_backend_name()
    if backend not in BACKENDS:
        raise ValueError(f"{make_url(database_url).render_as_string()}: neither PostgreSQL nor MariaDB/MySQL")
    return BACKENDS[backend]


@dataclass(frozen=True, slots=True)
class DatabaseServer:
    kind: ServerKind
    url: URL  # the admin connection: the server, a user that may create databases, kind.admin_database

    @classmethod
    def configured(cls, kind: str) -> DatabaseServer:
        """The server of TEST_POSTGRES_URL or TEST_MARIADB_URL."""
        server_kind = KINDS[kind]
        return cls(server_kind, make_url(os.environ.get(server_kind.setting) or server_kind.default_url))

    @classmethod
    def holding(cls, database_url: str) -> DatabaseServer:
        """The server that holds (or will hold) the database of `database_url`, reached as its user."""
        server_kind = KINDS[kind_of(database_url)]
        # _replace, not set(): set() leaves the database alone when given None (MariaDB's admin database).
        return cls(server_kind, make_url(database_url)._replace(database=server_kind.admin_database))

    def __str__(self) -> str:
        return f"{self.kind.title} at {self.url._replace(database=None).render_as_string()}"

    def database_url(self, name: str) -> str:
        """The URL the app gets for database `name` on this server (with the password)."""
        return self.url.set(database=name).render_as_string(hide_password=False)

    def unavailable(self) -> str | None:
        """None when the server answers; otherwise the reason."""
        try:
            self._run(lambda connection: connection.execute(text("SELECT 1")))
        except (OSError, TimeoutError, SQLAlchemyError) as exc:
            return f"{self} unreachable: {exc!r}"
        return None

    def exists(self, name: str) -> bool:
        found = self._run(lambda connection: connection.execute(text(self.kind.exists_query), {"name": name}).first())
        return found is not None

    def create(self, name: str, *, exist_ok: bool) -> None:
        """CREATE DATABASE with the server's defaults (the migrations set what they need: ADR 0010)."""

        def create(connection: Connection) -> None:
            if exist_ok and connection.execute(text(self.kind.exists_query), {"name": name}).first():
                return
            connection.exec_driver_sql(f"CREATE DATABASE {_quoted(connection, name)}")

        self._run(create)

    def drop(self, name: str) -> None:
        self._run(
            lambda connection: connection.exec_driver_sql(
                f"DROP DATABASE IF EXISTS {_quoted(connection, name)}{self.kind.drop_options}"
            )
        )

    def _run(self, work: Callable[[Connection], Any]) -> Any:
        """`work` on one autocommit admin connection (CREATE and DROP DATABASE refuse a transaction)."""

        async def run() -> Any:
            engine = create_async_engine(self.url, isolation_level="AUTOCOMMIT", connect_args=self.kind.connect_args)
            try:
                async with engine.connect() as connection:
                    return await connection.run_sync(work)
            finally:
                await engine.dispose()

        return asyncio.run(asyncio.wait_for(run(), TIMEOUT_SECONDS * 2))


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)
