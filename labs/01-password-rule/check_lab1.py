"""Lab 1 check: a password equal to the username or e-mail address is refused with a 422."""

from __future__ import annotations

from conftest import Client, auth, register


def _sign_up(client: Client, username: str, email: str, password: str) -> tuple[int, dict]:
    body = {"user": {"username": username, "email": email, "password": password}}
    response = client.post("/api/users", json=body)
    return response.status_code, response.json()


def _login_works(client: Client, email: str, password: str) -> bool:
    body = {"user": {"email": email, "password": password}}
    return client.post("/api/users/login", json=body).status_code == 200


def test_sign_up_refuses_the_username_as_password(client: Client) -> None:
    status, body = _sign_up(client, "dragon_rider", "rider@example.com", "Dragon_Rider")
    assert status == 422, body
    assert list(body["errors"]) == ["password"]
    assert client.get("/api/profiles/dragon_rider").status_code == 404, "nothing may be created"


def test_sign_up_refuses_the_email_as_password(client: Client) -> None:
    status, body = _sign_up(client, "rider", "Rider@Example.com", "rider@example.COM")
    assert status == 422, body
    assert list(body["errors"]) == ["password"]


def test_sign_up_with_an_ordinary_password_still_works(client: Client) -> None:
    status, body = _sign_up(client, "rider", "rider@example.com", "rider-on-the-storm")
    assert status == 201, body


def test_update_refuses_the_current_username_as_password(client: Client) -> None:
    user = register(client, "jake_the_dog")
    response = client.put("/api/user", json={"user": {"password": "JAKE_THE_DOG"}}, headers=auth(user["token"]))
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == ["password"]
    assert _login_works(client, "jake_the_dog@example.com", "password123"), "the old password must still work"


def test_update_compares_with_the_new_username_and_email(client: Client) -> None:
    user = register(client, "finn_human")
    headers = auth(user["token"])
    both = {"user": {"username": "finn_mertens", "password": "finn_mertens"}}
    assert client.put("/api/user", json=both, headers=headers).status_code == 422
    email = {"user": {"email": "finn@ooo.example", "password": "FINN@ooo.example"}}
    assert client.put("/api/user", json=email, headers=headers).status_code == 422
    assert client.get("/api/user", headers=headers).json()["user"]["username"] == "finn_human", "nothing may change"


def test_update_with_an_ordinary_password_still_works(client: Client) -> None:
    user = register(client, "marceline")
    response = client.put("/api/user", json={"user": {"password": "vampire-queen-1000"}}, headers=auth(user["token"]))
    assert response.status_code == 200, response.text
    assert _login_works(client, "marceline@example.com", "vampire-queen-1000")
