"""`make bench`: the performance baseline. Not a test: it prints figures (docs/performance.md).

One server worker pinned to CPU 0, wrk pinned to CPU 1, a freshly created and seeded database
(dropped afterwards) on the chosen engine: PostgreSQL (default), MariaDB, SQLite, or all three in
turn. For each endpoint: requests/s, p50 and p99 at 64 connections, the ratio to the same
process's trivial-JSON ceiling (/health/live), and CPU time per request: the worker's, and the
database server's on the bench database's connections (read from /proc, so only for a server on
this machine; SQLite runs inside the worker, so its cost is in the worker's figure). With more
than one engine a last table puts them side by side.

    python -m loadtests.bench [--db postgresql|mariadb|sqlite|all] [--server production|uvicorn|granian]
                              [--workers 1] [--server-cpus 0] [--wrk-cpus 1] [--duration 10]
                              [--warmup 2] [--connections 64] [--scale 1.0] [--markdown]

BENCH_DB chooses the engine when --db is not given. BENCH_POSTGRES_URL and BENCH_MARIADB_URL name
the servers (defaults postgresql+asyncpg://postgres@127.0.0.1:5432/postgres and
mysql+asyncmy://root@127.0.0.1:3306/mysql); the bench creates its own `bench_<random>` database
there and drops it at the end, never touching the one in the URL. Each engine takes about 90 s
(seeding, then six endpoints of warm-up + duration). Needs wrk (Debian: apt-get install wrk) and
taskset (util-linux).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.processes import free_port, stop, wait_for_http
from loadtests.run import PORT_RANGE, ROOT
from loadtests.seed import LOAD_PASSWORD, SeedSize, email

ENGINES = ("postgresql", "mariadb", "sqlite")
ADMIN_URLS = {  # (environment variable, default): a server the bench may create a database on
    "postgresql": ("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
    "mariadb": ("BENCH_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/mysql"),
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SIGN_UPS = 100
# The targets: CPU per request at most this many times the reference's.
RATIO_TARGETS = {
    "article list, anonymous, 20": 1.25,
    "article list, with a token, 20": 1.25,
    "feed, 20": 1.25,
    "single article": 1.5,
    "tags": 1.5,
}
REFERENCE_ENDPOINTS = frozenset(RATIO_TARGETS)
LIST_TARGET_RPS = 1_000
LIST_TARGET_P99_MS = 100
SEED_TIMEOUT_S = 600
# wrk gives up on a response after this long and counts a timeout error. Its default, 2 s, is
# shorter than the service's own limits (5 s statement and pool timeouts): on a busy machine a
# slow but correct answer would be an error. With 10 s it is latency, and only a failure an error.
WRK_TIMEOUT_S = 10
# POST /api/articles with a new title per request (a repeated title would first hit the taken slug).
# The prefix, one per wrk run, keeps titles apart across the warm-up and the measured run.
CREATE_SCRIPT = """
local counter = 0
local prefix = "bench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init(args)
  prefix = args[1] or prefix
end
function request()
  counter = counter + 1
  local body = string.format('{"article":{"title":"Bench %s %d","description":"Written by make bench",'
    .. '"body":"A short article body, about the size of the first paragraph of a real one.",'
    .. '"tagList":["bench","loadtag01"]}}', prefix, counter)
  return wrk.format(nil, nil, nil, body)
end
"""


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0  # server CPU time (all its processes) per request: robust on a busy machine
    db_cpu_ms: float | None = None  # the database server's CPU per request, when it can be read

    @property
    def per_core(self) -> float:
        """Requests/s one fully free core could serve at this CPU cost."""
        return 1000 / self.cpu_ms if self.cpu_ms else 0.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    url: str
    with_token: bool = False
    script: str | None = None  # a wrk Lua script (writes)


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    engine: str
    url: str
    name: str
    admin_url: str | None  # None for SQLite


def engines_for(choice: str) -> tuple[str, ...]:
    return ENGINES if choice == "all" else (choice,)


def admin_url_for(engine: str) -> str:
    variable, default = ADMIN_URLS[engine]
    return os.environ.get(variable, default)


async def _admin(url: str, statement: str, **parameters: object) -> list[Any]:
    """Run one statement outside a transaction on the admin URL's server; the first column of its rows."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text(statement), parameters)
            return list(result.scalars()) if result.returns_rows else []
    finally:
        await engine.dispose()


