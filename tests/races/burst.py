"""Release many HTTP requests at one instant, each on a connection opened beforehand.

A race needs requests that are truly in flight together: a thread pool staggers them by thread
start-up, and a shared client may queue them behind a small connection pool. Here every request
gets its own client whose connection is already open (a warm-up request), then all of them wait
on one event and go together.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


async def _burst(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    clients = [httpx.AsyncClient(base_url=base_url, timeout=60) for _ in calls]
    try:
        await asyncio.gather(*(client.get("/health/live") for client in clients))  # open every connection
        start = asyncio.Event()

        async def send(client: httpx.AsyncClient, call: Call) -> httpx.Response:
            await start.wait()
            return await client.request(call.method, call.path, json=call.json, headers=call.headers)

        tasks = [asyncio.create_task(send(client, call)) for client, call in zip(clients, calls, strict=True)]
        await asyncio.sleep(0)  # let every task reach the barrier
        start.set()
        return await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def burst(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    """The responses to `calls`, in order, all sent at the same moment."""
    responses = asyncio.run(_burst(base_url, calls))
    server_errors = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not server_errors, f"server errors in a burst: {server_errors}"
    return responses


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def error_messages(responses: list[httpx.Response], status: int) -> set[tuple[str, str]]:
    """(field, message) pairs of the error bodies of the responses with `status`."""
    pairs: set[tuple[str, str]] = set()
    for response in responses:
        if response.status_code == status:
            for name, messages in response.json()["errors"].items():
                pairs.update((name, message) for message in messages)
    return pairs
