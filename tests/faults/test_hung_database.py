"""A database that accepts TCP connections but answers nothing (frozen host, network partition):
the connect and statement timeouts still bound every answer."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from litestar.testing import TestClient

from service.app import create_app
from tests.faults.conftest import DatabaseServer, fault_settings


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
            started = time.monotonic()
            response = client.get("/api/tags")
            figures["frozen_db_time_to_503_seconds"] = round(time.monotonic() - started, 3)
            assert response.status_code == 503, response.text
            assert "database" in response.json()["errors"]
            started = time.monotonic()
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert time.monotonic() - started < 3.5  # the readiness probe's own 2 s limit
            assert client.get("/health/live").status_code == 200
            # Bounded by the driver's command timeout (statement timeout + 1 s) and the connect timeout.
            assert figures["frozen_db_time_to_503_seconds"] < 6
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while (response := client.get("/api/tags")).status_code != 200:
            assert time.monotonic() < deadline, response.text
            time.sleep(0.05)
