"""Migrations: the models match them (alembic check) and they round-trip on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.cli import alembic_config
from service.db import Base
from tests.conftest import BACKENDS, fresh_database, server_database


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "conduit_migrations") as url:
        yield url


def _table_names(url: str) -> set[str]:
    async def inspect_tables() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
                return set(names) - {"alembic_version"}
        finally:
            await engine.dispose()

    return asyncio.run(inspect_tables())


def test_models_and_migrations_agree(fresh_database_url: str) -> None:
    command.check(alembic_config(fresh_database_url))  # raises on any drift


def test_upgrade_downgrade_upgrade_round_trips(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    assert _table_names(fresh_database_url) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert _table_names(fresh_database_url) == set()
    command.upgrade(config, "head")
    assert _table_names(fresh_database_url) == set(Base.metadata.tables)
    command.check(config)


def test_migration_history_is_linear() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_on_mariadb_every_text_column_compares_as_on_postgresql() -> None:
    """Binary and NO PAD: "Jake" and "jake" differ, and "jake " is not "jake" (migrations/env.py sets
    it; the test database was created with the server's case-insensitive default on purpose)."""

    async def collations(url: str) -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT DISTINCT collation_name FROM information_schema.columns "
                        "WHERE table_schema = DATABASE() AND collation_name IS NOT NULL"
                    )
                )
                return {row[0] for row in rows}
        finally:
            await engine.dispose()

    with server_database("mariadb", "conduit_collation") as url:
        assert asyncio.run(collations(url)) == {"utf8mb4_nopad_bin"}
