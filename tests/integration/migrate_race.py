"""`python -m service.cli migrate` with its race made certain; test_concurrent_migrations.py starts several.

    python -m tests.integration.migrate_race --barrier DIR --processes 3 [--without-lock]

A migration's first CREATE TABLE waits until each of the run's other `migrate` processes has either
reached that same point (a file in DIR) or is waiting for a lock in the database (pg_locks, MariaDB's
process list). So no process can finish before every other one has decided what to do: without the
migration lock they all decide to create the tables (or wait behind one that does) and all but one
fail; with it, one process is inside the migration and the others wait for the lock, then find the
database at head. `--without-lock` replaces service.dialects.migration_lock with nothing, to show
that the race is real. Nothing here measures time: the wait polls the database until the condition
holds (and gives up only after GIVE_UP_SECONDS, naming the barrier, so a bug cannot hang the suite).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from sqlalchemy.engine import Connection

from service import dialects
from service.cli import main

# Sessions of this database that wait for a lock: the migration lock, or (without it) a lock held by
# the transaction of a process that is creating the same table. pg_stat_activity is read once per
# transaction unless its snapshot is cleared, and this runs inside the migration's transaction.
WAITING_SESSIONS = {
    "postgresql": (
        "SELECT pg_stat_clear_snapshot()",
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()",
    ),
    "mysql": (
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
        "WHERE DB = DATABASE() AND STATE IN ('User lock', 'Waiting for table metadata lock')",
    ),
}
GIVE_UP_SECONDS = 120
GAVE_UP = "migrate_race: the barrier never opened"


def waiting_sessions(connection: Connection) -> int:
    *prepare, count = WAITING_SESSIONS[connection.dialect.name]
    for statement in prepare:
        connection.exec_driver_sql(statement)
    return int(connection.exec_driver_sql(count).scalar() or 0)


def wait_for_the_others(connection: Connection, barrier: Path, processes: int) -> None:
    (barrier / str(os.getpid())).touch()
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while len(list(barrier.iterdir())) + waiting_sessions(connection) < processes:
        if time.monotonic() > deadline:
            raise SystemExit(GAVE_UP)
        time.sleep(0.05)


def hold_first_create_table(barrier: Path, processes: int) -> None:
    original: Callable[..., Any] = Operations.create_table
    held = False

    def create_table(self: Operations, *args: Any, **kwargs: Any) -> Any:
        nonlocal held
        if not held:
            held = True
            wait_for_the_others(self.get_bind(), barrier, processes)
        return original(self, *args, **kwargs)

    Operations.create_table = create_table  # type: ignore[method-assign]


@contextlib.contextmanager
def no_lock(connection: Connection, attempt_seconds: float) -> Iterator[None]:
    yield


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--barrier", type=Path, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--without-lock", action="store_true")
    args = parser.parse_args()
    hold_first_create_table(args.barrier, args.processes)
    if args.without_lock:
        dialects.migration_lock = no_lock  # migrations/env.py imports it when Alembic runs it, after this
    main(["migrate"])
