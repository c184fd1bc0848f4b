"""Registration, login, the current user and its update (endpoints 1-4)."""

from __future__ import annotations

from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from service.models import User
from tests.support import assert_error, auth, register

Client = TestClient[Litestar]
USER_KEYS = {"email", "token", "username", "bio", "image"}


def test_register_returns_201_and_the_user_with_null_bio_and_image(client: Client) -> None:
    response = client.post(
        "/api/users", json={"user": {"username": "jake_1", "email": "Jake_1@Mail.com", "password": "jakejake"}}
    )
    assert response.status_code == 201
    user = response.json()["user"]
    assert set(user) == USER_KEYS
    assert user["username"] == "jake_1"
    assert user["email"] == "jake_1@mail.com"  # e-mail addresses are stored lower-cased
    assert user["bio"] is None and user["image"] is None
    assert user["token"].count(".") == 2


def test_register_rejects_taken_email_and_username(client: Client) -> None:
    register(client, "jake")
    taken_email = {"username": "other", "email": "JAKE@example.com", "password": "password123"}
    assert_error(client.post("/api/users", json={"user": taken_email}), 422, "email")
    taken_name = {"username": "jake", "email": "new@example.com", "password": "password123"}
    assert_error(client.post("/api/users", json={"user": taken_name}), 422, "username")


def test_register_requires_every_field(client: Client) -> None:
    for missing in ("username", "email", "password"):
        user = {"username": "ann", "email": "ann@example.com", "password": "password123"}
        del user[missing]
        assert_error(client.post("/api/users", json={"user": user}), 422, missing)


def test_login_returns_the_user_with_a_working_token(client: Client) -> None:
    register(client, "jake", password="secret-pass")
    response = client.post("/api/users/login", json={"user": {"email": "jake@example.com", "password": "secret-pass"}})
    assert response.status_code == 200
    token = response.json()["user"]["token"]
    me = client.get("/api/user", headers=auth(token))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "jake"
    assert me.json()["user"]["token"]  # Q6: every user response has a token


def test_a_login_rewrites_a_hash_made_with_other_argon2_parameters(client: Client, app: Litestar) -> None:
    """The defaults changed once (19 MiB, t=2 -> 7 MiB, t=5, ADR 0005): a user signed up before keeps
    logging in, and their hash is rewritten with the current parameters at that login."""
    register(client, "jake", password="secret-pass")
    earlier = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1).hash("secret-pass")
    sessionmaker = app.state.database.sessionmaker

    async def store_earlier_hash() -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(update(User).where(User.username == "jake").values(password_hash=earlier))

    async def stored_hash() -> str:
        async with sessionmaker() as session:
            return str(await session.scalar(select(User.password_hash).where(User.username == "jake")))

    client.blocking_portal.call(store_earlier_hash)
    credentials = {"user": {"email": "jake@example.com", "password": "secret-pass"}}
    assert client.post("/api/users/login", json=credentials).status_code == 200
    settings = app.state.settings
    current = f"$argon2id$v=19$m={settings.argon2_memory_kib},t={settings.argon2_time_cost},p=1$"
    assert client.blocking_portal.call(stored_hash).startswith(current)
    assert client.post("/api/users/login", json=credentials).status_code == 200


def test_login_with_wrong_password_or_unknown_email_is_401(client: Client) -> None:
    register(client, "jake")
    wrong = client.post("/api/users/login", json={"user": {"email": "jake@example.com", "password": "nope-nope"}})
    assert_error(wrong, 401, "email or password")
    unknown = client.post("/api/users/login", json={"user": {"email": "who@example.com", "password": "password123"}})
    assert_error(unknown, 401, "email or password")


