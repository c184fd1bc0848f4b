"""The bench's speed-of-light reference answers byte for byte what the service answers, or its ratio
would compare two different jobs (loadtests/bench/reference.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from loadtests.bench.reference import ReferenceApp
from service.app import create_app
from tests.conftest import postgres_database
from tests.support import add_comment, auth, create_article, make_settings, register


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with postgres_database("conduit_reference") as url:
        yield url


def _reference_answers(dsn: str, secret_key: str, requests: list[tuple[str, dict[str, str]]]) -> list[bytes]:
    async def fetch() -> list[bytes]:
        app = ReferenceApp(dsn, secret_key)
        app.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        try:
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://reference") as client:
                return [(await client.get(path, headers=headers)).content for path, headers in requests]
        finally:
            await app.pool.close()

    return asyncio.run(fetch())


def test_the_reference_answers_exactly_what_the_service_answers(database_url: str) -> None:
    settings = make_settings(database_url)
    with TestClient(create_app(settings)) as client:
        author, reader = register(client, "author"), register(client, "reader")
        for i in range(5):
            slug = create_article(client, author["token"], title=f"Article {i}", tagList=["b", "a", f"t{i}"])["slug"]
            if i % 2:
                client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
                add_comment(client, reader["token"], slug)
        create_article(client, reader["token"], title="Untagged")
        client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
        client.put(
            "/api/user",
            json={"user": {"bio": "writes", "image": "https://img.example/a.png"}},
            headers=auth(author["token"]),
        )
        requests = [
            ("/api/articles?limit=20", {}),
            ("/api/articles?limit=3&offset=2", auth(reader["token"])),
            ("/api/articles/feed?limit=20", auth(reader["token"])),
            ("/api/articles/article-1", auth(reader["token"])),
            ("/api/articles/untagged", {}),
            ("/api/tags", {}),
        ]
        expected = [client.get(path, headers=headers).content for path, headers in requests]
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert _reference_answers(dsn, settings.secret_key, requests) == expected
