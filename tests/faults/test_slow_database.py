"""A slow database (a lock held by someone else) meets the statement and pool timeouts, not a stuck worker.

The locks: PostgreSQL's LOCK TABLE ... ACCESS EXCLUSIVE, MariaDB's LOCK TABLES ... WRITE (a metadata
lock wait there), and a row lock (SELECT ... FOR UPDATE) on both. The statement timeout is
PostgreSQL's statement_timeout and MariaDB's max_statement_time, which interrupts a metadata or a
row lock wait alike (error 1969, long before InnoDB's own 50 s lock wait timeout, 1205).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from service.app import create_app
from service.ops.metrics import PREFIX
from tests.faults.conftest import UNBOUNDED_SECONDS, DatabaseServer, asgi_client, database_name, fault_settings

TIMED_OUT = {"errors": {"database": ["did not answer in time, try again shortly"]}}


async def _signup(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    user = {"user": {"username": name, "email": f"{name}@example.com", "password": "password123"}}
    response = await client.post("/api/users", json=user)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


def _pool_in_use(metrics_text: str) -> float:
    name = f"{PREFIX}_db_pool_connections_in_use "
    line = next(line for line in metrics_text.splitlines() if line.startswith(name))
    return float(line.split()[1])


def test_statement_timeout_turns_a_held_lock_into_a_clear_error(
    db: DatabaseServer, database_url: str, figures: dict[str, Any]
) -> None:
    app = create_app(fault_settings(database_url, db_statement_timeout_ms=1000))

    async def scenario() -> None:
        async with asgi_client(app) as client:
            await _signup(client, "patient")
            with db.lock_table("articles", database_name(database_url)):
                started = time.monotonic()
                slow = asyncio.create_task(client.get("/api/articles"))
                # Meanwhile the worker serves requests that do not need the locked table.
                profile = await client.get("/api/profiles/patient")
                assert profile.status_code == 200
                assert not slow.done(), "the locked read should still be waiting"
                response = await slow
                figures["statement_timeout_answer_seconds"] = round(time.monotonic() - started, 3)
            assert response.status_code == 503, response.text
            assert response.json() == TIMED_OUT
            assert response.headers["retry-after"] == "5"
            # Not before the 1 s timeout, and while the lock was still held (the answer was awaited
            # inside the block): the timeout, nothing else, ended the wait.
            assert 0.9 < figures["statement_timeout_answer_seconds"] < UNBOUNDED_SECONDS
            # The lock is gone: the same request succeeds and no connection leaked.
            assert (await client.get("/api/articles")).status_code == 200
            assert _pool_in_use((await client.get("/metrics")).text) == 0
        await app.state.database.engine.dispose()

    asyncio.run(scenario())


def test_statement_timeout_bounds_a_write_waiting_for_a_row_lock(
    db: DatabaseServer, database_url: str, figures: dict[str, Any]
) -> None:
    app = create_app(fault_settings(database_url, db_statement_timeout_ms=1000))

    async def scenario() -> None:
        async with asgi_client(app) as client:
            headers = await _signup(client, "editor")
            article = {"article": {"title": "Row locked", "description": "d", "body": "before"}}
            created = await client.post("/api/articles", json=article, headers=headers)
            assert created.status_code == 201, created.text
            slug = created.json()["article"]["slug"]
            change = {"article": {"body": "after"}}
            with db.lock_rows("articles", f"slug = '{slug}'", database_name(database_url)):
                started = time.monotonic()
                response = await client.put(f"/api/articles/{slug}", json=change, headers=headers)
                figures["row_lock_write_answer_seconds"] = round(time.monotonic() - started, 3)
            assert response.status_code == 503, response.text
            assert response.json() == TIMED_OUT
            assert response.headers["retry-after"] == "5"
            assert 0.9 < figures["row_lock_write_answer_seconds"] < UNBOUNDED_SECONDS  # inside the lock block
            # The timed-out write changed nothing; once the lock is gone the same write succeeds.
            assert (await client.get(f"/api/articles/{slug}")).json()["article"]["body"] == "before"
            retried = await client.put(f"/api/articles/{slug}", json=change, headers=headers)
            assert retried.status_code == 200, retried.text
            assert (await client.get(f"/api/articles/{slug}")).json()["article"]["body"] == "after"
            assert _pool_in_use((await client.get("/metrics")).text) == 0
        await app.state.database.engine.dispose()

    asyncio.run(scenario())


def test_pool_exhausted_by_slow_requests_answers_503_after_the_pool_timeout(
    db: DatabaseServer, database_url: str, figures: dict[str, Any]
) -> None:
    app = create_app(
        fault_settings(
            database_url,
            db_pool_size=2,
            db_max_overflow=0,
            db_pool_timeout_seconds=0.5,
            db_statement_timeout_ms=3000,
        )
    )

    async def scenario() -> None:
        async with asgi_client(app) as client:
            with db.lock_table("articles", database_name(database_url)):
                waiting = [asyncio.create_task(client.get("/api/articles")) for _ in range(2)]
                await asyncio.sleep(0.3)  # both pool connections now wait on the lock
                started = time.monotonic()
                third = await client.get("/api/articles")
                figures["pool_exhausted_answer_seconds"] = round(time.monotonic() - started, 3)
                assert third.status_code == 503, third.text
                assert third.json() == {"errors": {"database": ["is unavailable, try again shortly"]}}
                # The pool timeout answered, not the lock: the statement timeout would say "did not
                # answer in time" (the body above), and the two waiting reads still hold the pool.
                metrics = (await client.get("/metrics")).text
                assert _pool_in_use(metrics) == 2
            # Released before the statement timeout: the two waiting reads complete normally.
            assert [response.status_code for response in await asyncio.gather(*waiting)] == [200, 200]
        await app.state.database.engine.dispose()

    asyncio.run(scenario())
