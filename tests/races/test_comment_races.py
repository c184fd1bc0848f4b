"""Comments posted and deleted by many requests at one instant, also while their article goes."""

from __future__ import annotations

from tests.races.burst import Call, burst, error_messages, statuses
from tests.races.conftest import RaceServer, auth, create_article, register

N = 20
ROUNDS = 5  # a lost race shows in most bursts, not all: several rounds make a reverted fix fail reliably


def _comment(race_server: RaceServer, user: dict[str, object], slug: str) -> int:
    with race_server.client() as client:
        response = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=auth(user))
    assert response.status_code == 200, response.text
    comment_id: int = response.json()["comment"]["id"]
    return comment_id


def test_comments_posted_at_once_are_all_kept(race_server: RaceServer) -> None:
    author = register(race_server)
    slug = create_article(race_server, author)["slug"]
    call = Call("POST", f"/api/articles/{slug}/comments", {"comment": {"body": "first!"}}, auth(author))
    responses = burst(race_server.base_url, [call] * N)
    assert statuses(responses) == {200: N}
    with race_server.client() as client:
        assert len(client.get(f"/api/articles/{slug}/comments").json()["comments"]) == N


def test_deleting_one_comment_at_once_gives_one_204(race_server: RaceServer) -> None:
    author = register(race_server)
    slug = create_article(race_server, author)["slug"]
    for _ in range(ROUNDS):
        comment_id = _comment(race_server, author, slug)
        call = Call("DELETE", f"/api/articles/{slug}/comments/{comment_id}", headers=auth(author))
        responses = burst(race_server.base_url, [call] * N)
        assert statuses(responses) == {204: 1, 404: N - 1}
        assert error_messages(responses, 404) == {("comment", "not found")}


def test_comments_posted_while_the_article_is_deleted_give_200_or_404(race_server: RaceServer) -> None:
    author = register(race_server)
    for _ in range(ROUNDS):
        slug = create_article(race_server, author)["slug"]
        calls = [Call("DELETE", f"/api/articles/{slug}", headers=auth(author))]
        calls += [Call("POST", f"/api/articles/{slug}/comments", {"comment": {"body": "late"}}, auth(author))] * N
        responses = burst(race_server.base_url, calls)
        assert responses[0].status_code == 204
        assert set(statuses(responses[1:])) <= {200, 404}
        assert error_messages(responses[1:], 404) <= {("article", "not found")}
    orphans = race_server.scalar("SELECT count(*) FROM comments WHERE article_id NOT IN (SELECT id FROM articles)")
    assert orphans == 0
