"""Races that must end correctly: duplicate sign-ups and simultaneous favorites.

Requests run at the same time on the app's event loop (one thread each, through the same
test client), so their transactions really interleave in the database.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import auth, create_article, register

Client = TestClient[Litestar]


def test_simultaneous_signups_with_one_email_give_one_201_and_422s(client: Client) -> None:
    def sign_up(index: int) -> tuple[int, dict[str, object]]:
        user = {"username": f"racer{index}", "email": "same@example.com", "password": "password123"}
        response = client.post("/api/users", json={"user": user})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sign_up, range(8)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [422] * 7, results
    assert all(body == {"errors": {"email": ["has already been taken"]}} for status, body in results if status == 422)


def test_simultaneous_favorites_are_all_counted(client: Client) -> None:
    author = register(client)
    slug = create_article(client, author["token"])["slug"]
    fans = [register(client) for _ in range(12)]

    def favorite(token: str) -> int:
        return client.post(f"/api/articles/{slug}/favorite", headers=auth(token)).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(favorite, [fan["token"] for fan in fans]))
    assert statuses == [200] * 12
    assert client.get(f"/api/articles/{slug}").json()["article"]["favoritesCount"] == 12


def test_simultaneous_articles_with_one_title_all_succeed_with_unique_slugs(client: Client) -> None:
    author = register(client)

    def write(_: int) -> int:
        article = {"title": "Same", "description": "d", "body": "b", "tagList": ["shared", "new-tag"]}
        return client.post("/api/articles", json={"article": article}, headers=auth(author["token"])).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(write, range(6)))
    created = statuses.count(201)
    # Racing inserts of the same new slug may lose at the unique constraint: 422, never 500.
    assert set(statuses) <= {201, 422}
    assert created >= 1
    listing = client.get("/api/articles").json()
    assert listing["articlesCount"] == created
    assert len({a["slug"] for a in listing["articles"]}) == created
    assert client.get("/api/tags").json()["tags"] == ["new-tag", "shared"]
