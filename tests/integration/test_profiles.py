"""Profiles and follows (endpoints 5-7)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.support import assert_error, auth, register

Client = TestClient[Litestar]


def test_profile_without_token_is_not_following(client: Client) -> None:
    register(client, "celeb")
    response = client.get("/api/profiles/celeb")
    assert response.status_code == 200
    assert response.json() == {"profile": {"username": "celeb", "bio": None, "image": None, "following": False}}


def test_follow_and_unfollow_return_the_profile(client: Client) -> None:
    register(client, "celeb")
    fan = register(client, "fan")
    headers = auth(fan["token"])
    followed = client.post("/api/profiles/celeb/follow", headers=headers)
    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert client.post("/api/profiles/celeb/follow", headers=headers).json()["profile"]["following"] is True
    assert client.get("/api/profiles/celeb", headers=headers).json()["profile"]["following"] is True
    unfollowed = client.delete("/api/profiles/celeb/follow", headers=headers)
    assert unfollowed.status_code == 200
    assert unfollowed.json()["profile"]["following"] is False
    assert client.get("/api/profiles/celeb", headers=headers).json()["profile"]["following"] is False


def test_follow_ignores_a_json_content_type_and_irrelevant_body(client: Client) -> None:
    register(client, "celeb")
    fan = register(client, "fan")
    headers = {**auth(fan["token"]), "Content-Type": "application/json"}
    assert client.post("/api/profiles/celeb/follow", headers=headers, content=b"").status_code == 200  # Q10
    assert client.post("/api/profiles/celeb/follow", headers=headers, json={"whatever": 1}).status_code == 200


def test_profile_errors(client: Client) -> None:
    fan = register(client, "fan")
    assert_error(client.get("/api/profiles/nobody"), 404, "profile")
    assert_error(client.post("/api/profiles/nobody/follow", headers=auth(fan["token"])), 404, "profile")
    assert_error(client.delete("/api/profiles/nobody/follow", headers=auth(fan["token"])), 404, "profile")
    assert_error(client.post("/api/profiles/fan/follow"), 401, "token")
    assert_error(client.delete("/api/profiles/fan/follow"), 401, "token")
    assert_error(client.post("/api/profiles/fan/follow", headers=auth(fan["token"])), 422, "username")
