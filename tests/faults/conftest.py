"""Fixtures for the fault tests: a throwaway PostgreSQL cluster and a throwaway MariaDB server, a
migrated database on either, the figures.

Self-contained on purpose (nothing from tests/conftest.py): these tests own their servers and
stop them, so they must never touch the shared ones. A test that takes `db` runs once per engine
(`[postgresql]`, `[mariadb]`); each server is started the first time a test needs it. Without an
engine's server binaries its tests skip, unless REQUIRE_SERVICES=1 (set by .ci/run), where the skip
becomes a failure.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
import pytest
from litestar import Litestar

from service.cli import migrate
from service.settings import Settings
from tests.faults.mariadbserver import MariaDBServer, find_mariadb_bin
from tests.faults.pgcluster import PostgresCluster, find_postgres_bin

REPORT = Path(__file__).resolve().parents[2] / "reports" / "faults.json"
ENGINES = ("postgresql", "mariadb")
NO_DATABASE = "app"  # the figures of tests that take no `db` (the HTTP server's own)
# The longest a bounded wait may take here. The tests check *which* mechanism answered (the body,
# the status, the database still frozen or locked), and print how long it took (`make
# test-faults`); the time itself is only checked against what no timeout at all would give (the
# drivers wait 60 s or forever), so a busy machine cannot fail them.
UNBOUNDED_SECONDS = 30.0
_figures: dict[str, dict[str, float | int | str]] = {}


class DatabaseServer(Protocol):
    """What a fault test may do to a database server it owns: PostgresCluster or MariaDBServer."""

    name: str  # "postgresql" or "mariadb"

    def url(self, database: str) -> str: ...
    def start(self) -> None: ...
    def stop(self, mode: str = "fast") -> None: ...  # fast: clean shutdown; immediate: a crash
    def is_running(self) -> bool: ...
    def pids(self) -> list[int]: ...  # every process to SIGSTOP to freeze the server
    def query(self, sql: str, database: str) -> str: ...  # one statement; its rows as text
    def create_database(self, name: str) -> None: ...
    def drop_database(self, name: str) -> None: ...
    def lock_table(self, table: str, database: str) -> AbstractContextManager[None]: ...
    def lock_rows(self, table: str, where: str, database: str) -> AbstractContextManager[None]: ...
    def lock_waiters(self, database: str) -> int: ...


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


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    binaries = find_mariadb_bin()
    if binaries is None:
        _skip_or_fail(
            "MariaDB server binaries (mariadbd, mariadb-install-db, mariadb) not found; "
            "install mariadb-server or set MARIADB_BIN"
        )
    assert binaries is not None
    server = MariaDBServer(binaries)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(params=ENGINES)
def db(request: pytest.FixtureRequest) -> DatabaseServer:
    """The engine's server, running (a failed test may have left it stopped)."""
    server: DatabaseServer = request.getfixturevalue("cluster" if request.param == "postgresql" else "mariadb_server")
    if not server.is_running():
        server.start()
    return server


@pytest.fixture
def database_url(db: DatabaseServer) -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:10]}"
    db.create_database(name)
    url = db.url(name)
    migrate(url)
    yield url
    if not db.is_running():
        db.start()
    db.drop_database(name)


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


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


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, float | int | str]:
    """Measured figures (seconds, counts) of the test's engine; printed at the end of the run, one
    column per engine, and kept in reports/faults.json."""
    callspec = getattr(request.node, "callspec", None)
    engine = str(callspec.params.get("db", NO_DATABASE)) if callspec is not None else NO_DATABASE
    return _figures.setdefault(engine, {})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures:
        return
    terminalreporter.section("fault-test figures")
    engines = [engine for engine in ENGINES if engine in _figures]
    names = list(dict.fromkeys(name for engine in engines for name in _figures[engine]))
    if names:
        width = max(len(name) for name in names) + 2
        terminalreporter.write_line("".ljust(width) + "".join(engine.ljust(12) for engine in engines))
        for name in names:
            values = "".join(str(_figures[engine].get(name, "-")).ljust(12) for engine in engines)
            terminalreporter.write_line(name.ljust(width) + values)
    for name, value in _figures.get(NO_DATABASE, {}).items():
        terminalreporter.write_line(f"{name}: {value}")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(_figures, indent=2) + "\n")
