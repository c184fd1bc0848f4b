"""Fixtures for the lab checks and for the tests newcomers write in labs/: a fresh SQLite app per test.

No shared state, so a lab check takes seconds and means the same thing on a laptop and in CI.
Only lab 7 also needs PostgreSQL (`postgres_url`): the race it teaches cannot happen on SQLite,
whose writers take turns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.cli import migrate
from tests.conftest import postgres_database
from tests.query_count import QueryCounter, counting_queries
from tests.support import Client, add_comment, auth, create_article, make_settings, register

# The lab checks and the tests newcomers write import these from here (`from conftest import ...`).
__all__ = ["Client", "add_comment", "at_once", "auth", "create_article", "make_settings", "register"]


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
    return create_app(make_settings(database_url))


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


@pytest.fixture
def count_queries(app: Litestar) -> Callable[[], AbstractContextManager[QueryCounter]]:
    """`with count_queries() as log:` records every SQL statement the app runs inside the block."""
    return partial(counting_queries, app.state.database.engine)