def _create_and_drop(engine: str, name: str) -> tuple[str, str]:
    if engine == "postgresql":
        return f'CREATE DATABASE "{name}"', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    return f"CREATE DATABASE `{name}`", f"DROP DATABASE IF EXISTS `{name}`"


def seed_arguments(scale: float) -> list[str]:
    """loadtests.seed flags for `scale` times the default data set (1.0: the defaults, no flags)."""
    if scale == 1:
        return []
    full = SeedSize()
    users = max(12, round(full.users * scale))
    return [
        *("--users", str(users)),
        *("--articles", str(max(40, round(full.articles * scale)))),
        *("--tags", str(max(5, round(full.tags * scale)))),
        *("--comments", str(max(40, round(full.comments * scale)))),
        *("--follows-per-user", str(min(full.follows_per_user, users - 2))),
    ]


@contextlib.contextmanager
def bench_database(engine: str, seed_args: Sequence[str] = ()) -> Iterator[BenchDatabase]:
    """A fresh database of its own on `engine`, migrated and filled by loadtests.seed; dropped afterwards
    (SQLite: a file in a temporary directory)."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as cleanup:
        admin_url: str | None = None
        if engine == "sqlite":
            directory = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="conduit-bench-"))
            url = f"sqlite+aiosqlite:///{Path(directory) / name}.db"
        else:
            admin_url = server = admin_url_for(engine)
            create, drop = _create_and_drop(engine, name)
            asyncio.run(_admin(server, create))
            cleanup.callback(lambda: asyncio.run(_admin(server, drop)))
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "loadtests.seed", *seed_args]
        subprocess.run(command, env=env, check=True, cwd=ROOT, timeout=SEED_TIMEOUT_S)
        yield BenchDatabase(engine, url, name, admin_url)


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """The database server's processes or threads serving the bench database now (`ids`), and CPU
    seconds by id: of those, and on MariaDB of every thread of the server, so that a thread that
    joins the bench database later (MariaDB reuses cached threads for new connections) is counted
    from its time at this snapshot, not from its start."""

    ids: frozenset[int]
    seconds: dict[int, float]

    def spent_since(self, before: CpuSnapshot) -> float:
        """CPU seconds the bench database's connections used between `before` and this snapshot."""
        return sum(self.seconds[i] - before.seconds.get(i, 0.0) for i in self.ids if i in self.seconds)


CpuProbe = Callable[[], CpuSnapshot]


def database_cpu_probe(database: BenchDatabase) -> CpuProbe | None:
    """A function that snapshots the CPU time the database server has spent on the connections to
    the bench database: PostgreSQL's backends (a process each), MariaDB's connection threads.
    None when it cannot be read: SQLite (inside the worker), a server on another machine."""
    if database.admin_url is None or make_url(database.admin_url).host not in LOCAL_HOSTS:
        return None
    admin_url, name = database.admin_url, database.name

    async def postgresql() -> CpuSnapshot:
        ids = {
            int(pid)
            for pid in await _admin(admin_url, "SELECT pid FROM pg_stat_activity WHERE datname = :name", name=name)
        }
        return CpuSnapshot(frozenset(ids), _cpu_by_id(ids))

    async def mariadb() -> CpuSnapshot:
        # tid (MariaDB 10.5+): the OS thread of each connection; this admin connection's own thread
        # (in another database) leads to the server process, and so to all its threads.
        query = "SELECT tid, db = :name FROM information_schema.processlist WHERE db = :name OR id = connection_id()"
        engine = create_async_engine(admin_url)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(text(query), {"name": name})).all()
        finally:
            await engine.dispose()
        ids = {int(tid) for tid, ours in rows if ours}
        own = next(int(tid) for tid, ours in rows if not ours)
        return CpuSnapshot(frozenset(ids), _cpu_by_id(_threads_of_process_of(own) or ids))

    snapshot = postgresql if database.engine == "postgresql" else mariadb
    return lambda: asyncio.run(snapshot())


def _cpu_by_id(ids: Iterable[int]) -> dict[int, float]:
    return {i: seconds for i in ids if (seconds := proc_cpu_seconds(i)) is not None}


