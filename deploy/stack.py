"""The compose topology as local processes: a PostgreSQL or MariaDB database, migrations, app replicas, real NGINX,
and Prometheus scraping the replicas with the repository's rules when it is installed.

`make stack` / `make stack-down` and tests/stack use it. NGINX runs the files in nginx/ as they
are (symlinked into the run directory); only nginx/templates/runtime/*.template are rendered,
with loopback addresses where compose puts Docker's resolver and the `app` service name.

    python -m deploy.stack up [--port 8380 --replicas 2 --db mariadb]  # prints the URL, returns; processes stay
    python -m deploy.stack down                                         # stops what `up` started
    python -m deploy.stack free-port [--replicas 2]                     # a free NGINX port, the next ones free too

Ports: NGINX on --port, the replicas on the next ones, Prometheus after them (8380, 8381-8382, 8383).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from deploy.databases import KINDS, DatabaseServer, kind_of
from deploy.monitoring import prepare_prometheus, prometheus_binary, prometheus_command
from deploy.nginx import (
    NginxConfigError,
    native_nginx_values,
    nginx_binary,
    nginx_command,
    nginx_config_test,
    prepare_nginx,
)
from deploy.processes import ProcessError, is_free, tail, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUN_DIR = ROOT / "var" / "stack"
DEFAULT_AUTH_RATE = "10r/s"
# `free-port` looks here: above tests/stack's 8300-8379 and the default `make stack` on 8380-8383.
FREE_PORT_RANGE = range(8400, 8480)


class StackError(RuntimeError):
    """A part of the stack did not start; the message says which and shows its log."""


# --- Processes -------------------------------------------------------------------------------


@dataclass
class Stack:
    """One running topology; `start()` brings it up in the compose order, `stop()` tears it down."""

    run_dir: Path
    database_url: str
    nginx_port: int
    app_ports: tuple[int, ...]
    auth_rate: str = DEFAULT_AUTH_RATE
    app_env: dict[str, str] = field(default_factory=dict)
    detach: bool = False  # `make stack`: processes outlive this Python process
    prometheus_port: int | None = None  # None: no Prometheus
    apps: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    nginx: subprocess.Popen[bytes] | None = None
    prometheus: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def prometheus_url(self) -> str | None:
        return f"http://127.0.0.1:{self.prometheus_port}" if self.prometheus_port else None

    @property
    def access_log(self) -> Path:
        return self.run_dir / "nginx" / "access.log"

    def app_log(self, port: int) -> Path:
        return self.run_dir / f"app-{port}.log"

    def environment(self) -> dict[str, str]:
        """What compose's app service gets: production settings, JSON logs, the stack's database."""
        # Like a container: only what the stack sets, so a variable exported in the developer's
        # shell (LOGIN_MAX_FAILURES, DOCS_ENABLED, ...) cannot change the stack under test.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
        env.update(
            ENVIRONMENT="production",
            DATABASE_URL=self.database_url,
            SECRET_KEY=secrets.token_urlsafe(48),
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
            PYTHONPATH=str(ROOT),
        )
        env.update(self.app_env)
        return env

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._run_migrations(env)
        for port in self.app_ports:
            self.apps[port] = self._start_app(port, env)
        for port, process in self.apps.items():
            wait_for_http(f"http://127.0.0.1:{port}/health/ready", process, self.app_log(port))
        self._start_nginx()
        if self.prometheus_port:
            self._start_prometheus(self.prometheus_port)

    def _spawn(
        self, command: Sequence[str], log: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            # cwd is the run directory, as in the image: a developer's .env in the repository
            # must not leak into the stack's settings.
            return subprocess.Popen(  # noqa: S603 - argv built here, never from user input
                command,
                cwd=self.run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=self.detach,
            )

    def _run_migrations(self, env: Mapping[str, str]) -> None:
        log = self.run_dir / "migrate.log"
        process = self._spawn([sys.executable, "-m", "service.cli", "migrate"], log, env)
        if process.wait(timeout=120) != 0:
            raise StackError(f"migrations failed\n{tail(log)}")

    def _start_app(self, port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        # The image's CMD with the loopback address; one worker per process, the replicas are the processes.
        command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        return self._spawn([*command, "--workers", "1"], self.app_log(port), env)

    def _start_nginx(self) -> None:
        conf_dir = self.run_dir / "nginx"
        values = native_nginx_values(f"127.0.0.1:{self.nginx_port}", self.app_ports, self.access_log, self.auth_rate)
        conf = prepare_nginx(conf_dir, values)
        checked = nginx_config_test(conf)
        if checked.returncode != 0:
            raise StackError(f"nginx -t failed:\n{checked.stdout}{checked.stderr}")
        self.nginx = self._spawn(nginx_command(conf, daemon=False), conf_dir / "nginx.out")
        wait_for_http(f"{self.url}/nginx-health", self.nginx, conf_dir / "error.log")

    def _start_prometheus(self, port: int) -> None:
        conf_dir = self.run_dir / "prometheus"
        config = prepare_prometheus(conf_dir, tuple(self.apps), port)
        # A fresh stack has a fresh database: series of an earlier run in this directory would mix in.
        shutil.rmtree(conf_dir / "data", ignore_errors=True)
        command = prometheus_command(config, conf_dir / "data", port)
        self.prometheus = self._spawn(command, conf_dir / "prometheus.log")
        wait_for_http(f"http://127.0.0.1:{port}/-/ready", self.prometheus, conf_dir / "prometheus.log", timeout=30)

    def processes(self) -> dict[str, int]:
        named = {f"app-{port}": process.pid for port, process in self.apps.items()}
        named |= {"nginx": self.nginx.pid} if self.nginx else {}
        return named | ({"prometheus": self.prometheus.pid} if self.prometheus else {})

    def stop(self) -> None:
        stop_pids(self.processes().values())


def stop_pids(pids: Iterable[int]) -> None:
    """SIGTERM, then SIGKILL after 10 s, for each pid still running."""
    remaining = [pid for pid in pids if _signal(pid, signal.SIGTERM)]
    deadline = time.monotonic() + 10
    while remaining and time.monotonic() < deadline:
        remaining = [pid for pid in remaining if _alive(pid)]
        time.sleep(0.1)
    for pid in remaining:
        _signal(pid, signal.SIGKILL)
    for pid in remaining:
        _alive(pid)


def _signal(pid: int, signum: int) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps our own children
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child (`make stack-down`): ask the kernel instead
    return _signal(pid, 0)


# --- Command line (make stack / make stack-down) ---------------------------------------------


def fresh_database_name() -> str:
    """A database of its own for each `up`: another checkout's stack (or an earlier run) is never shared."""
    return f"conduit_stack_{secrets.token_hex(4)}"


