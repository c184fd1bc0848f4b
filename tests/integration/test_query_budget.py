"""A page of articles costs a fixed number of SQL statements, whatever its size (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import add_comment, auth, create_article, register

Client = TestClient[Litestar]
LIST_QUERIES = 1  # one SELECT: the page with authors, flags, counts and tags, and the total count


def _seed(client: Client, articles: int) -> dict[str, Any]:
    author = register(client, "author")
    reader = register(client, "reader")
    for i in range(articles):
        slug = create_article(client, author["token"], title=f"A{i}", tagList=[f"t{i % 3}", "all"])["slug"]
        client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
        add_comment(client, reader["token"], slug)
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    return reader


def test_list_and_feed_query_count_does_not_grow_with_page_size(
    client: Client, count_queries: Callable[[], Any]
) -> None:
    reader = _seed(client, 25)
    for path, headers in (
        ("/api/articles", {}),
        ("/api/articles", auth(reader["token"])),
        ("/api/articles/feed", auth(reader["token"])),
    ):
        counts = []
        for limit in (1, 5, 20):
            with count_queries() as counter:
                response = client.get(path, params={"limit": limit}, headers=headers)
            assert response.status_code == 200
            assert len(response.json()["articles"]) == limit
            counts.append(counter.count)
        extra = 1 if path.endswith("feed") else 0  # the feed loads the signed-in user
        assert counts == [LIST_QUERIES + extra] * 3, (path, counts)


def test_comments_list_is_one_query_plus_the_article_lookup(client: Client, count_queries: Callable[[], Any]) -> None:
    _seed(client, 1)
    slug = client.get("/api/articles").json()["articles"][0]["slug"]
    reader = register(client)
    for _ in range(5):
        add_comment(client, reader["token"], slug)
    with count_queries() as counter:
        assert len(client.get(f"/api/articles/{slug}/comments").json()["comments"]) == 6
    assert counter.count == 2