def test_repeated_failed_logins_get_429_with_retry_after(client: Client) -> None:
    register(client, "jake")
    bad = {"user": {"email": "jake@example.com", "password": "wrong-password"}}
    statuses = [client.post("/api/users/login", json=bad).status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = client.post("/api/users/login", json={"user": {"email": "jake@example.com", "password": "password123"}})
    assert_error(blocked, 429, "body")
    assert int(blocked.headers["retry-after"]) > 0


def test_login_missing_field_is_422(client: Client) -> None:
    assert_error(client.post("/api/users/login", json={"user": {"email": "a@b.c"}}), 422, "password")


def test_current_user_requires_a_token(client: Client) -> None:
    assert_error(client.get("/api/user"), 401, "token")
    assert_error(client.get("/api/user", headers={"Authorization": "Token not-a-jwt"}), 401, "token")
    assert_error(client.get("/api/user", headers={"Authorization": "Basic abc"}), 401, "token")


def test_bearer_scheme_is_accepted_too(client: Client) -> None:
    user = register(client)
    assert client.get("/api/user", headers={"Authorization": f"Bearer {user['token']}"}).status_code == 200


def test_update_changes_fields_and_keeps_a_token(client: Client) -> None:
    user = register(client, "jake")
    changes = {"bio": "I like to skateboard", "image": "https://i.example/j.png", "username": "jacob"}
    response = client.put("/api/user", json={"user": changes}, headers=auth(user["token"]))
    assert response.status_code == 200
    updated = response.json()["user"]
    assert {k: updated[k] for k in changes} == changes
    assert updated["token"]
    assert client.get("/api/profiles/jacob").status_code == 200
    assert client.get("/api/profiles/jake").status_code == 404


def test_update_password_then_login_with_it(client: Client) -> None:
    user = register(client, "jake")
    client.put("/api/user", json={"user": {"password": "brand-new-pass"}}, headers=auth(user["token"]))
    new_login = {"user": {"email": "jake@example.com", "password": "brand-new-pass"}}
    assert client.post("/api/users/login", json=new_login).status_code == 200


def test_update_resending_own_email_and_username_succeeds(client: Client) -> None:
    user = register(client, "jake")
    same = {"email": user["email"], "username": user["username"], "bio": "hi"}
    assert client.put("/api/user", json={"user": same}, headers=auth(user["token"])).status_code == 200  # Q7


def test_update_to_another_users_email_or_username_is_422(client: Client) -> None:
    register(client, "other")
    user = register(client, "jake")
    headers = auth(user["token"])
    assert_error(client.put("/api/user", json={"user": {"email": "other@example.com"}}, headers=headers), 422, "email")
    assert_error(client.put("/api/user", json={"user": {"username": "other"}}, headers=headers), 422, "username")


def test_update_with_no_fields_is_422_and_null_clears_bio(client: Client) -> None:
    user = register(client)
    headers = auth(user["token"])
    assert_error(client.put("/api/user", json={"user": {}}, headers=headers), 422, "user")
    client.put("/api/user", json={"user": {"bio": "something"}}, headers=headers)
    cleared = client.put("/api/user", json={"user": {"bio": None}}, headers=headers)
    assert cleared.json()["user"]["bio"] is None


def test_update_from_a_real_settings_form_with_empty_fields(client: Client) -> None:
    """The Angular RealWorld client sends every field of its settings form, empty ones as ""."""
    user = register(client, "jake")
    headers = auth(user["token"])
    client.put("/api/user", json={"user": {"bio": "old bio", "image": "https://img.example/a.png"}}, headers=headers)
    form = {"email": user["email"], "username": "jake", "password": "", "bio": "", "image": ""}
    response = client.put("/api/user", json={"user": form}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["bio"] is None and response.json()["user"]["image"] is None
    login = {"user": {"email": user["email"], "password": user["password"]}}
    assert client.post("/api/users/login", json=login).status_code == 200  # "" kept the password


def test_update_with_a_short_password_is_422_and_changes_nothing(client: Client) -> None:
    user = register(client, "jake")
    headers = auth(user["token"])
    response = client.put("/api/user", json={"user": {"password": "short", "bio": "new"}}, headers=headers)
    assert_error(response, 422, "password")
    assert client.get("/api/user", headers=headers).json()["user"]["bio"] is None


def test_update_requires_a_token(client: Client) -> None:
    assert_error(client.put("/api/user", json={"user": {"bio": "x"}}), 401, "token")


def test_usernames_that_differ_only_in_letter_case_are_two_users(client: Client) -> None:
    """As the spec's slugs and usernames: case-sensitive on every database (MariaDB included)."""
    for username, email in (("Jake", "jake.upper@example.com"), ("jake", "jake.lower@example.com")):
        body = {"user": {"username": username, "email": email, "password": "password123"}}
        assert client.post("/api/users", json=body).status_code == 201
    assert client.get("/api/profiles/Jake").json()["profile"]["username"] == "Jake"
    assert client.get("/api/profiles/jake").json()["profile"]["username"] == "jake"
    assert client.get("/api/profiles/JAKE").status_code == 404


def test_emails_are_unique_whatever_their_letter_case(client: Client) -> None:
    register(client, "jake")
    taken = {"user": {"username": "other", "email": "JAKE@Example.COM", "password": "password123"}}
    assert_error(client.post("/api/users", json=taken), 422, "email")
