"""Idempotency-Key: a retried write gets the first answer instead of writing twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import utcnow
from service.models import Article, IdempotencyKey, User
from tests.support import assert_error, auth, create_article, register

Client = TestClient[Litestar]
ARTICLE = {"article": {"title": "Retry me", "description": "d", "body": "b", "tagList": ["retry"]}}


def _count(client: Client, app: Litestar, model: type[Any]) -> int:
    async def count() -> int:
        async with app.state.database.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return client.blocking_portal.call(count)


def _with_key(user: dict[str, Any], key: str) -> dict[str, str]:
    return {**auth(user["token"]), "Idempotency-Key": key}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_once(client: Client, app: Litestar) -> None:
    user = register(client)
    first = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "key-1"))
    again = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "key-1"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert _count(client, app, Article) == 1
    other_key = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "key-2"))
    assert other_key.status_code == 201 and other_key.json()["article"]["slug"] != first.json()["article"]["slug"]


def test_the_same_key_with_another_body_is_422(client: Client) -> None:
    user = register(client)
    assert client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "k")).status_code == 201
    changed = {"article": {**ARTICLE["article"], "title": "Another"}}
    assert_error(client.post("/api/articles", json=changed, headers=_with_key(user, "k")), 422, "Idempotency-Key")
    slug = client.get("/api/articles").json()["articles"][0]["slug"]
    other_route = client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "x"}}, headers=_with_key(user, "k")
    )
    assert_error(other_route, 422, "Idempotency-Key")


def test_keys_belong_to_one_user(client: Client, app: Litestar) -> None:
    alice, bob = register(client), register(client)
    assert client.post("/api/articles", json=ARTICLE, headers=_with_key(alice, "shared")).status_code == 201
    bobs = client.post("/api/articles", json=ARTICLE, headers=_with_key(bob, "shared"))
    assert bobs.status_code == 201 and "idempotent-replayed" not in bobs.headers
    assert bobs.json()["article"]["author"]["username"] == bob["username"]
    assert _count(client, app, Article) == 2


def test_a_sign_up_retry_gets_the_same_user_and_token(client: Client, app: Litestar) -> None:
    body = {"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}}
    first = client.post("/api/users", json=body, headers={"Idempotency-Key": "signup-1"})
    again = client.post("/api/users", json=body, headers={"Idempotency-Key": "signup-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    # Without a signed-in user the key is scoped to the body: another sign-up may use the same key.
    other = {"user": {"username": "ann", "email": "ann@example.com", "password": "password123"}}
    assert client.post("/api/users", json=other, headers={"Idempotency-Key": "signup-1"}).status_code == 201
    assert _count(client, app, User) == 2


def test_an_ambiguous_503_after_the_commit_then_a_retry_creates_exactly_one_article(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database committed, then the connection failed before the answer: the client saw a 503."""
    user = register(client)
    real_commit = AsyncSession.commit

    async def commit_then_lose_the_connection(self: AsyncSession) -> None:
        await real_commit(self)
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost after COMMIT"))

    monkeypatch.setattr(AsyncSession, "commit", commit_then_lose_the_connection)
    lost = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "ambiguous"))
    monkeypatch.undo()
    assert_error(lost, 503, "database")
    retry = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "ambiguous"))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["article"]["title"] == "Retry me"
    assert _count(client, app, Article) == 1
    assert client.get("/api/articles").json()["articles"][0]["slug"] == retry.json()["article"]["slug"]


def test_a_failed_request_keeps_no_key_so_its_retry_runs_again(client: Client, app: Litestar) -> None:
    user = register(client)
    comment = {"comment": {"body": "early"}}
    missing = client.post("/api/articles/not-yet/comments", json=comment, headers=_with_key(user, "c1"))
    assert_error(missing, 404, "article")
    assert _count(client, app, IdempotencyKey) == 0
    slug = create_article(client, user["token"], title="Not yet")["slug"]
    assert slug == "not-yet"
    assert client.post(f"/api/articles/{slug}/comments", json=comment, headers=_with_key(user, "c1")).status_code == 200


def test_expired_keys_are_swept_and_their_key_can_be_used_again(client: Client, app: Litestar) -> None:
    user = register(client)
    assert client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "old")).status_code == 201

    async def expire_all() -> None:
        async with app.state.database.sessionmaker() as session, session.begin():
            for key in await session.scalars(select(IdempotencyKey)):
                key.expires_at = utcnow() - timedelta(seconds=1)

    client.blocking_portal.call(expire_all)
    again = client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "old"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert _count(client, app, Article) == 2
    assert _count(client, app, IdempotencyKey) == 1  # the expired row was swept, the new one kept


@pytest.mark.parametrize("key", [b"", b"has space", b"x" * 256, "na\u00efve".encode()])
def test_a_malformed_key_is_422(client: Client, key: bytes) -> None:
    user = register(client)
    headers = [(b"Authorization", f"Token {user['token']}".encode()), (b"Idempotency-Key", key)]
    response = client.post("/api/articles", json=ARTICLE, headers=headers)
    assert response.status_code == 422, response.text
    assert client.get("/api/articles").json()["articlesCount"] == 0


def test_login_ignores_the_header_and_reads_do_not_take_it(client: Client) -> None:
    user = register(client)
    login = {"user": {"email": user["email"], "password": user["password"]}}
    for _ in range(2):
        response = client.post("/api/users/login", json=login, headers={"Idempotency-Key": "login"})
        assert response.status_code == 200 and "idempotent-replayed" not in response.headers


def test_the_openapi_schema_documents_the_header_on_every_idempotent_write(client: Client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("/api/users", "/api/articles", "/api/articles/{slug}/comments", "/api/articles/{slug}/favorite"):
        names = [parameter["name"] for parameter in paths[path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, (path, names)
    login_parameters = paths["/api/users/login"]["post"].get("parameters", [])
    assert "Idempotency-Key" not in [parameter["name"] for parameter in login_parameters]


def test_a_key_sent_without_a_token_gives_401_and_gives_its_connection_back(client: Client, app: Litestar) -> None:
    """The key is claimed before the caller is loaded; the 401 that follows must still end the
    transaction at once (on SQLite it holds the write lock, and every other write would wait)."""
    response = client.post("/api/articles", json=ARTICLE, headers={"Idempotency-Key": "no-token"})
    assert_error(response, 401, "token")
    assert app.state.database.engine.sync_engine.pool.checkedout() == 0
    assert _count(client, app, IdempotencyKey) == 0
    user = register(client)  # a write right after: it must not wait for a lock
    assert client.post("/api/articles", json=ARTICLE, headers=_with_key(user, "no-token")).status_code == 201
