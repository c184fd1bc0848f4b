"""Fixtures for the lab checks and for the tests newcomers write in labs/: a fresh SQLite app per test.

No shared state, so a lab check takes seconds and means the same thing on a laptop and in CI.
Only lab 7 also needs PostgreSQL (`postgres_url`): the race it teaches cannot happen on SQLite,
whose writers take turns.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.cli import migrate
from service.settings import Settings
from tests.conftest import postgres_database
from tests.query_count import QueryCounter, counting_queries

Client = TestClient[Litestar]
_names = itertools.count(1)


def lab_settings(database_url: str) -> Settings:
    # Cheap Argon2 parameters: a lab check signs up a handful of users in milliseconds.
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="lab-secret-key-that-is-long-enough-0123456789",  # noqa: S106 - test-only key
        argon2_time_cost=1,
        argon2_memory_kib=64,
        argon2_parallelism=1,
        log_level="WARNING",
    )


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated SQLite database of its own for each test."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}"
    migrate(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own (for the labs about what SQLite hides); dropped after."""
    with postgres_database("conduit_lab") as url:
        yield url


@pytest.fixture
def app(database_url: str) -> Litestar:
    return create_app(lab_settings(database_url))


@pytest.fixture
def client(app: Litestar) -> Iterator[Client]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def at_once(count: int, send: Callable[[], Response]) -> list[Response]:
    """Call `send` from `count` threads released together: the requests overlap inside the app."""
    barrier = threading.Barrier(count)

    def released() -> Response:
        barrier.wait()
        return send()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: released(), range(count)))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def register(client: Client, username: str | None = None) -> dict[str, Any]:
    """Sign up through the API; returns the `user` object, whose `token` goes in `auth(...)`."""
    name = username or f"user{next(_names)}"
    body = {"user": {"username": name, "email": f"{name}@example.com", "password": "password123"}}
    response = client.post("/api/users", json=body)
    assert response.status_code == 201, response.text
    return response.json()["user"]  # type: ignore[no-any-return]


def create_article(client: Client, token: str, title: str | None = None, **fields: Any) -> dict[str, Any]:
    article = {"title": title or f"Article {next(_names)}", "description": "about it", "body": "the body", **fields}
    response = client.post("/api/articles", json={"article": article}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()["article"]  # type: ignore[no-any-return]


def add_comment(client: Client, token: str, slug: str, body: str = "nice") -> dict[str, Any]:
    response = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()["comment"]  # type: ignore[no-any-return]


@pytest.fixture
def count_queries(app: Litestar) -> Callable[[], AbstractContextManager[QueryCounter]]:
    """`with count_queries() as log:` records every SQL statement the app runs inside the block."""
    return partial(counting_queries, app.state.database.engine)