def _threads_of_process_of(thread_id: int) -> set[int]:
    owner = _owner(thread_id)
    with contextlib.suppress(FileNotFoundError):
        return {int(task) for task in os.listdir(f"/proc/{owner}/task")}
    return set()


def _owner(task_id: int) -> int:
    """The process a thread belongs to (itself for a process); Linux /proc."""
    with contextlib.suppress(FileNotFoundError):
        found = re.search(r"^Tgid:\s+(\d+)", Path(f"/proc/{task_id}/status").read_text(), re.M)
        if found:
            return int(found.group(1))
    return task_id


def proc_cpu_seconds(task_id: int) -> float | None:
    """User + system CPU time of one thread (Linux /proc), or of a single-threaded process such as a
    PostgreSQL backend; None when it has gone.

    Read from /proc/<process>/task/<thread>/stat: /proc/<thread>/stat would give the CPU time of the
    thread's whole process (all of mariadbd), not the thread's own.
    """
    try:
        stat = Path(f"/proc/{_owner(task_id)}/task/{task_id}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


DEPLOYED_ENVIRONMENT = ROOT / "var" / "bench-venv"


def deployed_python() -> str:
    """The interpreter of an environment holding what the image holds: uv.lock without the dev groups,
    compiled to bytecode (the Dockerfile's `uv sync`). The service is measured as deployed: the dev
    .venv also holds Copier's Pydantic, and Litestar loads its Pydantic plugins whenever Pydantic can
    be imported (+9 MiB in a worker)."""
    uv = Path(sys.executable).parent / "uv"
    sync = [str(uv), "sync", "--locked", "--no-dev", "--no-install-project", "--compile-bytecode", "--quiet"]
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(DEPLOYED_ENVIRONMENT), "UV_PYTHON": sys.executable}
    subprocess.run(sync, cwd=ROOT, env=environment, check=True)
    return str(DEPLOYED_ENVIRONMENT / "bin" / "python")


