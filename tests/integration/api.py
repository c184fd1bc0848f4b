"""Small helpers that set up state through the HTTP API, as a client would."""

from __future__ import annotations

import itertools
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
_counter = itertools.count(1)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def register(client: Client, username: str | None = None, password: str = "password123") -> dict[str, Any]:
    """Sign up a user; returns the `user` object (with its token) plus the password used."""
    name = username or f"user{next(_counter)}"
    response = client.post(
        "/api/users", json={"user": {"username": name, "email": f"{name}@example.com", "password": password}}
    )
    assert response.status_code == 201, response.text
    return {**response.json()["user"], "password": password}


def create_article(client: Client, token: str, **fields: Any) -> dict[str, Any]:
    article = {"title": f"Article {next(_counter)}", "description": "about it", "body": "the body", **fields}
    response = client.post("/api/articles", json={"article": article}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()["article"]  # type: ignore[no-any-return]


def comment(client: Client, token: str, slug: str, body: str = "nice") -> dict[str, Any]:
    response = client.post(f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()["comment"]  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, field: str) -> None:
    """The spec's error body: {"errors": {field: [messages]}} with the given status."""
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert isinstance(errors, dict)
    assert field in errors, errors
    assert errors[field] and all(isinstance(message, str) for message in errors[field])
