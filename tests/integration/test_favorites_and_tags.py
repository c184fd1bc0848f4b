"""Favorites (endpoints 17-18) and tags (endpoint 19)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import assert_error, auth, create_article, register

Client = TestClient[Litestar]


def test_favorite_and_unfavorite_return_the_article(client: Client) -> None:
    author = register(client)
    fan = register(client)
    slug = create_article(client, author["token"])["slug"]
    headers = {**auth(fan["token"]), "Content-Type": "application/json"}  # Q10: body-less with JSON type
    favorited = client.post(f"/api/articles/{slug}/favorite", headers=headers)
    assert favorited.status_code == 200
    assert favorited.json()["article"]["favorited"] is True
    assert favorited.json()["article"]["favoritesCount"] == 1
    again = client.post(f"/api/articles/{slug}/favorite", headers=headers)
    assert again.json()["article"]["favoritesCount"] == 1  # idempotent
    unfavorited = client.delete(f"/api/articles/{slug}/favorite", headers=headers)
    assert unfavorited.status_code == 200
    assert unfavorited.json()["article"]["favorited"] is False
    assert unfavorited.json()["article"]["favoritesCount"] == 0


def test_favorite_errors(client: Client) -> None:
    user = register(client)
    slug = create_article(client, user["token"])["slug"]
    assert_error(client.post("/api/articles/nope/favorite", headers=auth(user["token"])), 404, "article")
    assert_error(client.delete("/api/articles/nope/favorite", headers=auth(user["token"])), 404, "article")
    assert_error(client.post(f"/api/articles/{slug}/favorite"), 401, "token")
    assert_error(client.delete(f"/api/articles/{slug}/favorite"), 401, "token")


def test_tags_lists_tags_in_use_most_used_first(client: Client) -> None:
    assert client.get("/api/tags").json() == {"tags": []}
    user = register(client)
    create_article(client, user["token"], tagList=["common", "rare"])
    create_article(client, user["token"], tagList=["common"])
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json() == {"tags": ["common", "rare"]}
