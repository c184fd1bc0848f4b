"""Lab 4 check: no query behind the article list scans the favorites table, and models match migrations."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import Client, auth, create_article, register
from litestar import Litestar
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from service.cli import alembic_config
from service.db import Base

STARTED = Path(__file__).resolve().parent / ".started"
FULL_SCAN = re.compile(r"\bSCAN (?:TABLE )?favorites\b")


def test_the_lab_is_started() -> None:
    assert STARTED.exists(), "run `make lab-start N=4` first: it plants the bug you will hunt"


@contextmanager
def recording(app: Litestar) -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    statements: list[tuple[str, tuple[object, ...]]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
        statements.append((statement, tuple(parameters) if isinstance(parameters, (tuple, list)) else ()))

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plans(database_url: str, statements: list[tuple[str, tuple[object, ...]]]) -> list[tuple[str, list[str]]]:
    path = make_url(database_url).database
    assert path
    with sqlite3.connect(path) as connection:
        return [
            (statement, [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)])
            for statement, parameters in statements
            if statement.lstrip().upper().startswith("SELECT")
        ]


def test_listing_articles_never_scans_favorites(client: Client, app: Litestar, database_url: str) -> None:
    writer, reader = register(client, "writer"), register(client, "reader")
    for _ in range(3):
        slug = create_article(client, writer["token"])["slug"]
        client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
    with recording(app) as statements:
        for path, headers in (("/api/articles", {}), ("/api/articles", auth(reader["token"]))):
            assert client.get(path, headers=headers).status_code == 200
        assert client.get("/api/articles", params={"favorited": "reader"}).json()["articlesCount"] == 3
    scans = [
        f"{' | '.join(plan)}\n    in: {statement[:300]}"
        for statement, plan in _plans(database_url, statements)
        if any(FULL_SCAN.search(step) for step in plan)
    ]
    assert not scans, "these queries read the whole favorites table for each article:\n" + "\n".join(scans)


def test_the_models_and_the_migrations_agree(database_url: str) -> None:
    import service.models  # noqa: F401 - registers the tables

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    engine = create_engine(make_url(database_url).set(drivername="sqlite"))
    try:
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    if drift:
        pytest.fail(f"service/models.py and migrations/ disagree (write or fix a migration): {drift}")
