"""Retries and concurrent requests, seen from outside: what a client that double-clicks or retries gets."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from qa.conftest import User, base_url_from_env, create_article, unique

AT_ONCE = 12


def _at_once(send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """`send` from AT_ONCE threads, each with its own connection, released together."""
    barrier = threading.Barrier(AT_ONCE)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url_from_env(), timeout=30) as own:
            own.get("/health/live")  # the connection is open before the barrier falls
            barrier.wait()
            return send(own)

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(one, range(AT_ONCE)))


def _by_author(client: httpx.Client, author: User) -> int:
    count: int = client.get("/api/articles", params={"author": author.username}).json()["articlesCount"]
    return count


def test_a_write_retried_with_its_idempotency_key_is_stored_once(client: httpx.Client, author: User) -> None:
    article = {"article": {"title": f"Retried {unique('t')}", "description": "d", "body": "b"}}
    headers = {**author.auth, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/api/articles", json=article, headers=headers)
    retry = client.post("/api/articles", json=article, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert _by_author(client, author) == 1
    reused = client.post("/api/articles", json={"article": {**article["article"], "body": "other"}}, headers=headers)
    assert reused.status_code == 422
    assert "Idempotency-Key" in reused.json()["errors"]


def test_simultaneous_retries_with_one_key_write_once(client: httpx.Client, author: User) -> None:
    article = {"article": {"title": f"Clicked twice {unique('t')}", "description": "d", "body": "b"}}
    headers = {**author.auth, "Idempotency-Key": str(uuid.uuid4())}
    responses = _at_once(lambda own: own.post("/api/articles", json=article, headers=headers))
    assert Counter(r.status_code for r in responses) == {201: AT_ONCE}
    assert len({r.json()["article"]["slug"] for r in responses}) == 1
    assert _by_author(client, author) == 1


def test_one_article_deleted_by_simultaneous_requests_answers_one_204(client: httpx.Client, author: User) -> None:
    slug = create_article(client, author)["slug"]
    responses = _at_once(lambda own: own.delete(f"/api/articles/{slug}", headers=author.auth))
    assert Counter(r.status_code for r in responses) == {204: 1, 404: AT_ONCE - 1}


def test_simultaneous_articles_with_one_title_all_get_created(client: httpx.Client, author: User) -> None:
    title = f"Same {unique('t')}"
    article = {"article": {"title": title, "description": "d", "body": "b"}}
    responses = _at_once(lambda own: own.post("/api/articles", json=article, headers=author.auth))
    assert Counter(r.status_code for r in responses) == {201: AT_ONCE}
    assert len({r.json()["article"]["slug"] for r in responses}) == AT_ONCE