def stack_database(kind: str, database_url: str | None) -> tuple[DatabaseServer, str]:
    """The server and database `up` uses. A database named by STACK_DATABASE_URL is the caller's:
    created if missing, kept by `down`. Otherwise a fresh one on the `kind` server, dropped by `down`."""
    if database_url is None:
        return DatabaseServer.configured(kind), fresh_database_name()
    try:
        named_kind = kind_of(database_url)
    except ValueError as exc:
        raise SystemExit(f"STACK_DATABASE_URL: {exc}") from None
    if named_kind != kind:
        raise SystemExit(f"STACK_DATABASE_URL names a {named_kind} database: set STACK_DB={named_kind} too")
    name = make_url(database_url).database
    if not name:
        raise SystemExit("STACK_DATABASE_URL names no database")
    return DatabaseServer.holding(database_url), name


def free_port_block(size: int, candidates: range = FREE_PORT_RANGE) -> int:
    """A port p among candidates with p..p+size-1 all free on 127.0.0.1."""
    starts = list(range(candidates.start, candidates.stop - size + 1, size))
    # Blocks in random order: two checkouts starting `make test` at once seldom pick the same one
    # (a port is only taken seconds later, when NGINX and the apps bind it).
    secrets.SystemRandom().shuffle(starts)
    for start in starts:
        if all(is_free(port) for port in range(start, start + size)):
            return start
    raise StackError(f"no {size} consecutive free ports in {candidates.start}-{candidates.stop - 1}")


