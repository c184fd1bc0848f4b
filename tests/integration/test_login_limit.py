"""The failed-login limit lives in the database: every worker and replica shares one count."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import delete, func, select

from service.app import create_app
from service.db import utcnow
from service.models import LoginFailure
from service.users.login_limiter import limiter_key
from tests.support import assert_error, make_settings, register

Client = TestClient[Litestar]
BAD = {"user": {"email": "jake@example.com", "password": "wrong-password"}}


def _insert_failures(client: Client, app: Litestar, seconds_ago: int, count: int) -> None:
    key = limiter_key("testclient", "jake@example.com")

    async def insert() -> None:
        async with app.state.database.sessionmaker() as session, session.begin():
            started = utcnow() - timedelta(seconds=seconds_ago)
            session.add(LoginFailure(key_hash=key, failures=count, window_started_at=started))

    client.blocking_portal.call(insert)


def _stored_failures(client: Client, app: Litestar) -> int:
    async def count() -> int:
        async with app.state.database.sessionmaker() as session:
            return int(await session.scalar(select(func.coalesce(func.sum(LoginFailure.failures), 0))) or 0)

    return client.blocking_portal.call(count)


def test_failures_counted_by_one_worker_block_logins_on_another(client: Client, database_url: str) -> None:
    register(client, "jake")
    for _ in range(3):
        assert client.post("/api/users/login", json=BAD).status_code == 401
    with TestClient(create_app(make_settings(database_url))) as other_worker:
        assert other_worker.post("/api/users/login", json=BAD).status_code == 401
        assert other_worker.post("/api/users/login", json=BAD).status_code == 401
        assert_error(other_worker.post("/api/users/login", json=BAD), 429, "body")
    assert_error(client.post("/api/users/login", json=BAD), 429, "body")


def test_retry_after_counts_down_and_old_failures_expire(client: Client, app: Litestar) -> None:
    register(client, "jake")
    _insert_failures(client, app, seconds_ago=290, count=5)  # window is 300 s
    blocked = client.post("/api/users/login", json=BAD)
    assert_error(blocked, 429, "body")
    assert 1 <= int(blocked.headers["retry-after"]) <= 10
    client.blocking_portal.call(_clear_failures, app)
    _insert_failures(client, app, seconds_ago=301, count=5)
    assert client.post("/api/users/login", json=BAD).status_code == 401
    assert _stored_failures(client, app) == 1  # the window that ended was forgotten: a new one began


def test_a_successful_login_clears_the_count(client: Client) -> None:
    register(client, "jake")
    for _ in range(4):
        client.post("/api/users/login", json=BAD)
    good = {"user": {"email": "jake@example.com", "password": "password123"}}
    assert client.post("/api/users/login", json=good).status_code == 200
    for _ in range(4):
        assert client.post("/api/users/login", json=BAD).status_code == 401


async def _clear_failures(app: Litestar) -> None:
    async with app.state.database.sessionmaker() as session, session.begin():
        await session.execute(delete(LoginFailure))
