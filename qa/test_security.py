"""Security pack, one section per OWASP API Security Top 10 (2023) risk the API surface exposes.

API1 object-level authorization is also covered by the 403 tests in test_errors.py; API6 (business
flows), API7 (SSRF: the service never fetches `image` URLs) and API10 (no upstream APIs) have no
surface here, see qa/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from qa.catalogue import HOSTILE_TEXT
from qa.conftest import User, create_article, past_proxy_rate_limit, unique

LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "aiosqlite", "SELECT ", "INSERT ", "argon2", "$argon2")


# ---- API1 Broken object-level authorization ------------------------------------------------------


def test_api1_feed_and_profile_updates_stay_with_their_owner(
    client: httpx.Client, author: User, reader: User, article: dict[str, object]
) -> None:
    assert client.get("/api/articles/feed", headers=reader.auth).json()["articlesCount"] == 0
    client.put("/api/user", json={"user": {"bio": "reader bio"}}, headers=reader.auth)
    assert client.get(f"/api/profiles/{author.username}").json()["profile"]["bio"] is None
    # Unfavoriting someone else's favorite is impossible: the count only moves with the caller.
    client.post(f"/api/articles/{article['slug']}/favorite", headers=author.auth)
    after = client.delete(f"/api/articles/{article['slug']}/favorite", headers=reader.auth).json()["article"]
    assert after["favoritesCount"] == 1


# ---- API2 Broken authentication -----------------------------------------------------------------


def test_api2_repeated_failed_logins_get_429_with_retry_after(client: httpx.Client, author: User) -> None:
    def login(email: str, password: str) -> httpx.Response:
        # A proxy's own 429 (per client address, on every login) says nothing about the service's
        # limit (per address and e-mail, on failures): wait it out, so each answer is the service's.
        body = {"user": {"email": email, "password": password}}
        return past_proxy_rate_limit(lambda: client.post("/api/users/login", json=body))

    statuses = [login(author.email, "definitely-wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = login(author.email, "definitely-wrong")
    assert blocked.status_code == 429, blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    assert "errors" in blocked.json()
    # Even the right password waits: guessing cannot continue by luck.
    assert login(author.email, author.password).status_code == 429
    # Another account from the same client is not locked out by it.
    assert login(f"{unique('x')}@example.com", "p").status_code == 401


def test_api2_tokens_are_not_echoed_in_errors(client: httpx.Client, author: User) -> None:
    response = client.get("/api/user", headers={"Authorization": f"Token {author.token}x"})
    assert response.status_code == 401
    assert author.token not in response.text


# ---- API3 Broken object-property-level authorization --------------------------------------------


def test_api3_read_only_article_fields_cannot_be_set(client: httpx.Client, author: User, reader: User) -> None:
    body = {
        "article": {
            "title": f"Mass assignment {unique('t')}",
            "description": "d",
            "body": "b",
            "favoritesCount": 999,
            "favorited": True,
            "slug": "chosen-slug",
            "createdAt": "2000-01-01T00:00:00.000Z",
            "updatedAt": "2000-01-01T00:00:00.000Z",
            "author": {"username": reader.username},
        }
    }
    response = client.post("/api/articles", json=body, headers=author.auth)
    if response.status_code == 422:  # rejecting unknown fields is as good as ignoring them
        return
    assert response.status_code == 201, response.text
    created = response.json()["article"]
    assert created["favoritesCount"] == 0
    assert created["favorited"] is False
    assert created["slug"] != "chosen-slug"
    assert created["author"]["username"] == author.username
    assert not created["createdAt"].startswith("2000")
    edit = client.put(
        f"/api/articles/{created['slug']}",
        json={"article": {"body": "b2", "favoritesCount": 5, "author": {"username": reader.username}}},
        headers=author.auth,
    )
    assert edit.status_code in (200, 422)
    again = client.get(f"/api/articles/{created['slug']}").json()["article"]
    assert again["favoritesCount"] == 0
    assert again["author"]["username"] == author.username


def test_api3_user_update_cannot_touch_another_user(client: httpx.Client, author: User, reader: User) -> None:
    response = client.put(
        "/api/user",
        json={"user": {"bio": "mine", "id": 1, "username_of": author.username, "token": "x"}},
        headers=reader.auth,
    )
    assert response.status_code in (200, 422)
    assert client.get(f"/api/profiles/{author.username}").json()["profile"]["bio"] is None


def test_api3_responses_leak_no_hash_and_no_other_email(
    client: httpx.Client, author: User, reader: User, article: dict[str, object]
) -> None:
    slug = article["slug"]
    client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=author.auth)
    client.post(f"/api/profiles/{author.username}/follow", headers=reader.auth)
    seen = [
        client.get(f"/api/articles/{slug}", headers=reader.auth),
        client.get("/api/articles", params={"author": author.username}, headers=reader.auth),
        client.get("/api/articles/feed", headers=reader.auth),
        client.get(f"/api/articles/{slug}/comments", headers=reader.auth),
        client.get(f"/api/profiles/{author.username}", headers=reader.auth),
        client.post(f"/api/articles/{slug}/favorite", headers=reader.auth),
        client.get("/api/user", headers=author.auth),
    ]
    for response in seen:
        assert response.status_code == 200
        text = response.text
        assert "password" not in text.lower()
        assert "$argon2" not in text
        assert "hash" not in text.lower()
        if response.url.path != "/api/user":
            assert author.email not in text, response.url
    assert set(seen[-1].json()["user"]) == {"email", "token", "username", "bio", "image"}


# ---- API4 Unrestricted resource consumption ------------------------------------------------------


def test_api4_page_size_is_capped(client: httpx.Client, make_user: Callable[..., User]) -> None:
    total = client.get("/api/articles", params={"limit": 1}).json()["articlesCount"]
    writer = make_user("bulk")
    for _ in range(max(0, 101 - total)):  # make sure more than one page of 100 exists
        create_article(client, writer)
    page = client.get("/api/articles", params={"limit": 1000}).json()
    assert page["articlesCount"] > 100
    assert len(page["articles"]) == 100


def test_api4_oversized_body_is_413_before_parsing(client: httpx.Client, author: User) -> None:
    huge = b'{"article": {"title": "' + b"x" * 2_000_000 + b'"}}'
    response = client.post("/api/articles", content=huge, headers=author.auth)
    assert response.status_code == 413
    assert "errors" in response.json()


# ---- API5 Broken function-level authorization ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/api/articles"), ("DELETE", "/api/tags"), ("PUT", "/api/users"), ("DELETE", "/api/user")],
)
def test_api5_undeclared_functions_do_not_exist(client: httpx.Client, author: User, method: str, path: str) -> None:
    response = past_proxy_rate_limit(lambda: client.request(method, path, headers=author.auth))
    assert response.status_code == 405, response.text
    assert "OPTIONS" in response.headers.get("Allow", ""), response.headers


# ---- API8 Security misconfiguration --------------------------------------------------------------


def test_api8_security_headers(client: httpx.Client, article: dict[str, object]) -> None:
    answers = {
        path: client.get(path) for path in ("/api/tags", f"/api/articles/{article['slug']}", "/api/articles/nope-nope")
    }
    answers["router 404"] = client.get("/api/no-such-route")  # answered by the router, before any handler
    answers["router 405"] = client.delete("/api/tags")
    for path, response in answers.items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["Cache-Control"] == "no-store", path
        assert "default-src 'none'" in headers["Content-Security-Policy"], path
        assert "server" not in {k.lower() for k in headers} or "uvicorn" not in headers.get("server", "").lower()


def test_api8_cors_preflight_allows_the_api_headers_without_credentials(client: httpx.Client) -> None:
    origin = "http://127.0.0.1:3000"
    response = client.options(
        "/api/articles",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204), response.text
    allowed_origin = response.headers.get("Access-Control-Allow-Origin")
    assert allowed_origin in ("*", origin)
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    if allowed_origin == "*":  # a wildcard with credentials would let any site use a victim's session
        assert response.headers.get("Access-Control-Allow-Credentials") != "true"
    simple = client.get("/api/tags", headers={"Origin": origin})
    assert simple.headers.get("Access-Control-Allow-Origin") in ("*", origin)


def test_api8_errors_carry_no_internals(client: httpx.Client, author: User) -> None:
    probes = [
        past_proxy_rate_limit(lambda: client.post("/api/users", content=b'{"user": {"email": "\\ud800"}}')),
        client.post("/api/articles", content=b"\xff\xfe\x00garbage", headers=author.auth),
        client.get("/api/articles", params={"limit": "1e309"}),
        client.get("/api/articles/%00/comments"),
        client.delete("/api/articles/x/comments/99999999999999999999999", headers=author.auth),
        past_proxy_rate_limit(
            lambda: client.post("/api/users/login", json={"user": {"email": ["a"], "password": {"$ne": None}}})
        ),
    ]
    for response in probes:
        assert 400 <= response.status_code < 500, f"{response.request.url}: {response.status_code} {response.text}"
        assert not any(marker in response.text for marker in LEAKS), response.text


# ---- Injection: hostile text is stored verbatim or refused, never interpreted ----------------------

HOSTILE = HOSTILE_TEXT
TEXT_FIELDS = ["title", "description", "body", "comment", "bio", "tag"]


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_injection_text_is_stored_verbatim_or_rejected(
    client: httpx.Client, author: User, article: dict[str, object], field: str, name: str
) -> None:
    value = HOSTILE[name]
    slug = article["slug"]
    if field in ("title", "description", "body"):
        response = client.put(f"/api/articles/{slug}", json={"article": {field: value}}, headers=author.auth)
        if response.status_code == 200:
            stored = client.get(f"/api/articles/{response.json()['article']['slug']}").json()["article"][field]
            assert stored == value
    elif field == "comment":
        response = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": value}}, headers=author.auth)
        if response.status_code == 200:
            assert client.get(f"/api/articles/{slug}/comments").json()["comments"][-1]["body"] == value
    elif field == "bio":
        response = client.put("/api/user", json={"user": {"bio": value}}, headers=author.auth)
        if response.status_code == 200:
            assert client.get(f"/api/profiles/{author.username}").json()["profile"]["bio"] == value
    else:
        tag = value[:32]
        response = client.post(
            "/api/articles",
            headers=author.auth,
            json={"article": {"title": "tagged", "description": "d", "body": "b", "tagList": [tag]}},
        )
        if response.status_code == 201:
            assert response.json()["article"]["tagList"] == [tag]
            found = client.get("/api/articles", params={"tag": tag, "author": author.username}).json()
            assert found["articlesCount"] == 1
    assert response.status_code in (200, 201, 422), f"{field}/{name}: {response.status_code} {response.text}"
    if response.status_code == 422:
        assert field in json.dumps(response.json()["errors"]) or field in ("comment", "tag")
    # The database is intact whatever was sent.
    assert client.get("/api/articles", params={"limit": 1}).status_code == 200


@pytest.mark.parametrize("value", [HOSTILE["sql or"], "%", "_", "' OR 1=1 --", "\\"])
def test_injection_in_filters_is_an_exact_match(client: httpx.Client, reader: User, value: str) -> None:
    """Metacharacters never widen a filter: whatever comes back really carries that exact value."""
    tagged = client.get("/api/articles", params={"tag": value, "limit": 100})
    assert tagged.status_code == 200
    assert all(value in a["tagList"] for a in tagged.json()["articles"]), value
    written = client.get("/api/articles", params={"author": value, "limit": 100})
    assert written.status_code == 200
    assert all(a["author"]["username"] == value for a in written.json()["articles"]), value
    client.post(f"/api/articles/{create_article(client, reader)['slug']}/favorite", headers=reader.auth)
    liked = client.get("/api/articles", params={"favorited": value})
    assert liked.status_code == 200
    if value != reader.username:
        assert reader.username not in {a["author"]["username"] for a in liked.json()["articles"]}, value