def up(args: argparse.Namespace) -> None:
    state_file = args.run_dir / "state.json"
    if state_file.exists():
        raise SystemExit(f"a stack is already running (see {state_file}); `make stack-down` first")
    owns_database = args.database_url is None
    server, name = stack_database(args.db, args.database_url)
    reason = server.unavailable()
    if reason:
        raise SystemExit(reason)
    if nginx_binary() is None:
        raise SystemExit("nginx is not installed (Debian/Ubuntu: apt-get install nginx)")
    database_url = server.database_url(name)
    server.create(name, exist_ok=not owns_database)
    ports = tuple(args.port + 1 + i for i in range(args.replicas))
    # Prometheus is optional: the stack works without it, and says how to get it.
    prometheus_port = args.port + 1 + args.replicas if prometheus_binary() else None
    stack = Stack(
        args.run_dir, database_url, args.port, ports, args.auth_rate, detach=True, prometheus_port=prometheus_port
    )
    try:
        stack.start()
    except (StackError, ProcessError, NginxConfigError):
        stack.stop()
        if owns_database:
            server.drop(name)
        raise
    state: dict[str, object] = {"url": stack.url, "processes": stack.processes()}
    if owns_database:
        # The name and the kind, not the URL: no password in the run directory; `down` reads the
        # server's URL from the environment again.
        state["drop_database"] = name
        state["database_server"] = args.db
    state_file.write_text(json.dumps(state, indent=2))
    print(f"stack up: {stack.url}  (NGINX -> {len(ports)} app processes on ports {', '.join(map(str, ports))})")
    kept = "dropped" if owns_database else "kept"
    print(f"  database   {make_url(database_url).render_as_string()}  ({kept} by `make stack-down`)")
    print(f"  logs       {args.run_dir}/app-*.log, {stack.access_log}")
    if stack.prometheus_url:
        print(f"  prometheus {stack.prometheus_url}  (scrapes each replica every second; deploy/prometheus/rules/)")
    else:
        print("  prometheus not started: not installed (Debian/Ubuntu: apt-get install prometheus)")
    print(f"  QA suite   make qa BASE_URL={stack.url}")
    print("  stop       make stack-down")


def down(args: argparse.Namespace) -> None:
    state_file = args.run_dir / "state.json"
    if not state_file.exists():
        print("no stack is running")
        return
    state = json.loads(state_file.read_text())
    stop_pids(list(state["processes"].values()))
    state_file.unlink()
    print(f"stack down: stopped {', '.join(state['processes'])}")
    if "drop_database" in state:
        # A state file written before MariaDB was an option has no database_server: PostgreSQL.
        server = DatabaseServer.configured(state.get("database_server", "postgresql"))
        server.drop(state["drop_database"])
        print(f"stack down: dropped database {state['drop_database']} ({server})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the stack in the background and print its URL")
    start.add_argument(
        "--port", type=int, default=8380, help="NGINX port; the app replicas use the next ports, then Prometheus"
    )
    start.add_argument("--replicas", type=int, default=2)
    start.add_argument(
        "--db",
        choices=sorted(KINDS),
        default="postgresql",
        help="the server of the fresh database: TEST_POSTGRES_URL or TEST_MARIADB_URL (see deploy/databases.py)",
    )
    start.add_argument(
        "--database-url",
        default=os.environ.get("STACK_DATABASE_URL") or None,
        help="an existing or new database, kept by `down` (default: a fresh one per run, dropped by `down`)",
    )
    start.add_argument("--auth-rate", default=DEFAULT_AUTH_RATE, help="NGINX sign-up/login rate per client address")
    commands.add_parser("down", help="stop the stack started by `up` and drop the database it created")
    ports = commands.add_parser(
        "free-port",
        help=f"print a free NGINX port in {FREE_PORT_RANGE.start}-"
        f"{FREE_PORT_RANGE.stop - 1} whose replica and Prometheus ports (the next ones) are free too",
    )
    ports.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir.resolve()  # the processes run with the run directory as their cwd
    try:
        if args.command == "up":
            up(args)
        elif args.command == "down":
            down(args)
        else:
            print(free_port_block(2 + args.replicas))  # NGINX, the replicas, Prometheus
    except (StackError, ProcessError, NginxConfigError) as exc:
        raise SystemExit(f"stack: {exc}") from None


if __name__ == "__main__":
    main()
