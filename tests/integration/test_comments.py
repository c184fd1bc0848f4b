"""Comments (endpoints 14-16)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import add_comment, assert_error, auth, create_article, register

Client = TestClient[Litestar]


def test_add_comment_is_200_with_integer_id_and_author(client: Client) -> None:
    author = register(client, "jake")
    slug = create_article(client, author["token"])["slug"]
    response = client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "Thank you"}}, headers=auth(author["token"])
    )
    assert response.status_code == 200  # the spec says 200, not 201
    created = response.json()["comment"]
    assert set(created) == {"id", "createdAt", "updatedAt", "body", "author"}
    assert isinstance(created["id"], int)
    assert created["body"] == "Thank you"
    assert created["author"]["username"] == "jake"


def test_list_comments_oldest_first_with_optional_personalisation(client: Client) -> None:
    author = register(client, "author")
    reader = register(client, "reader")
    slug = create_article(client, author["token"])["slug"]
    first = add_comment(client, author["token"], slug, "first")
    second = add_comment(client, reader["token"], slug, "second")
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    anonymous = client.get(f"/api/articles/{slug}/comments")
    assert anonymous.status_code == 200
    assert [c["id"] for c in anonymous.json()["comments"]] == [first["id"], second["id"]]
    assert all(c["author"]["following"] is False for c in anonymous.json()["comments"])
    personal = client.get(f"/api/articles/{slug}/comments", headers=auth(reader["token"])).json()["comments"]
    assert personal[0]["author"]["following"] is True


def test_delete_comment_by_author_is_204_and_by_others_403(client: Client) -> None:
    author = register(client)
    other = register(client)
    slug = create_article(client, author["token"])["slug"]
    created = add_comment(client, author["token"], slug)
    assert_error(
        client.delete(f"/api/articles/{slug}/comments/{created['id']}", headers=auth(other["token"])), 403, "comment"
    )
    assert len(client.get(f"/api/articles/{slug}/comments").json()["comments"]) == 1
    response = client.delete(f"/api/articles/{slug}/comments/{created['id']}", headers=auth(author["token"]))
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/api/articles/{slug}/comments").json() == {"comments": []}


def test_comment_errors(client: Client) -> None:
    author = register(client)
    headers = auth(author["token"])
    slug = create_article(client, author["token"])["slug"]
    other_slug = create_article(client, author["token"])["slug"]
    created = add_comment(client, author["token"], slug)
    assert_error(client.get("/api/articles/nope/comments"), 404, "article")
    assert_error(
        client.post("/api/articles/nope/comments", json={"comment": {"body": "x"}}, headers=headers), 404, "article"
    )
    assert_error(client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "x"}}), 401, "token")
    assert_error(
        client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": ""}}, headers=headers), 422, "body"
    )
    assert_error(client.post(f"/api/articles/{slug}/comments", json={"comment": {}}, headers=headers), 422, "body")
    assert_error(client.delete(f"/api/articles/{slug}/comments/999999", headers=headers), 404, "comment")
    # a comment id from another article is not found under this one
    assert_error(client.delete(f"/api/articles/{other_slug}/comments/{created['id']}", headers=headers), 404, "comment")
    assert_error(client.delete(f"/api/articles/{slug}/comments/{created['id']}"), 401, "token")
    assert client.delete(f"/api/articles/{slug}/comments/abc", headers=headers).status_code in (404, 422)
