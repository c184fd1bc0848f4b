"""A database that accepts TCP connections but answers nothing (frozen host, network partition):
the connect and statement timeouts still bound every answer."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.dialects import create_engine
from tests.faults.conftest import UNBOUNDED_SECONDS, DatabaseServer, fault_settings

UNAVAILABLE = {"errors": {"database": ["is unavailable, try again shortly"]}}


def wait_until_stopped(pids: list[int]) -> None:
    """Until every process is in state T (stopped), as /proc reports it."""
    deadline = time.monotonic() + UNBOUNDED_SECONDS
    for pid in pids:
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert time.monotonic() < deadline, f"process {pid} did not stop"
            time.sleep(0.01)


def test_frozen_database_gives_503_within_the_timeouts(
    db: DatabaseServer, database_url: str, figures: dict[str, Any]
) -> None:
    settings = fault_settings(database_url, db_connect_timeout_seconds=1.0, db_statement_timeout_ms=1000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/api/tags").status_code == 200  # a pooled connection now exists
        pids = db.pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            wait_until_stopped(pids)  # on a busy machine the signal can land after the next request
            started = time.monotonic()
            response = client.get("/api/tags")
            figures["frozen_db_time_to_503_seconds"] = round(time.monotonic() - started, 3)
            # The pooled connection's ping times out, and so does the new connection that replaces it.
            assert response.status_code == 503, response.text
            assert response.json() == UNAVAILABLE
            # Answered while the database is still frozen: the driver's command timeout (statement
            # timeout + 1 s) and the connect timeout bounded it (about 3 s, printed in the figures).
            assert figures["frozen_db_time_to_503_seconds"] < UNBOUNDED_SECONDS
            started = time.monotonic()
            response = client.get("/api/tags")  # nothing pooled now: only a new connection is tried
            figures["frozen_db_new_connection_503_seconds"] = round(time.monotonic() - started, 3)
            assert response.json() == UNAVAILABLE
            # The 1 s connect timeout (about 1 s in the figures); without it, asyncpg waits 60 s.
            assert 0.9 < figures["frozen_db_new_connection_503_seconds"] < UNBOUNDED_SECONDS
            started = time.monotonic()
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert time.monotonic() - started < UNBOUNDED_SECONDS  # the probe's own 2 s limit, or the connect timeout
            assert client.get("/health/live").status_code == 200
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + UNBOUNDED_SECONDS
        while (response := client.get("/api/tags")).status_code != 200:
            assert time.monotonic() < deadline, response.text
            time.sleep(0.05)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never sends a byte (a frozen server, a proxy whose
    database is gone): the connection opens, the database's greeting never comes."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        done.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql+asyncpg://conduit@127.0.0.1:{port}/x", id="postgresql"),
        pytest.param("mysql+asyncmy://conduit@127.0.0.1:{port}/x", id="mariadb"),
    ],
)
def test_the_connect_timeout_bounds_the_whole_handshake(silent_port: int, url: str) -> None:
    """DB_CONNECT_TIMEOUT_SECONDS covers opening the connection up to the greeting and login, not
    only the TCP connect (which a frozen server's kernel still completes), on every engine."""
    settings = fault_settings(url.format(port=silent_port), db_connect_timeout_seconds=0.5)
    settings = settings.with_changes(db_statement_timeout_ms=10_000)  # a read timeout of 11 s

    async def connect() -> float:
        engine = create_engine(settings)
        started = time.monotonic()
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(5), engine.connect():
                    pass
            return time.monotonic() - started
        finally:
            await engine.dispose()

    assert asyncio.run(connect()) < 1.5
