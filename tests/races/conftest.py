"""The race suite: a real server with two worker processes, on SQLite, PostgreSQL and MariaDB.

Every write path is hit by many requests released at one instant (burst.py), and the outcome is
asserted exactly: one 204 and the rest 404, counts exact, no 5xx. Two worker processes, so the
database, not a lock inside one process, is what keeps the outcome right.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.processes import AppProcess
from tests.conftest import BACKENDS, server_database, sqlite_database
from tests.races.burst import Call, burst

WORKERS = 2
LOGIN_MAX_FAILURES = 5
_names = itertools.count(1)


@dataclass(frozen=True)
class RaceServer:
    base_url: str
    database_url: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value read straight from the database, to check what was really stored."""

        async def read() -> Any:
            engine = create_async_engine(self.database_url)
            try:
                async with engine.connect() as connection:
                    return (await connection.execute(text(sql), params)).scalar()
            finally:
                await engine.dispose()

        return asyncio.run(read())


@pytest.fixture(scope="session", params=BACKENDS)
def race_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RaceServer]:
    workdir = tmp_path_factory.mktemp(f"races-{request.param}")
    database: AbstractContextManager[str]
    if request.param == "sqlite":
        database = sqlite_database(workdir)
    else:
        database = server_database(request.param, "conduit_races")
    with database as database_url:
        env = {
            "DATABASE_URL": database_url,
            "ENVIRONMENT": "test",
            "SECRET_KEY": "race-suite-secret-key-that-is-long-enough-0123",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "64",
            "LOGIN_MAX_FAILURES": str(LOGIN_MAX_FAILURES),
            "LOG_LEVEL": "WARNING",
        }
        server = AppProcess(env, workdir / "server.log", workdir=workdir, workers=WORKERS)
        try:
            server.wait_ready()
            yield RaceServer(server.base_url, database_url)
        finally:
            server.stop()
        log = server.output()
        assert "unhandled_error" not in log and "Traceback" not in log, f"the server logged an error:\n{log}"


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def register(server: RaceServer, prefix: str = "racer") -> dict[str, Any]:
    name = unique_name(prefix)
    with server.client() as client:
        response = client.post(
            "/api/users", json={"user": {"username": name, "email": f"{name}@example.com", "password": "password123"}}
        )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


def register_many(server: RaceServer, count: int, prefix: str = "fan") -> list[dict[str, Any]]:
    """`count` new users, signed up together (distinct names, so none of them is refused)."""
    names = [unique_name(prefix) for _ in range(count)]
    calls = [
        Call(
            "POST", "/api/users", {"user": {"username": name, "email": f"{name}@example.com", "password": "pw-racer-1"}}
        )
        for name in names
    ]
    responses = burst(server.base_url, calls)
    assert all(response.status_code == 201 for response in responses), [r.text for r in responses]
    return [response.json()["user"] for response in responses]


def auth(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Token {user['token']}"}


def create_article(server: RaceServer, author: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    article = {"title": title or unique_name("Race article "), "description": "d", "body": "b"}
    with server.client() as client:
        response = client.post("/api/articles", json={"article": article}, headers=auth(author))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["article"]
    return created
