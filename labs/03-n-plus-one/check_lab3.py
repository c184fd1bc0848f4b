"""Lab 3 check: a comment thread costs the same number of SQL statements for 1 and for 8 comments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Client, add_comment, auth, create_article, register

STARTED = Path(__file__).resolve().parent / ".started"


def test_the_lab_is_started() -> None:
    assert STARTED.exists(), "run `make lab-start N=3` first: it plants the bug you will hunt"


def _thread_costs(client: Client, count_queries: Callable[[], Any], slug: str, headers: dict[str, str]) -> int:
    with count_queries() as log:
        response = client.get(f"/api/articles/{slug}/comments", headers=headers)
    assert response.status_code == 200, response.text
    return int(log.count)


def test_a_thread_costs_a_fixed_number_of_queries(client: Client, count_queries: Callable[[], Any]) -> None:
    author, reader = register(client, "author"), register(client, "reader")
    short = create_article(client, author["token"])["slug"]
    long = create_article(client, author["token"])["slug"]
    add_comment(client, reader["token"], short)
    for i in range(8):
        add_comment(client, (author if i % 2 else reader)["token"], long, f"comment {i}")
    for headers in ({}, auth(reader["token"])):
        one, eight = (_thread_costs(client, count_queries, slug, headers) for slug in (short, long))
        assert one == eight, f"1 comment costs {one} statements, 8 comments cost {eight}: an N+1"
        assert eight <= 3, f"{eight} statements for one thread: expected the article lookup and one SELECT"


def test_the_answer_is_unchanged(client: Client) -> None:
    author, reader = register(client, "author"), register(client, "reader")
    slug = create_article(client, author["token"])["slug"]
    for i in range(3):
        add_comment(client, (author if i == 1 else reader)["token"], slug, f"comment {i}")
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    comments = client.get(f"/api/articles/{slug}/comments", headers=auth(reader["token"])).json()["comments"]
    assert [c["body"] for c in comments] == ["comment 0", "comment 1", "comment 2"], "oldest first"
    assert [c["author"]["username"] for c in comments] == ["reader", "author", "reader"]
    assert [c["author"]["following"] for c in comments] == [False, True, False]
    assert set(comments[0]) == {"id", "createdAt", "updatedAt", "body", "author"}
    assert set(comments[0]["author"]) == {"username", "bio", "image", "following"}
