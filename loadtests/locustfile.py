"""Locust scenarios: four personas that make a read-heavy blogging site, and the named load shapes.

    LOAD_HOST=http://127.0.0.1:8000 LOAD_SHAPE=smoke locust -f loadtests/locustfile.py --headless

Personas (class weights): anonymous readers, signed-in readers, writers, and newcomers who sign up
and log in (Argon2 makes those the expensive calls). Signed-in personas log in as a seeded load
user (`python -m loadtests.seed`); each virtual user takes its own account and writes its own
articles and comments. Request names are route templates, so the report has one row per endpoint.
Think times come from LOAD_THINK_MIN / LOAD_THINK_MAX (seconds). Gates run when the test ends
(loadtests/gates.py, loadtests/hooks.py) and set the exit code.
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from typing import Any

from locust import LoadTestShape, between, events, runners, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests import hooks, shapes
from loadtests.seed import LOAD_PASSWORD, SeedSize, email

LOAD_USERS = int(os.environ.get("LOAD_SEEDED_USERS", SeedSize().users))
THINK_MIN = float(os.environ.get("LOAD_THINK_MIN", "0.5"))
THINK_MAX = float(os.environ.get("LOAD_THINK_MAX", "2.0"))
TAGS = [f"loadtag{i:02d}" for i in range(SeedSize().tags)]
JSON = {"Content-Type": "application/json"}

_next_account = itertools.count()
_runners: list[WorkerRunner] = []  # this process's worker runner, when it is a distributed worker


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        _runners.append(environment.runner)
    if isinstance(environment.runner, MasterRunner):
        # Locust drops a worker that missed 3 one-second heartbeats; a worker starved of CPU on a
        # busy machine misses them while it is well. Locust has no option for it: its module
        # constant, read each time a worker reports (docs/upgrading.md).
        runners.HEARTBEAT_LIVENESS = int(os.environ.get("LOAD_HEARTBEAT_LIVENESS", "30"))
    hooks.install(environment)


def _own_account() -> int:
    """A seeded account no other virtual user of this run holds: each worker process starts at its
    own offset, so accounts stay distinct while a worker runs fewer than LOAD_SEEDED_USERS/8 users."""
    worker_index = _runners[0].worker_index if _runners else 0  # known once the master acknowledged it
    return (worker_index * (LOAD_USERS // 8) + next(_next_account)) % LOAD_USERS


class ConduitUser(FastHttpUser):
    abstract = True
    wait_time = between(THINK_MIN, THINK_MAX)
    host = os.environ.get("LOAD_HOST", "http://127.0.0.1:8000")
    slugs: list[str]

    def on_start(self) -> None:
        self.slugs = []
        self.token: str | None = None
        self.account = -1  # the seeded account `login` signs in as

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"} if self.token else {}

    def browse_list(self, **params: str | int) -> None:
        query = "&".join(f"{key}={value}" for key, value in {"limit": 20, **params}.items())
        filters = sorted(key for key in params if key != "offset")  # one row per filter, not per value
        name = "/api/articles" + ("?" + "&".join(filters) if filters else "")
        with self.client.get(f"/api/articles?{query}", headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            self.slugs = [article["slug"] for article in response.json()["articles"]] or self.slugs

    def pick_slug(self) -> str | None:
        if not self.slugs:
            self.browse_list(offset=random.randrange(0, 2000))
        return random.choice(self.slugs) if self.slugs else None

    def login(self, account: int) -> None:
        self.account = account
        body = {"user": {"email": email(account), "password": LOAD_PASSWORD}}
        with self.client.post("/api/users/login", json=body, headers=JSON, catch_response=True) as response:
            if response.status_code == 200:
                self.token = response.json()["user"]["token"]
            else:
                response.failure(f"login as seeded account {account}: status {response.status_code}")


class AnonymousReader(ConduitUser):
    """Most visitors: the home page, a tag, an article and its comments."""

    weight = 12

    @task(6)
    def home(self) -> None:
        self.browse_list(offset=random.choice((0, 0, 0, 20, 40)))

    @task(2)
    def by_tag(self) -> None:
        self.browse_list(tag=random.choice(TAGS))

    @task(4)
    def read_article(self) -> None:
        slug = self.pick_slug()
        if slug:
            self.client.get(f"/api/articles/{slug}", name="/api/articles/[slug]")
            self.client.get(f"/api/articles/{slug}/comments", name="/api/articles/[slug]/comments")

    @task(1)
    def tags(self) -> None:
        self.client.get("/api/tags")


class SignedInReader(ConduitUser):
    """Members: their feed, favorites and follows, on their own seeded account."""

    weight = 5

    def on_start(self) -> None:
        super().on_start()
        self.login(_own_account())

    @task(5)
    def feed(self) -> None:
        self.client.get("/api/articles/feed?limit=20", headers=self.auth, name="/api/articles/feed")

    @task(3)
    def home(self) -> None:
        self.browse_list(offset=0)

    @task(2)
    def favorite_and_undo(self) -> None:
        slug = self.pick_slug()
        if slug:
            self.client.post(f"/api/articles/{slug}/favorite", headers=self.auth, name="/api/articles/[slug]/favorite")
            self.client.delete(
                f"/api/articles/{slug}/favorite", headers=self.auth, name="/api/articles/[slug]/favorite"
            )

    @task(1)
    def follow_and_undo(self) -> None:
        # Anyone but themselves: following yourself is a 422 by design, not a load failure.
        other = f"loaduser_{(self.account + random.randrange(1, LOAD_USERS)) % LOAD_USERS:05d}"
        self.client.get(f"/api/profiles/{other}", headers=self.auth, name="/api/profiles/[username]")
        self.client.post(f"/api/profiles/{other}/follow", headers=self.auth, name="/api/profiles/[username]/follow")
        self.client.delete(f"/api/profiles/{other}/follow", headers=self.auth, name="/api/profiles/[username]/follow")


class Writer(ConduitUser):
    """Authors: write and edit their own articles, comment on others'."""

    weight = 2

    def on_start(self) -> None:
        super().on_start()
        self.login(_own_account())
        self.own: list[str] = []

    @task(2)
    def write(self) -> None:
        article = {
            "title": f"Load article {uuid.uuid4().hex[:12]}",
            "description": "written by the load test",
            "body": "Measured, not guessed. " * 20,
            "tagList": random.sample(TAGS, 2),
        }
        with self.client.post(
            "/api/articles", json={"article": article}, headers=self.auth, catch_response=True
        ) as response:
            if response.status_code == 201:
                self.own.append(response.json()["article"]["slug"])
            else:
                response.failure(f"status {response.status_code}")

    @task(1)
    def edit(self) -> None:
        if self.own:
            slug = random.choice(self.own)
            body = {"article": {"body": f"Edited {uuid.uuid4().hex}"}}
            self.client.put(f"/api/articles/{slug}", json=body, headers=self.auth, name="/api/articles/[slug]")

    @task(3)
    def comment(self) -> None:
        slug = self.pick_slug()
        if slug:
            body = {"comment": {"body": "Thanks, this helped."}}
            self.client.post(
                f"/api/articles/{slug}/comments", json=body, headers=self.auth, name="/api/articles/[slug]/comments"
            )


