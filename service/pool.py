"""A connection pool that hands a returned connection to the request that has waited longest.

SQLAlchemy's async pool queues waiting checkouts in an asyncio.Queue, which lets a newcomer take a
connection that was just returned ahead of the requests already waiting (the woken waiter finds
the queue empty and goes back to the end of the line; sqlalchemy#7679 describes the same for the
threaded pool). Under a steady overload most requests pass in milliseconds while a few wait out
the whole pool timeout and fail with a 503: 22 of ~5,000 single-article requests did in `make
bench` (64 connections, a pool of 10 + 10). Here a returned connection goes straight to the
oldest waiter, and nobody takes one from the pool while others wait for it.
"""

from __future__ import annotations

import asyncio
from collections import deque

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_only
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class FirstComeQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's queue of idle connections, served first come, first served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up (timeout, cancelled request) is passed over
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never puts more than it holds: putting never waits

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()  # gave up since the last put
        if not self._waiters:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()  # the pool then opens an overflow connection, if it may
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_only(self._handed_over(waiter, timeout))
        except TimeoutError as error:
            raise Empty() from error  # the pool reports its own TimeoutError (a 503, errors.py)

    async def _handed_over(
        self, waiter: asyncio.Future[ConnectionPoolEntry], seconds: float | None
    ) -> ConnectionPoolEntry:
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException:
            # Given up (timeout, or the request was cancelled) just as a connection was handed over:
            # pass it on, or the pool would lose it.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise


class FirstComePool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool with FirstComeQueue: the same sizes, overflow, timeout and pre-ping."""

    _queue_class = FirstComeQueue
