"""Retries of one write, with one Idempotency-Key, arriving at the same instant."""

from __future__ import annotations

from tests.races.burst import Call, burst, statuses
from tests.races.conftest import RaceServer, auth, register, unique_name

N = 10


def test_one_key_sent_many_times_at_once_writes_one_article(race_server: RaceServer) -> None:
    author = register(race_server)
    title = unique_name("Sent once ")
    article = {"article": {"title": title, "description": "d", "body": "b"}}
    call = Call("POST", "/api/articles", article, {**auth(author), "Idempotency-Key": unique_name("key-")})
    responses = burst(race_server.base_url, [call] * N)
    assert statuses(responses) == {201: N}
    assert len({response.content for response in responses}) == 1  # every retry got the first answer
    assert sum(response.headers.get("idempotent-replayed") == "true" for response in responses) == N - 1
    assert race_server.scalar("SELECT count(*) FROM articles WHERE title = :title", title=title) == 1


def test_one_key_with_different_bodies_at_once_writes_one_and_refuses_the_rest(race_server: RaceServer) -> None:
    author = register(race_server)
    key = unique_name("key-")
    calls = [
        Call(
            "POST",
            "/api/articles",
            {"article": {"title": f"{key} {i}", "description": "d", "body": "b"}},
            {**auth(author), "Idempotency-Key": key},
        )
        for i in range(N)
    ]
    responses = burst(race_server.base_url, calls)
    assert statuses(responses) == {201: 1, 422: N - 1}
    assert race_server.scalar("SELECT count(*) FROM articles WHERE title LIKE :prefix", prefix=f"{key} %") == 1
