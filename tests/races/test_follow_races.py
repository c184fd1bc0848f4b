"""Follows and unfollows sent by many requests at one instant."""

from __future__ import annotations

from tests.races.burst import Call, burst, statuses
from tests.races.conftest import RaceServer, auth, register, register_many

N = 20


def test_many_followers_at_once_are_all_kept(race_server: RaceServer) -> None:
    star = register(race_server, "star")
    fans = register_many(race_server, N)
    calls = [Call("POST", f"/api/profiles/{star['username']}/follow", headers=auth(fan)) for fan in fans]
    responses = burst(race_server.base_url, calls)
    assert statuses(responses) == {200: N}
    assert all(response.json()["profile"]["following"] is True for response in responses)
    followers = race_server.scalar(
        "SELECT count(*) FROM follows JOIN users ON users.id = follows.followee_id WHERE username = :name",
        name=star["username"],
    )
    assert followers == N


def test_one_user_following_and_unfollowing_at_once_leaves_at_most_one_row(race_server: RaceServer) -> None:
    star, fan = register(race_server, "star"), register(race_server)
    path = f"/api/profiles/{star['username']}/follow"
    responses = burst(
        race_server.base_url,
        [Call("POST", path, headers=auth(fan))] * N + [Call("DELETE", path, headers=auth(fan))] * N,
    )
    assert statuses(responses) == {200: 2 * N}
    rows = race_server.scalar(
        "SELECT count(*) FROM follows JOIN users ON users.id = follows.followee_id WHERE username = :name",
        name=star["username"],
    )
    with race_server.client() as client:
        following = client.get(f"/api/profiles/{star['username']}", headers=auth(fan)).json()["profile"]["following"]
    assert rows in (0, 1) and following is (rows == 1)


def test_following_yourself_at_once_is_always_422(race_server: RaceServer) -> None:
    me = register(race_server)
    responses = burst(
        race_server.base_url, [Call("POST", f"/api/profiles/{me['username']}/follow", headers=auth(me))] * N
    )
    assert statuses(responses) == {422: N}
