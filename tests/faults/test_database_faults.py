"""The database goes away, comes back, restarts under load, or crawls: the API must say so and recover.

The app runs in-process against a throwaway server of each engine (PostgreSQL, MariaDB), with the
production pool and timeout settings, so the measured times are the ones a deployment would see.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from tests.faults.conftest import UNBOUNDED_SECONDS, DatabaseServer, asgi_client, database_name, fault_settings

_titles = itertools.count(1)


def _signup(client: Any, name: str) -> dict[str, str]:
    response = client.post(
        "/api/users", json={"user": {"username": name, "email": f"{name}@example.com", "password": "password123"}}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


def _article() -> dict[str, Any]:
    return {"article": {"title": f"Fault article {next(_titles)}", "description": "d", "body": "b"}}


def _assert_unavailable(response: httpx.Response) -> None:
    """503 with the spec's error body and a Retry-After, never a 500 or a hang."""
    assert response.status_code == 503, response.text
    assert "database" in response.json()["errors"], response.text
    assert response.headers["retry-after"].isdigit()


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(fault_settings(database_url)), raise_server_exceptions=False) as test_client:
        yield test_client


def test_database_down_gives_503_then_recovers_without_restart(
    db: DatabaseServer, client: TestClient[Litestar], figures: dict[str, Any]
) -> None:
    headers = _signup(client, "downtime")
    assert client.post("/api/articles", json=_article(), headers=headers).status_code == 201

    db.stop("fast")
    started = time.monotonic()
    read = client.get("/api/articles")
    figures["db_down_time_to_503_seconds"] = round(time.monotonic() - started, 3)
    _assert_unavailable(read)
    _assert_unavailable(client.post("/api/articles", json=_article(), headers=headers))
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["database"] == "down"
    assert client.get("/health/live").status_code == 200
    # Bounded by the connect timeout (3 s, printed in the figures), not by a TCP or pool wait of minutes.
    assert figures["db_down_time_to_503_seconds"] < UNBOUNDED_SECONDS

    db.start()
    back = time.monotonic()
    failures = 0
    while (response := client.get("/api/articles")).status_code != 200:
        failures += 1
        assert time.monotonic() - back < UNBOUNDED_SECONDS, f"no recovery: {response.status_code} {response.text}"
        time.sleep(0.05)
    figures["db_back_time_to_first_200_seconds"] = round(time.monotonic() - back, 3)
    figures["db_back_failed_requests_before_recovery"] = failures
    assert client.get("/health/ready").status_code == 200
    assert client.post("/api/articles", json=_article(), headers=headers).status_code == 201
    assert response.json()["articlesCount"] == 1


def test_database_restart_between_requests_fails_no_request(
    db: DatabaseServer, client: TestClient[Litestar], figures: dict[str, Any]
) -> None:
    """The pool's connections die with the server while no request uses them: the pre-ping on
    checkout finds each one closed and replaces it, so the first request after the restart succeeds."""
    assert client.get("/api/articles").status_code == 200  # the pool now holds an open connection
    db.stop("fast")
    db.start()
    statuses = [client.get("/api/articles").status_code for _ in range(5)]
    figures["idle_restart_failed_requests"] = sum(1 for status in statuses if status != 200)
    assert statuses == [200] * 5


def test_database_restart_during_write_load_loses_no_acknowledged_write(
    db: DatabaseServer, database_url: str, figures: dict[str, Any]
) -> None:
    app = create_app(fault_settings(database_url))
    outcomes, restart_seconds = asyncio.run(_write_load_with_restart(app, db))

    acknowledged = {slug for _, status, slug in outcomes if status == 201}
    statuses = sorted({status for _, status, _ in outcomes})
    figures["write_load_requests"] = len(outcomes)
    figures["write_load_acknowledged"] = len(acknowledged)
    figures["write_load_refused_503"] = sum(1 for _, status, _ in outcomes if status == 503)
    figures["write_load_crash_to_accepting_again_seconds"] = round(restart_seconds, 3)
    assert set(statuses) <= {201, 503}, f"writes must succeed or fail visibly with 503, got {statuses}"
    # Each article and its two tag links are one transaction: all of it is there, or none of it.
    tag_links = (
        "SELECT CONCAT(a.slug, ':', COUNT(t.tag_id)) FROM articles a"
        " LEFT JOIN article_tags t ON t.article_id = a.id GROUP BY a.slug"
    )
    stored_tags = dict(row.split(":") for row in db.query(tag_links, database_name(database_url)).split())
    assert acknowledged - stored_tags.keys() == set(), "acknowledged writes missing after the restart"
    assert set(stored_tags.values()) == {"2"}, f"half-written articles: {stored_tags}"
    # The load really straddled the restart: writes succeeded on both sides of it.
    assert {phase for phase, status, _ in outcomes if status == 201} >= {"before", "after"}


async def _write_load_with_restart(app: Litestar, db: DatabaseServer) -> tuple[list[tuple[str, int, str]], float]:
    """Six writers post articles (each with two tags) for ~3 s while the server crashes and restarts:
    (phase, status, slug) of every request, and the seconds from the crash until the server accepted
    connections again."""
    outcomes: list[tuple[str, int, str]] = []
    phase = "before"
    stop = asyncio.Event()
    async with asgi_client(app) as client:
        user = {"user": {"username": "writer", "email": "writer@example.com", "password": "password123"}}
        signup = await client.post("/api/users", json=user)
        assert signup.status_code == 201, signup.text
        headers = {"Authorization": f"Token {signup.json()['user']['token']}"}

        async def writer() -> None:
            while not stop.is_set():
                sent_in = phase
                article = _article()
                article["article"]["tagList"] = ["faults", f"writer-{len(outcomes) % 5}"]
                response = await client.post("/api/articles", json=article, headers=headers)
                slug = response.json()["article"]["slug"] if response.status_code == 201 else ""
                outcomes.append((sent_in, response.status_code, slug))

        writers = [asyncio.create_task(writer()) for _ in range(6)]
        await asyncio.sleep(1.0)
        phase = "during"
        crashed = time.monotonic()
        await asyncio.to_thread(db.stop, "immediate")  # a crash: the server replays its log at start
        await asyncio.sleep(0.3)
        await asyncio.to_thread(db.start)
        restart_seconds = time.monotonic() - crashed
        phase = "after"
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*writers)
    await app.state.database.engine.dispose()
    return outcomes, restart_seconds
