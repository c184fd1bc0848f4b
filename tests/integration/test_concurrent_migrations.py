"""Several `migrate` at once on one fresh database (pods starting together, a Job and its retry):
one applies the migrations, the others wait for the migration lock and then find nothing to do.

The race is made certain, not left to timing: migrate_race.py holds the first CREATE TABLE until
every other process has decided or waits for a lock. The same start without the lock fails, which
shows the first test would catch a missing lock.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.cli import ROOT, alembic_config
from service.db import Base
from tests.conftest import server_database
from tests.integration.migrate_race import GAVE_UP

PROCESSES = 3
SERVERS = ("postgresql", "mariadb")


def migrate_at_once(url: str, barrier: Path, without_lock: bool = False) -> list[subprocess.CompletedProcess[str]]:
    barrier.mkdir()
    # A short statement timeout makes each wait for the lock short (half of it), so the waits are
    # retried while the first process holds the lock: a long migration is waited out, not a failure.
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test", "DB_STATEMENT_TIMEOUT_MS": "2000"}
    command_line = [sys.executable, "-m", "tests.integration.migrate_race", "--barrier", str(barrier)]
    command_line += ["--processes", str(PROCESSES), *(["--without-lock"] if without_lock else [])]
    started = [
        subprocess.Popen(command_line, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    finished = []
    for process in started:
        stdout, stderr = process.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return finished


def versions_and_tables(url: str) -> tuple[list[str], set[str]]:
    async def read() -> tuple[list[str], set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                versions = list((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
                tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
                return versions, tables - {"alembic_version"}
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.mark.parametrize("backend", SERVERS)
def test_concurrent_migrations_all_succeed_and_one_applies(backend: str, tmp_path: Path) -> None:
    with server_database(backend, "conduit_migrate_race", migrated=False) as url:
        runs = migrate_at_once(url, tmp_path / "barrier")
        assert [run.returncode for run in runs] == [0] * PROCESSES, "\n".join(run.stderr for run in runs)
        applied = [run for run in runs if "Running upgrade  -> 0001" in run.stderr]
        assert len(applied) == 1, "exactly one process applies the migrations"
        assert all("Running upgrade" not in run.stderr for run in runs if run not in applied)
        (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
        versions, tables = versions_and_tables(url)
        assert versions == [head]
        assert tables == set(Base.metadata.tables)
        command.check(alembic_config(url))


@pytest.mark.parametrize("backend", SERVERS)
def test_without_the_lock_the_same_start_fails(backend: str, tmp_path: Path) -> None:
    with server_database(backend, "conduit_migrate_race", migrated=False) as url:
        runs = migrate_at_once(url, tmp_path / "barrier", without_lock=True)
    assert all(GAVE_UP not in run.stderr for run in runs), "the barrier must open: the race ran"
    failed = [run for run in runs if run.returncode != 0]
    assert failed, "three unguarded migrations at once must collide"
    assert all("already exists" in run.stderr or "duplicate key" in run.stderr for run in failed)
