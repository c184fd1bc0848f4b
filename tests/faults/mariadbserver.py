"""A throwaway MariaDB server on a free loopback port, driven with mariadb-install-db / mariadbd / mariadb.

The MariaDB twin of pgcluster.py, with the same interface, so a fault test can stop, crash, freeze
and restart either. The server is one process (`mariadbd`, threads inside), started here as a child:
"fast" stop is SIGTERM (a clean shutdown), "immediate" is SIGKILL (a crash: InnoDB replays its redo
log at the next start). As root it runs with `--user=root` (mariadbd refuses root otherwise); the
data directory is a temporary one this process owns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy.processes import free_port


@dataclass(frozen=True)
class MariaDBBinaries:
    server: Path  # mariadbd
    install_db: Path  # mariadb-install-db
    client: Path  # mariadb


def find_mariadb_bin() -> MariaDBBinaries | None:
    """MARIADB_BIN (a directory holding all three), else PATH, else /usr/sbin and /usr/bin (Debian's
    mariadb-server puts mariadbd in /usr/sbin, which is not on every user's PATH)."""
    names = {
        "server": ("mariadbd", "mysqld"),
        "install_db": ("mariadb-install-db", "mysql_install_db"),
        "client": ("mariadb", "mysql"),
    }
    directories = [os.environ.get("MARIADB_BIN", "")]
    found: dict[str, Path] = {}
    for role, candidates in names.items():
        for name in candidates:
            path = _find(name, directories)
            if path is not None:
                found[role] = path
                break
        else:
            return None
    return MariaDBBinaries(**found)


def _find(name: str, directories: list[str]) -> Path | None:
    for directory in filter(None, directories):
        if (Path(directory) / name).is_file():
            return Path(directory) / name
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    for directory in ("/usr/sbin", "/usr/bin", "/usr/local/mysql/bin"):
        if (Path(directory) / name).is_file():
            return Path(directory) / name
    return None


class MariaDBServer:
    """One data directory, one port; `url(db)` names a database on it for SQLAlchemy."""

    name = "mariadb"

    def __init__(self, binaries: MariaDBBinaries) -> None:
        self.binaries = binaries
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="conduit-faults-mariadb-"))
        self.data = self.root / "data"
        self.socket = self.root / "mariadbd.sock"
        self.logfile = self.root / "mariadbd.log"
        self.process: subprocess.Popen[bytes] | None = None
        # mariadbd refuses to run as root unless told so explicitly.
        self._user = ["--user=root"] if os.geteuid() == 0 else []
        # Small and quick: a 16 MiB buffer pool and 8 MiB redo log start in well under a second.
        # innodb_flush_log_at_trx_commit=2 writes the redo log to the OS at every commit and syncs
        # it once a second: the tests crash the server process, never the kernel, so an
        # acknowledged commit survives (the counterpart of the PostgreSQL cluster's fsync=off).
        self._innodb = ["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M"]

    def url(self, database: str) -> str:
        return f"mysql+asyncmy://root@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        subprocess.run(
            [
                str(self.binaries.install_db),
                "--no-defaults",
                f"--datadir={self.data}",
                "--auth-root-authentication-method=normal",  # root@localhost without a password
                "--skip-test-db",
                "--skip-name-resolve",
                *self._user,
                *self._innodb,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=self.root,
        )

    def start(self, timeout: float = 30) -> None:
        """Start mariadbd and return once it greets a client on its port (after any crash recovery)."""
        command = [
            str(self.binaries.server),
            "--no-defaults",
            f"--datadir={self.data}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.socket}",
            f"--pid-file={self.root / 'mariadbd.pid'}",
            f"--log-error={self.logfile}",
            *self._user,
            *self._innodb,
            "--innodb-flush-log-at-trx-commit=2",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--max-connections=100",
            # Debian's packaged configuration (what the shared test server runs with); without a
            # config file the server's default would be latin1.
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
        ]
        with self.logfile.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while not self._greets():
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not accept connections within {timeout:.0f} s\n{self.log_tail()}")
            time.sleep(0.02)

    def _greets(self) -> bool:
        """True when the server sends its handshake packet: it listens only once it is ready."""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
            return len(probe.recv(64)) > 4
        return False

    def stop(self, mode: str = "fast") -> None:
        """fast: SIGTERM, a clean shutdown (clients are disconnected); immediate: SIGKILL, like a crash."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM if mode == "fast" else signal.SIGKILL)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The server process: one process, so SIGSTOP freezes every connection at once."""
        assert self.process is not None
        return [self.process.pid]

    def _client(self, database: str) -> list[str]:
        address = ["-h", "127.0.0.1", "-P", str(self.port), "-u", "root"]
        return [str(self.binaries.client), "--no-defaults", *address, "--batch", "--skip-column-names", database]

    def query(self, sql: str, database: str = "mysql") -> str:
        result = subprocess.run(
            [*self._client(database), "-e", sql], capture_output=True, text=True, timeout=30, check=True
        )
        return result.stdout.strip()

    def create_database(self, name: str) -> None:
        # The server's default collation on purpose, as tests/conftest.py does: the migrations set theirs.
        self.query(f"CREATE DATABASE `{name}`")

    def drop_database(self, name: str) -> None:
        """Drop it even if a test left a connection inside a transaction (PostgreSQL's WITH (FORCE))."""
        ids = self.query(f"SELECT id FROM information_schema.processlist WHERE db = '{name}'").split()
        for connection_id in ids:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.query(f"KILL {int(connection_id)}")
        self.query(f"DROP DATABASE IF EXISTS `{name}`")

    def lock_table(self, table: str, database: str) -> contextlib.AbstractContextManager[None]:
        """Hold a WRITE table lock on `table` until the block ends: other sessions' reads and writes of
        it wait for the table's metadata lock (MariaDB's counterpart of ACCESS EXCLUSIVE)."""
        return self._holding(f"LOCK TABLES {table} WRITE; SELECT 'locked'", "UNLOCK TABLES", database)

    def lock_rows(self, table: str, where: str, database: str) -> contextlib.AbstractContextManager[None]:
        """Hold the row lock of the one row of `table` matching `where` until the block ends (InnoDB)."""
        return self._holding(f"BEGIN; SELECT 'locked' FROM {table} WHERE {where} FOR UPDATE", "COMMIT", database)

    @contextlib.contextmanager
    def _holding(self, locking_sql: str, release_sql: str, database: str) -> Iterator[None]:
        """Run `locking_sql` (which prints "locked") in a client session; `release_sql` when the block ends."""
        session = subprocess.Popen(
            [*self._client(database), "--unbuffered"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert session.stdin is not None and session.stdout is not None
        try:
            session.stdin.write(f"{locking_sql};\n")
            session.stdin.flush()
            assert session.stdout.readline().strip() == "locked", "the mariadb client could not take the lock"
            yield
        finally:
            session.communicate(f"{release_sql};\n", timeout=30)

    def lock_waiters(self, database: str) -> int:
        """Connections of `database` waiting for a table lock."""
        query = (
            "SELECT count(*) FROM information_schema.processlist "
            f"WHERE db = '{database}' AND state = 'Waiting for table metadata lock'"
        )
        return int(self.query(query))

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGCONT)  # a failed test may have left it frozen
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
