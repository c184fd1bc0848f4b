"""One transaction per request: a failure at flush or commit is a 4xx and nothing is kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import assert_error, auth, create_article, register

Client = TestClient[Litestar]


def test_sign_up_asks_no_question_before_the_insert(client: Client, count_queries: Callable[[], Any]) -> None:
    """The race two sign-ups can lose is decided by the unique constraint, not by a SELECT first:
    the only statement before the 422 is the INSERT that failed."""
    register(client, "jake")
    again = {"username": "jake2", "email": "JAKE@example.com", "password": "password123"}
    with count_queries() as counter:
        assert_error(client.post("/api/users", json={"user": again}), 422, "email")
    same_name = {"username": "jake", "email": "other@example.com", "password": "password123"}
    assert_error(client.post("/api/users", json={"user": same_name}), 422, "username")
    writes = [statement for statement in counter.statements if not statement.startswith(("BEGIN", "SAVEPOINT"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO users"), counter.statements


def test_failure_at_commit_reaches_the_client_and_rolls_back(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    user = register(client, "jake")

    async def failing_commit(self: AsyncSession) -> None:
        raise IntegrityError("COMMIT", {}, Exception("uq_users_username violated at commit"))

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = client.put("/api/user", json={"user": {"bio": "never stored"}}, headers=auth(user["token"]))
    monkeypatch.undo()
    assert_error(response, 422, "username")
    assert client.get("/api/profiles/jake").json()["profile"]["bio"] is None


class _FakeRequest:
    def __init__(self, method: str) -> None:
        self.method = method


async def _in_transaction_after_a_statement(app: Litestar, method: str) -> bool:
    from sqlalchemy import text

    from service.db import provide_db_session

    sessions = provide_db_session(app.state, _FakeRequest(method))  # type: ignore[arg-type]
    session = await anext(sessions)
    # a statement that would open a transaction on every driver (pysqlite begins only before DML)
    await session.execute(text("UPDATE users SET bio = bio WHERE 1 = 0"))
    connection = await session.connection()
    if connection.dialect.name == "mysql":  # asyncmy does not track it; MariaDB's session variable does
        in_transaction = bool(await connection.scalar(text("SELECT @@in_transaction")))
    else:
        raw: Any = (await connection.get_raw_connection()).driver_connection
        in_transaction = bool(raw.is_in_transaction() if hasattr(raw, "is_in_transaction") else raw.in_transaction)
    await sessions.aclose()
    return in_transaction


def test_reads_skip_begin_and_commit_writes_run_in_a_transaction(client: Client, app: Litestar) -> None:
    assert client.blocking_portal.call(_in_transaction_after_a_statement, app, "GET") is False
    assert client.blocking_portal.call(_in_transaction_after_a_statement, app, "POST") is True


def test_a_database_error_while_loading_the_caller_gives_the_connection_back(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = register(client)

    async def failing_get(self: AsyncSession, *_args: Any, **_kwargs: Any) -> None:
        await self.execute(text("SELECT 1"))  # the connection is checked out, as by a real query
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(AsyncSession, "get", failing_get)
    assert_error(client.get("/api/user", headers=auth(user["token"])), 503, "database")
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0


def test_a_failed_commit_after_a_rename_keeps_the_old_slug(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename runs in a savepoint; releasing it must not commit anything on its own (on SQLite
    it did, before transactions began explicitly: service.db._begin_sqlite_transaction)."""
    user = register(client)
    slug = create_article(client, user["token"], title="Before")["slug"]

    async def failing_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, Exception("the disk is full"))

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = client.put(f"/api/articles/{slug}", json={"article": {"title": "After"}}, headers=auth(user["token"]))
    monkeypatch.undo()
    assert_error(response, 503, "database")
    assert client.get(f"/api/articles/{slug}").json()["article"]["title"] == "Before"
    assert client.get("/api/articles/after").status_code == 404


def _deadlock() -> OperationalError:
    # what asyncmy raises when InnoDB picks this transaction as a deadlock's victim
    return OperationalError("INSERT", {}, Exception(1213, "Deadlock found when trying to get lock"))


def test_a_write_rolled_back_by_a_deadlock_runs_again_with_its_body(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.articles.repository import ArticleRepository

    user = register(client, "jake")
    attempts: list[str] = []
    insert = ArticleRepository.insert

    async def deadlocked_once(self: ArticleRepository, *args: Any, **kwargs: Any) -> Any:
        attempts.append("insert")
        if len(attempts) == 1:
            raise _deadlock()
        return await insert(self, *args, **kwargs)

    monkeypatch.setattr(ArticleRepository, "insert", deadlocked_once)
    response = create_article(client, user["token"], "Retried")
    assert response["title"] == "Retried" and len(attempts) == 2
    listed = client.get("/api/articles", params={"author": "jake"}).json()
    assert listed["articlesCount"] == 1


def test_a_write_that_keeps_deadlocking_gives_up_with_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.articles.repository import ArticleRepository

    user = register(client, "jake")
    attempts: list[str] = []

    async def always_deadlocked(self: ArticleRepository, *args: Any, **kwargs: Any) -> Any:
        attempts.append("insert")
        raise _deadlock()

    monkeypatch.setattr(ArticleRepository, "insert", always_deadlocked)
    article = {"article": {"title": "Never", "description": "d", "body": "b"}}
    response = client.post("/api/articles", json=article, headers=auth(user["token"]))
    assert_error(response, 503, "database")
    assert response.headers["Retry-After"] == "1"
    assert 1 < len(attempts) <= 5
    assert client.get("/api/articles", params={"author": "jake"}).json()["articlesCount"] == 0


def test_a_read_is_not_run_again(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.articles.repository import ArticleRepository

    attempts: list[str] = []

    async def deadlocked(self: ArticleRepository, *args: Any, **kwargs: Any) -> Any:
        attempts.append("read")
        raise _deadlock()

    monkeypatch.setattr(ArticleRepository, "list_tags", deadlocked)
    assert_error(client.get("/api/tags"), 503, "database")
    assert attempts == ["read"]


def test_a_query_the_database_refuses_is_a_bug_not_an_outage(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 (logged with its traceback), not "the database is unavailable": sqlite3 and asyncmy
    raise such errors as OperationalError, the class that also means a lost connection."""
    from service.articles.repository import ArticleRepository

    async def broken_query(self: ArticleRepository, *args: Any, **kwargs: Any) -> Any:
        await self.session.execute(text("SELECT no_such_column FROM users"))

    monkeypatch.setattr(ArticleRepository, "list_tags", broken_query)
    response = client.get("/api/tags")
    assert response.status_code == 500, response.text
    assert response.json() == {"errors": {"body": ["internal server error"]}}
