"""The pool serves waiting requests in arrival order (service/pool.py).

SQLAlchemy's own async pool lets a task that asks for a connection take one just returned, ahead of
a task already waiting; under a steady overload a few requests then wait out the whole pool
timeout (503s in `make bench`). These tests run on pools of one connection, where the order is
exact.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool

from service.dialects import create_engine
from service.pool import FirstComePool
from service.settings import Settings


def one_connection(tmp_path: Path, poolclass: type[Pool], timeout: float = 5.0) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    return create_async_engine(url, poolclass=poolclass, pool_size=1, max_overflow=0, pool_timeout=timeout)


async def who_gets_it_first(engine: AsyncEngine) -> list[str]:
    """A task waits for the only connection; its holder returns it and at once asks for one again."""
    order: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            order.append(name)
            await asyncio.sleep(0.01)

    holder = await engine.connect()
    waiting = asyncio.create_task(use("waiting task"))
    await asyncio.sleep(0.2)  # it has asked and is queued in the pool
    await holder.close()
    await use("newcomer")
    await waiting
    await engine.dispose()
    return order


def test_a_returned_connection_goes_to_the_task_that_waited(tmp_path: Path) -> None:
    assert asyncio.run(who_gets_it_first(one_connection(tmp_path, FirstComePool))) == ["waiting task", "newcomer"]


def test_sqlalchemys_own_pool_lets_the_newcomer_go_first(tmp_path: Path) -> None:
    """Why FirstComePool exists: the same scenario on SQLAlchemy's pool serves the newcomer first."""
    order = asyncio.run(who_gets_it_first(one_connection(tmp_path, AsyncAdaptedQueuePool)))
    assert order == ["newcomer", "waiting task"]


def test_waiting_past_the_pool_timeout_fails_and_loses_no_connection(tmp_path: Path) -> None:
    async def scenario() -> int:
        engine = one_connection(tmp_path, FirstComePool, timeout=0.2)
        holder = await engine.connect()
        with pytest.raises(PoolTimeoutError):
            await engine.connect()
        await holder.close()
        # The one connection is still the pool's: the next request gets it at once.
        async with engine.connect() as connection:
            answer = await connection.scalar(text("SELECT 1"))
        await engine.dispose()
        return int(answer)

    assert asyncio.run(scenario()) == 1


def test_a_cancelled_waiter_hands_the_connection_on(tmp_path: Path) -> None:
    """A request cancelled while it waits (the client went away) neither gets nor keeps a connection."""

    async def scenario() -> list[str]:
        engine = one_connection(tmp_path, FirstComePool)
        order: list[str] = []

        async def use(name: str) -> None:
            async with engine.connect():
                order.append(name)

        holder = await engine.connect()
        gone, waiting = asyncio.create_task(use("gone")), asyncio.create_task(use("waiting"))
        await asyncio.sleep(0.1)
        gone.cancel()
        await holder.close()
        await asyncio.wait_for(waiting, 30)  # a guard against a hang, not a time budget
        await engine.dispose()
        return order

    assert asyncio.run(scenario()) == ["waiting"]


def test_server_engines_use_the_first_come_pool() -> None:
    for url in ("postgresql+asyncpg://u@127.0.0.1/db", "mysql+asyncmy://u@127.0.0.1/db"):
        engine = create_engine(Settings(database_url=url))
        assert isinstance(engine.pool, FirstComePool), url
