"""Seed data for the fuzzer, set up through the API: two users who follow, favorite and comment."""

from __future__ import annotations

import jwt
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.fuzz.asgi import RawRequest
from tests.fuzz.operations import Operation
from tests.fuzz.strategies import Seeds, raw_requests
from tests.support import add_comment, auth, create_article, register

# Values for parameters Litestar's own routes take (docs pages, static files).
DOCS_VALUES = {"file_path": ("swagger-ui.css", "favicon-32x32.png"), "path": ("swagger", "openapi.json")}


def seed(client: TestClient[Litestar], secret_key: str) -> Seeds:
    """A caller and another user, an article of each (tagged), comments of both, a follow and a favorite."""
    caller, other = register(client), register(client)
    mine = create_article(client, caller["token"], tagList=["fuzz", "dragons"])
    theirs = create_article(client, other["token"], tagList=["fuzz"])
    comments = [
        add_comment(client, caller["token"], mine["slug"]),
        add_comment(client, other["token"], mine["slug"]),
        add_comment(client, caller["token"], theirs["slug"]),
    ]
    client.post(f"/api/profiles/{other['username']}/follow", headers=auth(caller["token"]))
    client.post(f"/api/articles/{theirs['slug']}/favorite", headers=auth(caller["token"]))
    usernames = (caller["username"], other["username"])
    subject = jwt.decode(caller["token"], options={"verify_signature": False})["sub"]
    return Seeds(
        secret_key=secret_key,
        user_id=int(subject),
        token=caller["token"],
        other_token=other["token"],
        known={
            "username": usernames,
            "author": usernames,
            "favorited": usernames,
            "email": (caller["email"],),
            "password": (caller["password"],),
            "slug": (mine["slug"], theirs["slug"]),
            "comment_id": tuple(str(item["id"]) for item in comments),
            "tag": ("fuzz", "dragons"),
            **DOCS_VALUES,
        },
    )


class World:
    """The current seeds and the request strategies aimed at them; a request that may have renamed or
    removed some (a 2xx PUT, a 204: the answer to deleting an article or a comment) makes new ones."""

    def __init__(self, client: TestClient[Litestar], secret_key: str) -> None:
        self.client = client
        self.secret_key = secret_key
        self.seeds = seed(client, secret_key)
        self._strategies: dict[str, st.SearchStrategy[RawRequest]] = {}

    def requests_for(self, operation: Operation) -> st.SearchStrategy[RawRequest]:
        key = str(operation)
        if key not in self._strategies:
            self._strategies[key] = raw_requests(operation, self.seeds)
        return self._strategies[key]

    def refresh_after(self, method: str, status: int) -> None:
        if (method == "PUT" and 200 <= status < 300) or (method == "DELETE" and status == 204):
            self.seeds = seed(self.client, self.secret_key)
            self._strategies.clear()
