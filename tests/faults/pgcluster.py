"""A throwaway PostgreSQL cluster on a free loopback port, driven with initdb / pg_ctl / psql.

The fault tests stop, kill and restart it at will, which they could never do to a shared server.
As root the binaries run as the `postgres` OS user (the server refuses to run as root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from deploy.processes import free_port


def find_postgres_bin() -> Path | None:
    """PG_BIN, else the newest /usr/lib/postgresql/*/bin, else the directory of pg_ctl on PATH."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    which = shutil.which("pg_ctl")
    candidates += [str(Path(which).parent)] if which else []
    for candidate in filter(None, candidates):
        if all((Path(candidate) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return Path(candidate)
    return None


class PostgresCluster:
    """One data directory, one port; `url(db)` names a database on it for SQLAlchemy."""

    name = "postgresql"

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="conduit-faults-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs a `postgres` OS user to own the cluster") from None
            shutil.chown(self.root, "postgres", "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_owner, str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            cwd=self.root,
        )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        # fsync=off: the tests crash the server process, never the kernel, so WAL in the page cache
        # survives; synchronous_commit stays on, so an acknowledged commit is in that WAL.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """fast: clients are disconnected, a clean shutdown; immediate: like a crash (WAL replay at start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(
            [*self._as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
            cwd=self.root,
        )
        return result.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), *self._connection_args(database), "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout.strip()

    def query(self, sql: str, database: str = "postgres") -> str:
        return self.psql(sql, database)

    def create_database(self, name: str) -> None:
        self.psql(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False)
        return [postmaster, *(int(pid) for pid in children.stdout.split())]

    def lock_waiters(self, database: str) -> int:
        """Backends of `database` waiting for a lock."""
        query = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND wait_event_type = 'Lock'"
        return int(self.psql(query))

    def _connection_args(self, database: str) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-X", "-q"]

    def lock_table(self, table: str, database: str) -> contextlib.AbstractContextManager[None]:
        """Hold an ACCESS EXCLUSIVE lock on `table` (in an open transaction) until the block ends."""
        return self._holding(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT 'locked'", database)

    def lock_rows(self, table: str, where: str, database: str) -> contextlib.AbstractContextManager[None]:
        """Hold the row lock of the one row of `table` matching `where` until the block ends."""
        return self._holding(f"SELECT 'locked' FROM {table} WHERE {where} FOR UPDATE", database)

    @contextlib.contextmanager
    def _holding(self, locking_sql: str, database: str) -> Iterator[None]:
        """Run `locking_sql` (which prints "locked") in a transaction left open until the block ends."""
        session = subprocess.Popen(
            [str(self.bindir / "psql"), *self._connection_args(database), "-v", "ON_ERROR_STOP=1", "-At"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert session.stdin is not None and session.stdout is not None
        try:
            session.stdin.write(f"BEGIN; {locking_sql};\n")
            session.stdin.flush()
            assert session.stdout.readline().strip() == "locked", "psql could not take the lock"
            yield
        finally:
            session.communicate("COMMIT;\n", timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
