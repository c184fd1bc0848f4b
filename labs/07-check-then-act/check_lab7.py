"""Lab 7 check: a comment deleted by many requests at once answers exactly one 204, on both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Client, add_comment, at_once, auth, create_article, make_settings, register
from litestar.testing import TestClient

from service.app import create_app

STARTED = Path(__file__).resolve().parent / ".started"
REQUESTS = 20
ROUNDS = 5  # a race is lost in most bursts, not in every one: several rounds make the check reliable


def test_the_lab_is_started() -> None:
    assert STARTED.exists(), "run `make lab-start N=7` first: it plants the race you will fix"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_client(request: pytest.FixtureRequest) -> Iterator[Client]:
    url = request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")
    with TestClient(create_app(make_settings(url)), raise_server_exceptions=False) as client:
        yield client


def test_one_comment_deleted_twenty_times_at_once_gives_one_204(any_client: Client) -> None:
    author = register(any_client, "author")
    slug = create_article(any_client, author["token"])["slug"]
    for _ in range(ROUNDS):
        comment_id = add_comment(any_client, author["token"], slug)["id"]
        path = f"/api/articles/{slug}/comments/{comment_id}"
        responses = at_once(REQUESTS, lambda path=path: any_client.delete(path, headers=auth(author["token"])))
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {204: 1, 404: REQUESTS - 1}, (
            f"{dict(statuses)}: every request was told it deleted the comment, or the server failed"
        )


def test_a_stranger_still_gets_403_and_a_missing_comment_404(any_client: Client) -> None:
    author, stranger = register(any_client, "author"), register(any_client, "stranger")
    slug = create_article(any_client, author["token"])["slug"]
    comment_id = add_comment(any_client, author["token"], slug)["id"]
    path = f"/api/articles/{slug}/comments/{comment_id}"
    assert any_client.delete(path, headers=auth(stranger["token"])).status_code == 403
    assert any_client.delete(f"/api/articles/{slug}/comments/999999", headers=auth(author["token"])).status_code == 404
    assert (
        any_client.delete(f"/api/articles/nope/comments/{comment_id}", headers=auth(author["token"])).status_code == 404
    )
    assert any_client.delete(path, headers=auth(author["token"])).status_code == 204
