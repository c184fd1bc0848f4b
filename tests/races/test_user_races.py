"""Sign-ups, profile edits and failed logins sent by many requests at one instant."""

from __future__ import annotations

from tests.races.burst import Call, burst, error_messages, statuses
from tests.races.conftest import LOGIN_MAX_FAILURES, RaceServer, auth, register, register_many, unique_name

N = 20


def _sign_up(username: str, email: str) -> Call:
    return Call("POST", "/api/users", {"user": {"username": username, "email": email, "password": "password123"}})


def test_sign_ups_with_one_email_in_any_letter_case_give_one_201(race_server: RaceServer) -> None:
    name = unique_name("same")
    variants = [f"{name}@example.com", f"{name.upper()}@EXAMPLE.COM", f"{name.title()}@Example.com"]
    calls = [_sign_up(unique_name("u"), variants[i % len(variants)]) for i in range(N)]
    responses = burst(race_server.base_url, calls)
    assert statuses(responses) == {201: 1, 422: N - 1}
    assert error_messages(responses, 422) == {("email", "has already been taken")}
    stored = race_server.scalar("SELECT count(*) FROM users WHERE email = :email", email=f"{name}@example.com")
    assert stored == 1


def test_sign_ups_with_one_username_give_one_201(race_server: RaceServer) -> None:
    name = unique_name("taken")
    responses = burst(race_server.base_url, [_sign_up(name, f"{unique_name('e')}@example.com") for _ in range(N)])
    assert statuses(responses) == {201: 1, 422: N - 1}
    assert error_messages(responses, 422) == {("username", "has already been taken")}


def test_renames_of_many_users_to_one_username_give_one_200(race_server: RaceServer) -> None:
    users = register_many(race_server, N)
    name = unique_name("wanted")
    responses = burst(
        race_server.base_url, [Call("PUT", "/api/user", {"user": {"username": name}}, auth(u)) for u in users]
    )
    assert statuses(responses) == {200: 1, 422: N - 1}
    assert error_messages(responses, 422) == {("username", "has already been taken")}


def test_simultaneous_wrong_passwords_check_no_more_than_the_limit(race_server: RaceServer) -> None:
    user = register(race_server)
    wrong = {"user": {"email": user["email"], "password": "not-the-password"}}
    responses = burst(race_server.base_url, [Call("POST", "/api/users/login", wrong)] * 30)
    assert statuses(responses) == {401: LOGIN_MAX_FAILURES, 429: 30 - LOGIN_MAX_FAILURES}
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)
    right = {"user": {"email": user["email"], "password": "password123"}}
    with race_server.client() as client:
        assert client.post("/api/users/login", json=right).status_code == 429  # the key is locked out