def server_command(server: str, host: str, port: int, workers: int, py: str) -> list[str]:
    """The production command (python -m service.cli serve), or one of the candidates it was chosen from,
    run by the interpreter `py` (granian, in the bench group only, always by the dev environment's)."""
    if server == "production":
        return [py, "-m", "service.cli", "serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    if server == "uvicorn":
        return [
            py, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", host, "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", host, "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--no-ws", "--log-level", "warning",
            "service.app:create_app",
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


@contextlib.contextmanager
def running_server(
    command: list[str],
    cpus: str,
    database_url: str,
    log_path: Path,
    secret_key: str,
    ready_path: str = "/health/ready",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server on `cpus`, its output (one JSON line per request, as deployed) into `log_path`."""
    port = int(command[command.index("--port") + 1])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),  # production logging, as deployed
        # for the reference (loadtests/bench/reference.py): the same database and token key
        "REFERENCE_DSN": make_url(database_url)
        .set(drivername=make_url(database_url).get_backend_name())
        .render_as_string(hide_password=False),
        "REFERENCE_SECRET_KEY": secret_key,
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(["taskset", "-c", cpus, *command], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}{ready_path}", process, log_path)
        yield url, process
    finally:
        stop(process)


def login(url: str, account: int) -> str:
    body = json.dumps({"user": {"email": email(account), "password": LOAD_PASSWORD}}).encode()
    request = urllib.request.Request(  # noqa: S310 - our own URL
        f"{url}/api/users/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own URL
        token: str = json.load(response)["user"]["token"]
    return token


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(name: str, output: str, cpu_seconds: float = 0.0) -> Result:
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)\.000%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)}
    if not percentiles:
        percentiles = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in socket_errors.groups())
    cpu_ms = cpu_seconds * 1000 / requests if requests else 0.0
    return Result(name, rps, percentiles["50"], percentiles["99"], count, cpu_ms)


def cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


MEASURE_ATTEMPTS = 3


def _requests(output: str) -> int:
    found = re.search(r"(\d+) requests in", output)
    return int(found.group(1)) if found else 0


def run_wrk(
    endpoint: Endpoint,
    token: str | None,
    cpus: str,
    timing: tuple[int, int],
    connections: int,
    server: psutil.Process,
    database_cpu: CpuProbe | None = None,
) -> Result:
    warmup, duration = timing
    headers = ["-H", f"Authorization: Token {token}"] if endpoint.with_token else []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(endpoint.script or "")
        script.flush()
        scripted = ["-s", script.name] if endpoint.script else []
        base = ["taskset", "-c", cpus, "wrk", "-t1", f"-c{connections}", "--timeout", f"{WRK_TIMEOUT_S}s", "--latency"]
        base += [*headers, *scripted]

        def wrk(seconds: int) -> str:
            command = [*base, f"-d{seconds}s", endpoint.url, "--", uuid.uuid4().hex[:8]]
            return subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout

        if warmup:
            wrk(warmup)  # pools, caches, the first compilation of each statement
        for _attempt in range(MEASURE_ATTEMPTS):
            db_before = database_cpu() if database_cpu else None
            before = cpu_seconds(server)
            output = wrk(duration)
            if _requests(output):
                break  # a window in which no request finished (a core starved by other work) measures nothing
        result = parse_wrk(endpoint.name, output, cpu_seconds(server) - before)
    if database_cpu is not None and db_before is not None and (served := _requests(output)):
        spent = database_cpu().spent_since(db_before)
        result = replace(result, db_cpu_ms=spent * 1000 / served)
    return result


def endpoints(url: str) -> list[Endpoint]:
    """The ceiling, the article list and friends, then a write (last: it adds articles)."""
    return [
        Endpoint("trivial JSON /health/live (ceiling)", f"{url}/health/live"),
        Endpoint("article list, anonymous, 20", f"{url}/api/articles?limit=20"),
        Endpoint("article list, with a token, 20", f"{url}/api/articles?limit=20", with_token=True),
        Endpoint("feed, 20", f"{url}/api/articles/feed?limit=20", with_token=True),
        Endpoint("single article", f"{url}/api/articles/{_a_slug(url)}"),
        Endpoint("tags", f"{url}/api/tags"),
        Endpoint("create article", f"{url}/api/articles", with_token=True, script=CREATE_SCRIPT),
    ]


def _a_slug(url: str) -> str:
    """An article from the middle of the list (the 500th of the full data set)."""
    with urllib.request.urlopen(f"{url}/api/articles?limit=1", timeout=10) as response:  # noqa: S310
        total: int = json.load(response)["articlesCount"]
    with urllib.request.urlopen(f"{url}/api/articles?limit=1&offset={min(500, total // 2)}", timeout=10) as response:  # noqa: S310
        slug: str = json.load(response)["articles"][0]["slug"]
    return slug


def _cpu_cell(result: Result) -> str:
    return "-" if result.db_cpu_ms is None else f"{result.db_cpu_ms:.2f}"


def render(results: Sequence[Result], label: str) -> str:
    ceiling = results[0].rps
    header = (
        f"{'endpoint':<40} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'ceiling':>7} "
        f"{'CPU ms/req':>10} {'req/s/core':>10} {'DB CPU ms':>9}"
    )
    lines = [label, header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<40} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.errors:>6} {r.rps / ceiling:>7.1%} "
            f"{r.cpu_ms:>10.2f} {r.per_core:>10.0f} {_cpu_cell(r):>9}"
        )
    return "\n".join(lines)


def _matrix_cell(result: Result | None) -> str:
    if result is None:
        return "n/a"
    database = " + in app" if result.db_cpu_ms is None else f" + {result.db_cpu_ms:.2f}"
    errors = f", {result.errors:,} errors" if result.errors else ""
    return f"{result.cpu_ms:.2f}{database} ({result.rps:,.0f}/s{errors})"


def render_matrix(by_engine: Mapping[str, Sequence[Result]], markdown: bool = False) -> str:
    """One row per endpoint, one column per engine: worker CPU ms + database CPU ms per request (req/s)."""
    names = list(dict.fromkeys(r.name for results in by_engine.values() for r in results))
    cells = {
        name: [_matrix_cell(next((r for r in results if r.name == name), None)) for results in by_engine.values()]
        for name in names
    }
    title = "CPU ms per request: worker + database server (requests/s); SQLite runs in the worker"
    if markdown:
        lines = [title, "", f"| endpoint | {' | '.join(by_engine)} |", f"|---|{'---:|' * len(by_engine)}"]
        lines += [f"| {name} | {' | '.join(row)} |" for name, row in cells.items()]
        return "\n".join(lines)
    width = max(24, *(len(cell) for row in cells.values() for cell in row))
    header = f"{'endpoint':<40}" + "".join(f" {engine:>{width}}" for engine in by_engine)
    lines = [title, header, "-" * len(header)]
    lines += [f"{name:<40}" + "".join(f" {cell:>{width}}" for cell in row) for name, row in cells.items()]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class EngineRun:
    results: list[Result]
    memory: list[tuple[str, float]]  # (moment, worker RSS in MiB)
    reference: list[Result]  # the same reads served by the speed-of-light reference (PostgreSQL only)


def bench_engine(engine: str, args: argparse.Namespace) -> EngineRun:
    """Create, seed and measure one engine's database (and the reference on it), then drop it."""
    secret_key = secrets.token_urlsafe(48)
    with bench_database(engine, seed_arguments(args.scale)) as database:
        command = server_command(args.server, "127.0.0.1", free_port(PORT_RANGE), args.workers, args.python)
        with running_server(command, args.server_cpus, database.url, server_log(engine), secret_key) as (url, process):
            server = psutil.Process(process.pid)
            memory = [("after start", rss_mib(server))]
            sign_up_at_once(url, SIGN_UPS)
            memory.append((f"after {SIGN_UPS} sign-ups at once", rss_mib(server)))
            token = login(url, 0)  # loaduser_00000 follows 10 authors: a feed of about 100 articles
            probe = database_cpu_probe(database)
            timing = (args.warmup, args.duration)
            results = [
                run_wrk(endpoint, token, args.wrk_cpus, timing, args.connections, server, probe)
                for endpoint in endpoints(url)
            ]
            memory += [("at the end", rss_mib(server)), ("peak", peak_rss_mib(server))]
        reference = bench_reference(database.url, secret_key, token, args) if engine == "postgresql" else []
    return EngineRun(results, memory, reference)


def bench_reference(database_url: str, secret_key: str, token: str, args: argparse.Namespace) -> list[Result]:
    """The reads of REFERENCE_ENDPOINTS, served by loadtests/bench/reference.py on the same core and data."""
    command = [
        args.python, "-m", "uvicorn", "loadtests.bench.reference:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(free_port(PORT_RANGE)), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    log = server_log("reference")
    with running_server(command, args.server_cpus, database_url, log, secret_key, "/api/tags") as (url, process):
        server = psutil.Process(process.pid)
        timing = (args.warmup, args.duration)
        return [
            run_wrk(endpoint, token, args.wrk_cpus, timing, args.connections, server)
            for endpoint in endpoints(url)
            if endpoint.name in REFERENCE_ENDPOINTS
        ]


def rss_mib(process: psutil.Process) -> float:
    """The server's resident memory: the process and its children (the worker, if it forks one)."""
    processes = [process, *process.children(recursive=True)]
    total: int = sum(p.memory_info().rss for p in processes)
    return total / 2**20


def peak_rss_mib(process: psutil.Process) -> float:
    """The largest resident size any of the server's processes reached (Linux's VmHWM)."""
    peaks = []
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{p.pid}/status").read_text()
            if found := re.search(r"VmHWM:\s+(\d+) kB", status):
                peaks.append(int(found.group(1)) / 1024)
    return max(peaks, default=0.0)


def sign_up_at_once(url: str, count: int) -> None:
    """`count` sign-ups released together: each hashes a password with Argon2id (7 MiB apiece)."""
    run = uuid.uuid4().hex[:8]

    def sign_up(n: int) -> int:
        user = {"username": f"burst_{run}_{n}", "email": f"burst_{run}_{n}@example.com", "password": "password123"}
        request = urllib.request.Request(  # noqa: S310 - our own URL
            f"{url}/api/users", data=json.dumps({"user": user}).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own URL
            return int(response.status)

    with ThreadPoolExecutor(max_workers=count) as pool:
        statuses = list(pool.map(sign_up, range(count)))
    if statuses.count(201) != count:
        raise SystemExit(f"bench: {count} sign-ups at once answered {Counter(statuses)}")


def render_ratios(service: Sequence[Result], reference: Sequence[Result]) -> str:
    """Per endpoint: the service's CPU per request over the reference's, against its target."""
    header = f"{'endpoint':<40} {'service ms':>10} {'reference ms':>12} {'ratio':>6} {'target':>6}"
    lines = ["CPU ms per request, the service against the speed-of-light reference", header, "-" * len(header)]
    by_name = {r.name: r for r in service}
    for ref in reference:
        ours, target = by_name[ref.name], RATIO_TARGETS[ref.name]
        ratio = ours.cpu_ms / ref.cpu_ms if ref.cpu_ms else float("inf")
        verdict = "" if ratio <= target else "  over"
        lines.append(f"{ref.name:<40} {ours.cpu_ms:>10.2f} {ref.cpu_ms:>12.2f} {ratio:>6.2f} {target:>6.2f}{verdict}")
    return "\n".join(lines)


def render_memory(memory: Sequence[tuple[str, float]]) -> str:
    return "worker RSS: " + ", ".join(f"{moment} {mib:.0f} MiB" for moment, mib in memory)


def server_log(engine: str) -> Path:
    return ROOT / "reports" / "bench" / f"{engine}-server.log"


def failed_requests(log_path: Path) -> Counter[str]:
    """What the server logged for the requests it failed: "status 503: <error event>" and counts."""
    failures: Counter[str] = Counter()
    with contextlib.suppress(FileNotFoundError), log_path.open() as log:
        for line in log:
            if '"status":5' in line or '"status":4' in line:
                status = re.search(r'"status":(\d+)', line)
                failures[f"status {status.group(1) if status else '?'}"] += 1
            elif '"level":"error"' in line or '"level":"warning"' in line:
                event = re.search(r'"event":"([^"]+)"', line)
                failures[event.group(1) if event else line.strip()[:120]] += 1
    return failures


def _verdict(engine: str, results: Sequence[Result]) -> str:
    listing = results[1]
    met = listing.rps >= LIST_TARGET_RPS and listing.p99_ms < LIST_TARGET_P99_MS and listing.errors == 0
    return (
        f"target on {engine} (anonymous list >= {LIST_TARGET_RPS} req/s, p99 < {LIST_TARGET_P99_MS} ms): "
        f"{'MET' if met else 'NOT MET'} ({listing.rps:.0f} req/s, p99 {listing.p99_ms:.1f} ms)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB") or "postgresql", choices=(*ENGINES, "all"))
    parser.add_argument("--server", default="production", choices=("production", "uvicorn", "granian"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--wrk-cpus", default="1")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement (0: none)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--scale", type=float, default=1.0, help="size of the data set, 1.0 = 10,000 articles")
    parser.add_argument("--markdown", action="store_true", help="the engines' table as Markdown")
    parser.add_argument(
        "--dev-environment", action="store_true", help="serve from this .venv instead of one without the dev groups"
    )
    args = parser.parse_args(argv)
    args.python = sys.executable if args.dev_environment else deployed_python()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(
                f"bench: {tool} is missing (Debian: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'})"
            )
    by_engine: dict[str, list[Result]] = {}
    for engine in engines_for(args.db):
        run = bench_engine(engine, args)
        by_engine[engine] = results = run.results
        label = (
            f"{engine}: {args.server}, {args.workers} worker(s) on CPU {args.server_cpus}, "
            f"{args.connections} connections"
        )
        print(render(results, label))
        print(
            f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
            "req/s/core = 1000 / CPU ms; DB CPU ms: the database server's, per request)",
            flush=True,
        )
        print(render_memory(run.memory))
        if run.reference:
            print(render_ratios(results, run.reference))
        if any(r.errors for r in results):
            found = ", ".join(f"{what} x{count}" for what, count in failed_requests(server_log(engine)).most_common(5))
            print(f"errors: {found or 'none logged'} (server log: {server_log(engine).relative_to(ROOT)})")
        print()
    if len(by_engine) > 1:
        print(render_matrix(by_engine, args.markdown) + "\n")
    for engine, results in by_engine.items():
        print(_verdict(engine, results))
    return 0 if all(r.errors == 0 for results in by_engine.values() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
