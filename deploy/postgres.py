"""The local PostgreSQL server for the native stack: reachability, create and drop a database."""

from __future__ import annotations

import asyncio
import os

import asyncpg
from sqlalchemy.engine import make_url

ADMIN_DATABASE_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(ADMIN_DATABASE_URL), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_unavailable() -> str | None:
    """None when the admin database answers; otherwise the reason."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {make_url(ADMIN_DATABASE_URL).render_as_string()} unreachable: {exc!r}"
    return None


def create_database(database_url: str, *, exist_ok: bool) -> None:
    name = make_url(database_url).database
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except asyncpg.DuplicateDatabaseError:
        if not exist_ok:
            raise


def drop_database(database_url: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
