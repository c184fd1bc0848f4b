"""What the test suites and the labs share: cheap test settings, and helpers that set state up
through the HTTP API, as a client would."""

from __future__ import annotations

import itertools
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from service.settings import Settings

Client = TestClient[Litestar]
_counter = itertools.count(1)


def make_settings(database_url: str, **changes: Any) -> Settings:
    """Test settings: cheap Argon2 parameters keep hundreds of sign-ups fast (tests/unit/test_security.py
    checks the real defaults), and a fixed secret long enough for every environment."""
    base = Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        argon2_parallelism=1,
        log_level="WARNING",
    )
    return base.with_changes(**changes) if changes else base


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def register(client: Client, username: str | None = None, password: str = "password123") -> dict[str, Any]:
    """Sign up a user; returns the `user` object (its `token` goes in `auth(...)`) plus the password used."""
    name = username or f"user{next(_counter)}"
    response = client.post(
        "/api/users", json={"user": {"username": name, "email": f"{name}@example.com", "password": password}}
    )
    assert response.status_code == 201, response.text
    return {**response.json()["user"], "password": password}


def create_article(client: Client, token: str, title: str | None = None, **fields: Any) -> dict[str, Any]:
    article = {"title": title or f"Article {next(_counter)}", "description": "about it", "body": "the body", **fields}
    response = client.post("/api/articles", json={"article": article}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()["article"]  # type: ignore[no-any-return]


def add_comment(client: Client, token: str, slug: str, body: str = "nice") -> dict[str, Any]:
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
