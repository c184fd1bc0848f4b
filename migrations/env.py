"""Alembic environment: async engine, the service's metadata, the URL from the service's settings."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from service import models  # noqa: F401 - registers the tables on Base.metadata
from service.db import Base
from service.dialects import create_engine, migration_lock
from service.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _settings() -> Settings:
    url = config.attributes.get("database_url") or config.get_main_option("database_url")
    settings = Settings.from_env()
    return settings.with_changes(database_url=url) if url else settings


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
    )


def run_migrations_offline() -> None:
    _configure(url=_settings().database_url)
    with context.begin_transaction():
        context.run_migrations()


# Binary and NO PAD, as PostgreSQL and SQLite compare text: "Jake" and "jake" are two usernames, and
# "jake " is not "jake". (MariaDB's and MySQL's defaults compare case-insensitively and ignore
# trailing spaces; e-mails are unique regardless of case because the service stores them lower-cased.)
MARIADB_COLLATION, MYSQL_COLLATION = "utf8mb4_nopad_bin", "utf8mb4_0900_bin"


def _use_binary_collation(connection: Connection) -> None:
    """Make it the database's default before any table is made, so every table and column inherits
    it, whatever collation the database was created with (the migrations name none)."""
    collation = MARIADB_COLLATION if connection.dialect.is_mariadb else MYSQL_COLLATION  # type: ignore[attr-defined]
    connection.exec_driver_sql(f"ALTER DATABASE CHARACTER SET utf8mb4 COLLATE {collation}")
    # End the transaction that statement began, or Alembic would take it for the caller's and never
    # commit (DDL commits by itself on MariaDB; the version row after the last migration would not).
    connection.commit()


def _run_sync(connection: Connection, lock_attempt_seconds: float) -> None:
    # Several `migrate` at once (pods, a Job and its retry): one applies, the others wait, then find
    # the database at head and do nothing (tests/integration/test_concurrent_migrations.py).
    with migration_lock(connection, lock_attempt_seconds):
        if connection.dialect.name == "mysql":
            _use_binary_collation(connection)
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


async def run_migrations_online() -> None:
    settings = _settings()
    engine = create_engine(settings)
    # Each wait for the lock ends before the statement timeout would end it (and is then retried).
    lock_attempt_seconds = settings.db_statement_timeout_ms / 2000
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync, lock_attempt_seconds)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
