"""Bad input of every kind is a clear 4xx with the error body, never a 500, and writes nothing."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service import models
from service.articles.service import ArticleService
from tests.fuzz.asgi import RawRequest, send_raw
from tests.support import assert_error, auth, create_article, register

Client = TestClient[Litestar]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b'{"user": "jake"}', "user"),
        (b'{"user": {"username": 5, "email": "a@b.c", "password": "password123"}}', "username"),
        (b'{"user": {"username": "", "email": "a@b.c", "password": "password123"}}', "username"),
        (b'{"user": {"username": "has space", "email": "a@b.c", "password": "password123"}}', "username"),
        (b'{"user": {"username": "jake", "email": "not-an-email", "password": "password123"}}', "email"),
        (b'{"user": {"username": "jake", "email": "a@b.c", "password": "short"}}', "password"),
        (b'{"user": {"username": "jake", "email": "a@b.c", "password": null}}', "password"),
    ],
)
def test_bad_registration_bodies_are_422_and_create_nothing(client: Client, body: bytes, field: str) -> None:
    response = client.post("/api/users", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, field)
    assert (
        client.post("/api/users/login", json={"user": {"email": "a@b.c", "password": "password123"}}).status_code == 401
    )


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("title", models.TITLE_MAX),
        ("description", models.DESCRIPTION_MAX),
        ("body", models.BODY_MAX),
    ],
)
def test_over_long_article_fields_are_422(client: Client, field: str, limit: int) -> None:
    user = register(client)
    article = {"title": "t", "description": "d", "body": "b", field: "x" * (limit + 1)}
    assert_error(client.post("/api/articles", json={"article": article}, headers=auth(user["token"])), 422, field)
    at_limit = {**article, field: "x" * limit}
    assert client.post("/api/articles", json={"article": at_limit}, headers=auth(user["token"])).status_code == 201


def test_over_long_user_fields_and_comment_are_422(client: Client) -> None:
    user = register(client)
    headers = auth(user["token"])
    too_long_name = {"username": "u" * (models.USERNAME_MAX + 1), "email": "x@y.z", "password": "password123"}
    assert_error(client.post("/api/users", json={"user": too_long_name}), 422, "username")
    assert_error(
        client.put("/api/user", json={"user": {"bio": "b" * (models.BIO_MAX + 1)}}, headers=headers), 422, "bio"
    )
    slug = create_article(client, user["token"])["slug"]
    long_comment = {"comment": {"body": "c" * (models.COMMENT_MAX + 1)}}
    assert_error(client.post(f"/api/articles/{slug}/comments", json=long_comment, headers=headers), 422, "body")


def test_tag_limits(client: Client) -> None:
    user = register(client)
    headers = auth(user["token"])
    base = {"title": "t", "description": "d", "body": "b"}
    too_many = [f"t{i}" for i in range(models.TAGS_PER_ARTICLE_MAX + 1)]
    for tags in (too_many, ["x" * (models.TAG_MAX + 1)], [""], [" padded"], ["a\nb"], [5]):
        response = client.post("/api/articles", json={"article": {**base, "tagList": tags}}, headers=headers)
        assert_error(response, 422, "tagList")
    assert client.get("/api/articles").json()["articlesCount"] == 0  # nothing half-written


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "nul\x00byte"])
def test_blank_or_nul_text_is_422(client: Client, text: str) -> None:
    user = register(client)
    response = client.post(
        "/api/articles", json={"article": {"title": text, "description": "d", "body": "b"}}, headers=auth(user["token"])
    )
    assert_error(response, 422, "title")


def test_oversized_body_is_413_with_error_body(client: Client) -> None:
    payload = b'{"user": {"username": "' + b"x" * 2_000_000 + b'"}}'
    response = client.post("/api/users", content=payload, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "body")


def test_deeply_nested_json_is_rejected_not_crashing(client: Client) -> None:
    payload = b'{"user": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = client.post("/api/users", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_unknown_routes_and_methods_are_4xx_with_error_body(client: Client) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "body")
    assert_error(client.patch("/api/articles"), 405, "body")


def test_non_integer_and_out_of_range_comment_ids_are_4xx(client: Client) -> None:
    user = register(client)
    slug = create_article(client, user["token"])["slug"]
    for bad in ("abc", "1.5", "-1", "0", "99999999999999999999"):
        response = client.delete(f"/api/articles/{slug}/comments/{bad}", headers=auth(user["token"]))
        assert response.status_code in (404, 422), (bad, response.text)
        assert "errors" in response.json()


async def explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("secret internals: SELECT * FROM users")


def test_unexpected_errors_are_500_without_internals(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ArticleService, "tags", explode)
    response = client.get("/api/tags")
    assert response.status_code == 500
    assert response.json() == {"errors": {"body": ["internal server error"]}}


def test_an_unexpected_error_is_answered_even_when_the_query_is_not_utf8(
    client: Client, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 500 handler logs the path; reading it through `request.url` decodes the query string,
    which raised a second error that escaped the app (the server, not the app, then answered)."""
    monkeypatch.setattr(ArticleService, "tags", explode)
    response = client.blocking_portal.call(send_raw, app, RawRequest("GET", b"/api/tags", query_string=b"x=\xff"))
    assert response.error is None, response.error
    assert response.status == 500
    assert json.loads(response.body) == {"errors": {"body": ["internal server error"]}}


