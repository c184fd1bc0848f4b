"""Acceptance journeys: what a real client does, end to end, through the public API only."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from qa.conftest import User, create_article, past_proxy_rate_limit, unique

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$")


def test_sign_up_log_in_and_read_yourself(client: httpx.Client) -> None:
    name = unique("journey")
    email, password = f"{name}@example.com", "a long enough password"
    user = {"username": name, "email": email, "password": password}
    created = past_proxy_rate_limit(lambda: client.post("/api/users", json={"user": user}))
    assert created.status_code == 201
    assert created.json()["user"] == {
        "email": email,
        "token": created.json()["user"]["token"],
        "username": name,
        "bio": None,
        "image": None,
    }
    credentials = {"user": {"email": email, "password": password}}
    login = past_proxy_rate_limit(lambda: client.post("/api/users/login", json=credentials))
    assert login.status_code == 200
    token = login.json()["user"]["token"]
    me = client.get("/api/user", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == name
    assert me.json()["user"]["token"]
    updated = client.put(
        "/api/user", json={"user": {"bio": "QA bio", "email": email}}, headers={"Authorization": f"Token {token}"}
    )
    assert updated.status_code == 200
    assert updated.json()["user"]["bio"] == "QA bio"
    assert updated.json()["user"]["token"]


def test_article_life_cycle_between_two_users(client: httpx.Client, author: User, reader: User) -> None:
    title = f"How to test {unique('dragon')}"
    article = create_article(client, author, title=title, tagList=["qa-zeta", "qa-alpha"])
    slug = article["slug"]
    assert article["tagList"] == ["qa-alpha", "qa-zeta"]  # sorted, whatever the order sent
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert TIMESTAMP.match(str(article["createdAt"]))
    assert TIMESTAMP.match(str(article["updatedAt"]))

    followed = client.post(f"/api/profiles/{author.username}/follow", headers=reader.auth)
    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    feed = client.get("/api/articles/feed", headers=reader.auth).json()
    assert [a["slug"] for a in feed["articles"]] == [slug]
    assert feed["articlesCount"] == 1
    assert "body" not in feed["articles"][0]

    favorited = client.post(f"/api/articles/{slug}/favorite", headers=reader.auth)
    assert favorited.status_code == 200
    assert favorited.json()["article"]["favorited"] is True
    assert favorited.json()["article"]["favoritesCount"] == 1
    seen = client.get(f"/api/articles/{slug}", headers=reader.auth).json()["article"]
    assert seen["favorited"] is True
    assert seen["author"]["following"] is True
    anonymous = client.get(f"/api/articles/{slug}").json()["article"]
    assert anonymous["favorited"] is False
    assert anonymous["author"]["following"] is False
    assert anonymous["favoritesCount"] == 1

    comment = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "Nice one"}}, headers=reader.auth)
    assert comment.status_code == 200
    comment_id = comment.json()["comment"]["id"]
    assert isinstance(comment_id, int)
    comments = client.get(f"/api/articles/{slug}/comments").json()["comments"]
    assert [(c["id"], c["body"], c["author"]["username"]) for c in comments] == [
        (comment_id, "Nice one", reader.username)
    ]

    new_title = f"Renamed {unique('dragon')}"
    edited = client.put(f"/api/articles/{slug}", json={"article": {"title": new_title}}, headers=author.auth)
    assert edited.status_code == 200
    new_slug = edited.json()["article"]["slug"]
    assert new_slug != slug
    assert new_slug.startswith("renamed-")
    assert client.get(f"/api/articles/{slug}").status_code == 404
    assert client.get(f"/api/articles/{new_slug}").json()["article"]["title"] == new_title

    unfavorited = client.delete(f"/api/articles/{new_slug}/favorite", headers=reader.auth)
    assert unfavorited.json()["article"]["favoritesCount"] == 0
    unfollowed = client.delete(f"/api/profiles/{author.username}/follow", headers=reader.auth)
    assert unfollowed.json()["profile"]["following"] is False
    assert client.get("/api/articles/feed", headers=reader.auth).json()["articlesCount"] == 0

    assert client.delete(f"/api/articles/{new_slug}/comments/{comment_id}", headers=reader.auth).status_code == 204
    deleted = client.delete(f"/api/articles/{new_slug}", headers=author.auth)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/api/articles/{new_slug}").status_code == 404


def test_pagination_filters_and_order(client: httpx.Client, make_user: Callable[..., User]) -> None:
    writer, fan = make_user("writer"), make_user("fan")
    tag = unique("tag").lower()
    slugs = [create_article(client, writer, tagList=[tag] if i % 2 == 0 else [])["slug"] for i in range(5)]
    newest_first = list(reversed(slugs))

    page = client.get("/api/articles", params={"author": writer.username, "limit": 2, "offset": 1}).json()
    assert page["articlesCount"] == 5
    assert [a["slug"] for a in page["articles"]] == newest_first[1:3]
    beyond = client.get("/api/articles", params={"author": writer.username, "offset": 10}).json()
    assert beyond == {"articles": [], "articlesCount": 5}

    tagged = client.get("/api/articles", params={"author": writer.username, "tag": tag}).json()
    assert [a["slug"] for a in tagged["articles"]] == [s for s in newest_first if slugs.index(s) % 2 == 0]
    client.post(f"/api/articles/{slugs[0]}/favorite", headers=fan.auth)
    client.post(f"/api/articles/{slugs[1]}/favorite", headers=fan.auth)
    combined = client.get("/api/articles", params={"tag": tag, "favorited": fan.username}).json()
    assert [a["slug"] for a in combined["articles"]] == [slugs[0]]
    assert combined["articlesCount"] == 1
    unknown = client.get("/api/articles", params={"author": unique("nobody")}).json()
    assert unknown == {"articles": [], "articlesCount": 0}

    assert tag in client.get("/api/tags").json()["tags"]


def test_profiles_with_and_without_a_token(client: httpx.Client, author: User, reader: User) -> None:
    anonymous = client.get(f"/api/profiles/{author.username}")
    assert anonymous.status_code == 200
    assert anonymous.json() == {
        "profile": {"username": author.username, "bio": None, "image": None, "following": False}
    }
    client.post(f"/api/profiles/{author.username}/follow", headers=reader.auth)
    assert client.get(f"/api/profiles/{author.username}", headers=reader.auth).json()["profile"]["following"] is True
    assert client.get(f"/api/profiles/{author.username}").json()["profile"]["following"] is False


def test_body_less_requests_with_a_json_content_type(
    client: httpx.Client, author: User, reader: User, article: dict[str, object]
) -> None:
    """Spec quirk Q10 (docs/spec-quirks.md): clients send Content-Type: application/json (and stray
    bodies) everywhere."""
    followed = client.post(f"/api/profiles/{author.username}/follow", headers=reader.auth, content=b'{"x": 1}')
    assert followed.status_code == 200
    favorited = client.post(f"/api/articles/{article['slug']}/favorite", headers=reader.auth)
    assert favorited.status_code == 200
