"""The commands behind `make migrate`, `make seed`, `make seed-load` and `make run`, run as a user would.

Both seeds run on a fresh database of each engine (SQLite, PostgreSQL, MariaDB), twice: the second
run must change nothing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from deploy.processes import AppProcess
from loadtests import seed as load_seed
from service.app import create_app
from service.articles.slugs import slugify
from service.cli.demo_data import DEMO_ARTICLES, DEMO_PASSWORD, seed_demo
from service.db import Base
from service.dialects import create_engine
from tests.conftest import BACKENDS, fresh_database
from tests.support import auth, make_settings

ROOT = Path(__file__).resolve().parents[2]
# `make seed-load` at a size a test can afford; the same flags as on the command line.
SMALL = ["--users", "12", "--articles", "40", "--tags", "5", "--comments", "50"]
SMALL += ["--follows-per-user", "3", "--favorites-per-user", "4"]


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path, "conduit_seed") as url:
        yield url


def row_counts(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        engine = create_engine(make_settings(url))
        try:
            async with engine.connect() as connection:
                return {
                    name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
                    for name, table in Base.metadata.tables.items()
                }
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_seed_is_friendly_and_idempotent(fresh_database_url: str) -> None:
    settings = make_settings(fresh_database_url)
    asyncio.run(seed_demo(settings))
    after_first = row_counts(fresh_database_url)
    asyncio.run(seed_demo(settings))  # a second run changes nothing
    assert row_counts(fresh_database_url) == after_first
    assert (after_first["users"], after_first["articles"], after_first["comments"]) == (3, 3, 3)
    with TestClient(create_app(settings)) as client:
        listing = client.get("/api/articles").json()
        assert listing["articlesCount"] == 3
        login = client.post(
            "/api/users/login", json={"user": {"email": "linus@example.com", "password": DEMO_PASSWORD}}
        )
        token = login.json()["user"]["token"]
        feed = client.get("/api/articles/feed", headers=auth(token)).json()
        assert [a["author"]["username"] for a in feed["articles"]] == ["ada"]
        welcome_slug = slugify(DEMO_ARTICLES[0].title)  # the generator renames the title (starter/)
        welcome = client.get(f"/api/articles/{welcome_slug}").json()["article"]
        assert welcome["favoritesCount"] == 2
        assert len(client.get(f"/api/articles/{welcome_slug}/comments").json()["comments"]) == 2


def test_seed_load_fills_the_database_once(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    load_seed.main(SMALL)  # as `make seed-load` runs it: migrate (nothing to do here), then the bulk inserts
    assert "12 users, 5 tags, 40 articles, 120 article_tags, 50 comments" in capsys.readouterr().out
    counts = row_counts(fresh_database_url)
    assert {name: counts[name] for name in ("users", "tags", "articles", "article_tags", "comments")} == {
        "users": 12,
        "tags": 5,
        "articles": 40,
        "article_tags": 120,
        "comments": 50,
    }
    assert (counts["follows"], counts["favorites"]) == (12 * 3, 12 * 4)

    load_seed.main(SMALL)  # the second run finds the data set and writes nothing
    assert "already there; nothing written" in capsys.readouterr().out
    assert row_counts(fresh_database_url) == counts
    with pytest.raises(SystemExit, match="load data set of 12 users, not 13"):
        load_seed.main(["--no-migrate", *SMALL, "--users", "13"])  # another size: an error, no mixed data
    assert row_counts(fresh_database_url) == counts

    with TestClient(create_app(make_settings(fresh_database_url))) as client:
        credentials = {"email": load_seed.email(0), "password": load_seed.LOAD_PASSWORD}
        login = client.post("/api/users/login", json={"user": credentials})
        assert login.status_code == 200, login.text
        token = login.json()["user"]["token"]
        assert client.get("/api/articles?limit=5").json()["articlesCount"] == 40
        feed = client.get("/api/articles/feed?limit=50", headers=auth(token)).json()
        assert feed["articlesCount"] == len(feed["articles"]) > 0
        # The service's own inserts get new ids after the explicit ones (PostgreSQL's sequences moved).
        article = {"title": "After the load", "description": "d", "body": "b", "tagList": ["fresh-tag"]}
        created = client.post("/api/articles", json={"article": article}, headers=auth(token))
        assert created.status_code == 201, created.text
        comment = client.post(
            "/api/articles/after-the-load/comments", json={"comment": {"body": "first"}}, headers=auth(token)
        )
        assert comment.status_code == 200, comment.text
        newcomer = {"username": "newcomer", "email": "newcomer@example.com", "password": "password123"}
        assert client.post("/api/users", json={"user": newcomer}).status_code == 201


def test_migrate_and_serve_commands_start_a_working_server(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"}
    subprocess.run(
        [sys.executable, "-m", "service.cli", "migrate"],
        cwd=tmp_path,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=60,
    )
    server = AppProcess(env, tmp_path / "server.log", workdir=tmp_path)
    try:
        server.wait_ready()
        user = {"username": "cli", "email": "cli@example.com", "password": "password123"}
        assert httpx.post(f"{server.base_url}/api/users", json={"user": user}).status_code == 201
        assert httpx.get(f"{server.base_url}/api/articles").json() == {"articles": [], "articlesCount": 0}
    finally:
        server.stop()