INVALID_UTF8 = b"\xc3("  # a lead byte followed by a byte that cannot continue it


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/users", b'{"user": {"username": "u", "email": "%s", "password": "password123"}}'),
        ("POST", "/api/users/login", b'{"user": {"email": "%s", "password": "password123"}}'),
        ("PUT", "/api/user", b'{"user": {"bio": "%s"}}'),
        ("POST", "/api/articles", b'{"article": {"title": "%s", "description": "d", "body": "b"}}'),
        ("PUT", "/api/articles/{slug}", b'{"article": {"title": "%s"}}'),
        ("POST", "/api/articles/{slug}/comments", b'{"comment": {"body": "%s"}}'),
    ],
)
def test_invalid_utf8_inside_a_json_string_is_422(client: Client, method: str, path: str, body: bytes) -> None:
    user = register(client)
    slug = create_article(client, user["token"])["slug"]
    headers = {**auth(user["token"]), "Content-Type": "application/json"}
    response = client.request(method, path.format(slug=slug), content=body % INVALID_UTF8, headers=headers)
    assert_error(response, 422, "body")


def test_nul_in_the_login_email_is_422(client: Client) -> None:
    response = client.post("/api/users/login", json={"user": {"email": "jake\x00@example.com", "password": "x"}})
    assert_error(response, 422, "email")


def test_a_signed_token_with_an_out_of_range_user_id_is_401(client: Client, app: Litestar) -> None:
    token = jwt.encode({"sub": str(2**64), "exp": int(time.time()) + 60}, app.state.settings.secret_key, "HS256")
    assert_error(client.get("/api/user", headers=auth(token)), 401, "token")
    assert_error(client.get("/api/articles", headers=auth(token)), 401, "token")


@pytest.mark.parametrize(
    "preflight",
    [
        {"Access-Control-Request-Method": "PATCH"},
        {"Access-Control-Request-Method": "\x00"},
        {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Not-Allowed"},
    ],
)
def test_a_refused_cors_preflight_has_the_error_body(client: Client, preflight: dict[str, str]) -> None:
    """Litestar refuses these in plain text; every error of the API carries the JSON error body."""
    response = client.options("/api/articles", headers={"Origin": "https://example.com", **preflight})
    assert response.headers["content-type"] == "application/json"
    assert_error(response, 400, "cors")


# "İ" lower-cases to two characters: at the length limit, the stored (lower-cased) e-mail no longer fits.
DOTTED_CAPITAL_I = "\u0130"
EMAIL_TOO_LONG_ONCE_LOWERED = "a@" + DOTTED_CAPITAL_I * (models.EMAIL_MAX - 2)


def test_an_email_too_long_once_lower_cased_is_422(client: Client) -> None:
    body = {"user": {"username": "turkish", "email": EMAIL_TOO_LONG_ONCE_LOWERED, "password": "password123"}}
    assert_error(client.post("/api/users", json=body), 422, "email")
    user = register(client)
    response = client.put(
        "/api/user", json={"user": {"email": EMAIL_TOO_LONG_ONCE_LOWERED}}, headers=auth(user["token"])
    )
    assert_error(response, 422, "email")


def test_an_email_with_a_dotted_capital_i_that_fits_is_accepted(client: Client) -> None:
    body = {"user": {"username": "turkish", "email": f"{DOTTED_CAPITAL_I}pek@example.com", "password": "password123"}}
    response = client.post("/api/users", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == f"{DOTTED_CAPITAL_I.lower()}pek@example.com"


@pytest.mark.parametrize("name", ["x" * 256, "x" * 5000])
def test_an_asset_name_the_file_system_refuses_is_404(client: Client, name: str) -> None:
    assert_error(client.get(f"/schema-assets/{name}"), 404, "body")
