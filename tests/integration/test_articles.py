"""Articles: create, read, update, delete, lists, filters, feed (endpoints 8-13)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import assert_error, auth, create_article, register

Client = TestClient[Litestar]
ARTICLE_KEYS = {
    "slug", "title", "description", "body", "tagList", "createdAt", "updatedAt", "favorited", "favoritesCount", "author",
}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_create_returns_201_with_every_key_sorted_tags_and_millisecond_timestamps(client: Client) -> None:
    author = register(client, "jake")
    body = {"title": "How to train your dragon", "description": "Ever wonder how?", "body": "It takes a Jacobian"}
    response = client.post(
        "/api/articles",
        json={"article": {**body, "tagList": ["training", "dragons", "training"]}},
        headers=auth(author["token"]),
    )
    assert response.status_code == 201
    article = response.json()["article"]
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["dragons", "training"]  # Q2: sorted, duplicates dropped
    assert TIMESTAMP.match(article["createdAt"]) and TIMESTAMP.match(article["updatedAt"])  # Q1
    assert article["favorited"] is False and article["favoritesCount"] == 0
    assert article["author"] == {"username": "jake", "bio": None, "image": None, "following": False}


def test_same_title_twice_gets_distinct_slugs(client: Client) -> None:
    author = register(client)
    first = create_article(client, author["token"], title="Same title")
    second = create_article(client, author["token"], title="Same title")
    assert first["slug"] == "same-title"
    assert second["slug"].startswith("same-title-") and second["slug"] != first["slug"]  # Q8


def test_get_article_with_and_without_token(client: Client) -> None:
    author = register(client, "author")
    reader = register(client, "reader")
    slug = create_article(client, author["token"])["slug"]
    client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    anonymous = client.get(f"/api/articles/{slug}").json()["article"]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False
    assert anonymous["favoritesCount"] == 1
    personal = client.get(f"/api/articles/{slug}", headers=auth(reader["token"])).json()["article"]
    assert personal["favorited"] is True and personal["author"]["following"] is True
    assert_error(client.get("/api/articles/no-such-slug"), 404, "article")


def test_update_changes_slug_with_title_and_bumps_updated_at(client: Client) -> None:
    author = register(client)
    article = create_article(client, author["token"], title="Old title")
    response = client.put(
        f"/api/articles/{article['slug']}",
        json={"article": {"title": "New title", "body": "new body"}},
        headers=auth(author["token"]),
    )
    assert response.status_code == 200
    updated = response.json()["article"]
    assert updated["slug"] == "new-title"
    assert updated["body"] == "new body" and updated["description"] == article["description"]
    assert updated["createdAt"] == article["createdAt"]
    assert updated["updatedAt"] >= article["updatedAt"]
    assert client.get("/api/articles/old-title").status_code == 404
    assert client.get("/api/articles/new-title").status_code == 200


def test_update_keeping_the_title_keeps_the_slug(client: Client) -> None:
    author = register(client)
    article = create_article(client, author["token"], title="Stable")
    response = client.put(
        "/api/articles/stable", json={"article": {"description": "d2"}}, headers=auth(author["token"])
    )
    assert response.json()["article"]["slug"] == article["slug"]


def test_an_edited_title_with_the_same_slug_keeps_a_suffixed_slug(client: Client) -> None:
    author = register(client)
    create_article(client, author["token"], title="Twice")
    suffixed = create_article(client, author["token"], title="Twice")["slug"]
    assert suffixed.startswith("twice-")
    response = client.put(
        f"/api/articles/{suffixed}", json={"article": {"title": "TWICE!"}}, headers=auth(author["token"])
    )
    assert response.json()["article"]["slug"] == suffixed
    assert response.json()["article"]["title"] == "TWICE!"


def test_a_rename_to_a_taken_slug_gets_a_suffix(client: Client) -> None:
    author = register(client)
    create_article(client, author["token"], title="Taken")
    slug = create_article(client, author["token"], title="Free")["slug"]
    response = client.put(f"/api/articles/{slug}", json={"article": {"title": "Taken"}}, headers=auth(author["token"]))
    assert response.status_code == 200
    assert response.json()["article"]["slug"].startswith("taken-")
    assert client.get(f"/api/articles/{slug}").status_code == 404


def test_update_and_delete_by_another_user_are_403_and_change_nothing(client: Client) -> None:
    author = register(client)
    intruder = register(client)
    slug = create_article(client, author["token"], title="Mine")["slug"]
    headers = auth(intruder["token"])
    assert_error(
        client.put(f"/api/articles/{slug}", json={"article": {"title": "Yours"}}, headers=headers), 403, "article"
    )
    assert_error(client.delete(f"/api/articles/{slug}", headers=headers), 403, "article")
    assert client.get(f"/api/articles/{slug}").json()["article"]["title"] == "Mine"


def test_update_errors(client: Client) -> None:
    author = register(client)
    slug = create_article(client, author["token"])["slug"]
    headers = auth(author["token"])
    assert_error(client.put("/api/articles/nope", json={"article": {"title": "x"}}, headers=headers), 404, "article")
    assert_error(client.put(f"/api/articles/{slug}", json={"article": {"title": "x"}}), 401, "token")
    assert_error(client.put(f"/api/articles/{slug}", json={"article": {"title": "  "}}, headers=headers), 422, "title")
    assert_error(client.put(f"/api/articles/{slug}", json={"article": {}}, headers=headers), 422, "article")


def test_delete_is_204_without_body_and_removes_comments_and_favorites(client: Client) -> None:
    author = register(client)
    slug = create_article(client, author["token"], tagList=["gone"])["slug"]
    client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=auth(author["token"]))
    client.post(f"/api/articles/{slug}/favorite", headers=auth(author["token"]))
    response = client.delete(f"/api/articles/{slug}", headers=auth(author["token"]))
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/articles/{slug}").status_code == 404
    assert client.get(f"/api/articles/{slug}/comments").status_code == 404
    assert client.get("/api/articles", params={"favorited": author["username"]}).json()["articlesCount"] == 0
    assert_error(client.delete(f"/api/articles/{slug}", headers=auth(author["token"])), 404, "article")
    assert_error(client.delete(f"/api/articles/{slug}"), 401, "token")


def test_list_is_newest_first_without_body_with_total_count(client: Client) -> None:
    author = register(client)
    slugs = [create_article(client, author["token"], title=f"Post {i}")["slug"] for i in range(3)]
    response = client.get("/api/articles")
    assert response.status_code == 200
    payload = response.json()
    assert payload["articlesCount"] == 3
    assert [a["slug"] for a in payload["articles"]] == slugs[::-1]  # Q9
    assert all("body" not in a and set(a) == ARTICLE_KEYS - {"body"} for a in payload["articles"])


def test_list_pagination(client: Client) -> None:
    author = register(client)
    slugs = [create_article(client, author["token"], title=f"Post {i}")["slug"] for i in range(5)][::-1]
    page = client.get("/api/articles", params={"limit": 2, "offset": 1}).json()
    assert [a["slug"] for a in page["articles"]] == slugs[1:3]
    assert page["articlesCount"] == 5
    beyond = client.get("/api/articles", params={"offset": 10}).json()
    assert beyond == {"articles": [], "articlesCount": 5}


def test_list_limit_is_capped_and_bad_values_are_422(client: Client, app: Litestar) -> None:
    author = register(client)
    for i in range(3):
        create_article(client, author["token"], title=f"P{i}")
    app.state.settings = app.state.settings.with_changes(max_page_size=2)
    try:
        assert len(client.get("/api/articles", params={"limit": 50}).json()["articles"]) == 2
    finally:
        app.state.settings = app.state.settings.with_changes(max_page_size=100)
    for bad in ({"limit": 0}, {"limit": "abc"}, {"offset": -1}, {"limit": 5000}):
        assert_error(client.get("/api/articles", params=bad), 422, next(iter(bad)))


def test_filters_combine_with_and_and_unknown_values_give_empty_lists(client: Client) -> None:
    jake = register(client, "jake")
    ann = register(client, "ann")
    a1 = create_article(client, jake["token"], title="Dragons", tagList=["dragons"])
    create_article(client, jake["token"], title="Cats", tagList=["cats"])
    a3 = create_article(client, ann["token"], title="More dragons", tagList=["dragons", "fire"])
    client.post(f"/api/articles/{a1['slug']}/favorite", headers=auth(ann["token"]))
    client.post(f"/api/articles/{a3['slug']}/favorite", headers=auth(ann["token"]))

    def slugs(**params: str) -> list[str]:
        payload = client.get("/api/articles", params=params).json()
        assert payload["articlesCount"] == len(payload["articles"])
        return [a["slug"] for a in payload["articles"]]

    assert slugs(tag="dragons") == [a3["slug"], a1["slug"]]
    assert slugs(author="jake", tag="dragons") == [a1["slug"]]
    assert slugs(favorited="ann") == [a3["slug"], a1["slug"]]
    assert slugs(favorited="ann", author="ann") == [a3["slug"]]
    for unknown in ({"tag": "nope"}, {"author": "nobody"}, {"favorited": "nobody"}):
        assert client.get("/api/articles", params=unknown).json() == {"articles": [], "articlesCount": 0}  # Q3


def test_list_with_token_personalises_flags(client: Client) -> None:
    author = register(client, "author")
    reader = register(client, "reader")
    slug = create_article(client, author["token"])["slug"]
    client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    item = client.get("/api/articles", headers=auth(reader["token"])).json()["articles"][0]
    assert item["favorited"] is True and item["author"]["following"] is True and item["favoritesCount"] == 1
    anonymous = client.get("/api/articles").json()["articles"][0]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False
    assert_error(client.get("/api/articles", headers={"Authorization": "Token bad"}), 401, "token")


def test_feed_shows_only_followed_authors(client: Client) -> None:
    celeb = register(client, "celeb")
    other = register(client, "other")
    fan = register(client, "fan")
    headers = auth(fan["token"])
    assert client.get("/api/articles/feed", headers=headers).json() == {"articles": [], "articlesCount": 0}
    followed = [create_article(client, celeb["token"], title=f"Celeb {i}")["slug"] for i in range(3)]
    create_article(client, other["token"], title="Not followed")
    client.post("/api/profiles/celeb/follow", headers=headers)
    feed = client.get("/api/articles/feed", headers=headers).json()
    assert [a["slug"] for a in feed["articles"]] == followed[::-1]
    assert feed["articlesCount"] == 3
    assert all(a["author"]["following"] is True and "body" not in a for a in feed["articles"])
    page = client.get("/api/articles/feed", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert [a["slug"] for a in page["articles"]] == [followed[1]]
    assert_error(client.get("/api/articles/feed"), 401, "token")


def test_create_requires_token_and_fields(client: Client) -> None:
    author = register(client)
    headers = auth(author["token"])
    article = {"title": "t", "description": "d", "body": "b"}
    assert_error(client.post("/api/articles", json={"article": article}), 401, "token")
    for missing in ("title", "description", "body"):
        partial = {k: v for k, v in article.items() if k != missing}
        assert_error(client.post("/api/articles", json={"article": partial}, headers=headers), 422, missing)
    assert_error(
        client.post("/api/articles", json={"article": {**article, "tagList": "x"}}, headers=headers), 422, "tagList"
    )


def test_emoji_and_sql_metacharacters_round_trip_verbatim(client: Client) -> None:
    author = register(client)
    text = "Robert'); DROP TABLE articles;-- 🐉 ünïcödé \t tab"
    article = create_article(client, author["token"], title=text, description=text, body=text, tagList=["🐉", "a'b"])
    fetched = client.get(f"/api/articles/{article['slug']}").json()["article"]
    assert fetched["title"] == fetched["description"] == fetched["body"] == text
    assert fetched["tagList"] == sorted(["🐉", "a'b"])
    assert client.get("/api/articles", params={"tag": "🐉"}).json()["articlesCount"] == 1
