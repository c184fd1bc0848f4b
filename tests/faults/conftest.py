"""Fixtures for the fault tests: a throwaway PostgreSQL cluster, a migrated database on it, the figures.

Self-contained on purpose (nothing from tests/conftest.py): these tests own their server and
stop it, so they must never touch the shared one. Without the PostgreSQL binaries they skip,
unless REQUIRE_SERVICES=1 (set by .ci/run), where the skip becomes a failure.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from service.cli import migrate
from service.settings import Settings
from tests.faults.pgcluster import PostgresCluster, find_postgres_bin

REPORT = Path(__file__).resolve().parents[2] / "reports" / "faults.json"
_figures: dict[str, float | int | str] = {}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    bindir = find_postgres_bin()
    if bindir is None:
        _skip_or_fail("PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found; set PG_BIN")
    assert bindir is not None
    try:
        server = PostgresCluster(bindir)
    except RuntimeError as exc:
        _skip_or_fail(str(exc))
        raise
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg(cluster: PostgresCluster) -> PostgresCluster:
    """The cluster, running (a failed test may have left it stopped)."""
    if not cluster.is_running():
        cluster.start()
    return cluster


@pytest.fixture
def database_url(pg: PostgresCluster) -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:10]}"
    pg.psql(f'CREATE DATABASE "{name}"')
    url = pg.url(name)
    migrate(url)
    yield url
    if not pg.is_running():
        pg.start()
    pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fault_settings(database_url: str, **changes: Any) -> Settings:
    """The defaults that matter here (pool, timeouts) stay the production ones unless a test says."""
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="fault-test-secret-key-that-is-long-enough-0123",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        log_level="ERROR",
    ).with_changes(**changes)


def asgi_client(app: Litestar) -> httpx.AsyncClient:
    """An async client calling the app in-process, for tests that need concurrent requests."""
    transport = httpx.ASGITransport(app=cast(Any, app))
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30)


@pytest.fixture(scope="session")
def figures() -> dict[str, float | int | str]:
    """Measured figures (seconds, counts); printed at the end of the run and kept in reports/faults.json."""
    return _figures


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures:
        return
    terminalreporter.section("fault-test figures")
    for name, value in _figures.items():
        terminalreporter.write_line(f"{name}: {value}")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(_figures, indent=2) + "\n")
