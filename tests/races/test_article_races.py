"""Articles written, renamed, deleted and favorited by many requests at one instant."""

from __future__ import annotations

from tests.races.burst import Call, burst, error_messages, statuses
from tests.races.conftest import RaceServer, auth, create_article, register, register_many, unique_name

N = 20
ROUNDS = 5  # a lost race shows in most bursts, not all: several rounds make a reverted fix fail reliably


def test_same_title_at_once_gives_every_article_its_own_slug(race_server: RaceServer) -> None:
    author = register(race_server)
    title = unique_name("Same title ")
    article = {"title": title, "description": "d", "body": "b", "tagList": ["race", unique_name("new-tag-")]}
    responses = burst(race_server.base_url, [Call("POST", "/api/articles", {"article": article}, auth(author))] * N)
    assert statuses(responses) == {201: N}
    slugs = {response.json()["article"]["slug"] for response in responses}
    plain = title.lower().replace(" ", "-")
    assert len(slugs) == N and plain in slugs
    stored = race_server.scalar("SELECT count(*) FROM articles WHERE title = :title", title=title)
    assert stored == N


def test_renames_to_one_title_at_once_give_distinct_slugs(race_server: RaceServer) -> None:
    author = register(race_server)
    slugs = [create_article(race_server, author)["slug"] for _ in range(N)]
    title = unique_name("Renamed ")
    calls = [Call("PUT", f"/api/articles/{slug}", {"article": {"title": title}}, auth(author)) for slug in slugs]
    responses = burst(race_server.base_url, calls)
    assert statuses(responses) == {200: N}
    new_slugs = {response.json()["article"]["slug"] for response in responses}
    assert len(new_slugs) == N and title.lower().replace(" ", "-") in new_slugs


def test_deleting_one_article_at_once_gives_one_204(race_server: RaceServer) -> None:
    author = register(race_server)
    for _ in range(ROUNDS):
        slug = create_article(race_server, author)["slug"]
        responses = burst(race_server.base_url, [Call("DELETE", f"/api/articles/{slug}", headers=auth(author))] * N)
        assert statuses(responses) == {204: 1, 404: N - 1}
        assert error_messages(responses, 404) == {("article", "not found")}


def test_a_stranger_deleting_at_once_with_the_author_gets_403_or_404(race_server: RaceServer) -> None:
    author, stranger = register(race_server), register(race_server)
    slug = create_article(race_server, author)["slug"]
    calls = [Call("DELETE", f"/api/articles/{slug}", headers=auth(author))] + [
        Call("DELETE", f"/api/articles/{slug}", headers=auth(stranger))
    ] * (N - 1)
    responses = burst(race_server.base_url, calls)
    assert responses[0].status_code == 204
    assert {response.status_code for response in responses[1:]} <= {403, 404}


def test_favorites_of_many_users_at_once_are_all_counted(race_server: RaceServer) -> None:
    author = register(race_server)
    slug = create_article(race_server, author)["slug"]
    fans = register_many(race_server, N)
    responses = burst(
        race_server.base_url, [Call("POST", f"/api/articles/{slug}/favorite", headers=auth(fan)) for fan in fans]
    )
    assert statuses(responses) == {200: N}
    with race_server.client() as client:
        assert client.get(f"/api/articles/{slug}").json()["article"]["favoritesCount"] == N


def test_one_user_favoriting_and_unfavoriting_at_once_leaves_one_consistent_answer(race_server: RaceServer) -> None:
    author, fan = register(race_server), register(race_server)
    slug = create_article(race_server, author)["slug"]
    calls = [Call("POST", f"/api/articles/{slug}/favorite", headers=auth(fan))] * N
    calls += [Call("DELETE", f"/api/articles/{slug}/favorite", headers=auth(fan))] * N
    responses = burst(race_server.base_url, calls)
    assert statuses(responses) == {200: 2 * N}
    stored = race_server.scalar(
        "SELECT count(*) FROM favorites JOIN articles ON articles.id = favorites.article_id WHERE slug = :slug",
        slug=slug,
    )
    with race_server.client() as client:
        article = client.get(f"/api/articles/{slug}", headers=auth(fan)).json()["article"]
    assert stored in (0, 1)
    assert article["favoritesCount"] == stored and article["favorited"] is (stored == 1)


def test_favoriting_an_article_while_it_is_deleted_gives_200_or_404(race_server: RaceServer) -> None:
    author = register(race_server)
    fans = register_many(race_server, N)
    for _ in range(ROUNDS):
        slug = create_article(race_server, author)["slug"]
        calls = [Call("DELETE", f"/api/articles/{slug}", headers=auth(author))]
        calls += [Call("POST", f"/api/articles/{slug}/favorite", headers=auth(fan)) for fan in fans]
        responses = burst(race_server.base_url, calls)
        assert responses[0].status_code == 204
        assert set(statuses(responses[1:])) <= {200, 404}
        assert error_messages(responses[1:], 404) <= {("article", "not found")}
    stored = race_server.scalar("SELECT count(*) FROM favorites WHERE article_id NOT IN (SELECT id FROM articles)")
    assert stored == 0


def test_one_user_favoriting_many_times_while_the_article_is_deleted_gives_200_or_404(race_server: RaceServer) -> None:
    """On MariaDB, repeated inserts of one row racing its cascade delete end in InnoDB deadlocks:
    the database rolls one transaction back, and the service runs the request again (db.py)."""
    author, fan = register(race_server), register(race_server)
    for _ in range(ROUNDS):
        slug = create_article(race_server, author)["slug"]
        calls = [Call("DELETE", f"/api/articles/{slug}", headers=auth(author))]
        calls += [Call("POST", f"/api/articles/{slug}/favorite", headers=auth(fan))] * N
        responses = burst(race_server.base_url, calls)
        assert responses[0].status_code == 204
        assert set(statuses(responses[1:])) <= {200, 404}
    stored = race_server.scalar("SELECT count(*) FROM favorites WHERE article_id NOT IN (SELECT id FROM articles)")
    assert stored == 0