class Newcomer(ConduitUser):
    """Occasional visitors who sign up, then log in: the Argon2-bound requests."""

    weight = 1
    wait_time = between(THINK_MIN * 4, THINK_MAX * 4)

    @task
    def sign_up_and_log_in(self) -> None:
        name = f"new_{uuid.uuid4().hex[:16]}"
        user = {"username": name, "email": f"{name}@load.example.com", "password": "newcomer-password"}
        self.client.post("/api/users", json={"user": user}, headers=JSON)
        login = {"user": {"email": user["email"], "password": user["password"]}}
        with self.client.post("/api/users/login", json=login, headers=JSON, catch_response=True) as response:
            if response.status_code == 200:
                self.token = response.json()["user"]["token"]
                self.client.get("/api/user", headers=self.auth)
            else:
                response.failure(f"status {response.status_code}")


class NamedShape(LoadTestShape):
    """The shape named by LOAD_SHAPE (smoke, ramp, spike, soak); see loadtests/shapes.py."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages = shapes.stages(os.environ.get("LOAD_SHAPE", "smoke"))

    def tick(self) -> tuple[int, float] | None:
        return shapes.at(self.stages, self.get_run_time())  # type: ignore[no-untyped-call]


__all__ = ["AnonymousReader", "NamedShape", "Newcomer", "SignedInReader", "Writer"]
