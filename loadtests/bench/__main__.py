"""`make bench`: the performance baseline. Not a test: it prints figures (docs/performance.md).

One server worker pinned to CPU 0, wrk pinned to CPU 1, a freshly created and seeded PostgreSQL
database (dropped afterwards). For each endpoint: requests/s, p50 and p99 at 64 connections, and
the ratio to the same process's trivial-JSON ceiling (/health/live).

    python -m loadtests.bench [--server production|uvicorn|granian] [--workers 1]
                              [--server-cpus 0] [--wrk-cpus 1] [--duration 10] [--connections 64]

BENCH_POSTGRES_URL names the server (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres).
Needs wrk (Debian: apt-get install wrk) and taskset (util-linux).
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
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg
import psutil
from sqlalchemy.engine import make_url

from deploy.processes import free_port, stop, wait_for_http
from loadtests.run import PORT_RANGE, ROOT
from loadtests.seed import LOAD_PASSWORD, email

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LIST_TARGET_RPS = 1_000
LIST_TARGET_P99_MS = 100


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0  # server CPU time (all its processes) per request: robust on a busy machine

    @property
    def per_core(self) -> float:
        """Requests/s one fully free core could serve at this CPU cost."""
        return 1000 / self.cpu_ms if self.cpu_ms else 0.0


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def seeded_database(admin_url: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "loadtests.seed"], env=env, check=True, cwd=ROOT)
        yield url
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def server_command(server: str, host: str, port: int, workers: int) -> list[str]:
    """The production command (python -m service.cli serve), or one of the candidates it was chosen from."""
    py = sys.executable
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
            py, "-m", "granian", "--interface", "asgi", "--factory", "--host", host, "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--no-ws", "--log-level", "warning",
            "service.app:create_app",
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


@contextlib.contextmanager
def running_server(command: list[str], cpus: str, database_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = int(command[command.index("--port") + 1])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),  # production logging, as deployed
    }
    process = subprocess.Popen(
        ["taskset", "-c", cpus, *command], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health/ready", process)
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


def run_wrk(
    name: str, url: str, token: str | None, cpus: str, duration: int, connections: int, server: psutil.Process
) -> Result:
    headers = ["-H", f"Authorization: Token {token}"] if token else []
    base = ["taskset", "-c", cpus, "wrk", "-t1", f"-c{connections}", "--latency", *headers]
    subprocess.run([*base, "-d2s", url], check=True, capture_output=True)  # warm-up: pools, caches, JIT-free paths
    before = cpu_seconds(server)
    output = subprocess.run([*base, f"-d{duration}s", url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(name, output, cpu_seconds(server) - before)


def endpoints(url: str) -> list[tuple[str, str, bool]]:
    """(name, URL, with token): the article list and friends, then the ceiling."""
    return [
        ("trivial JSON /health/live (ceiling)", f"{url}/health/live", False),
        ("article list, anonymous, 20", f"{url}/api/articles?limit=20", False),
        ("article list, with a token, 20", f"{url}/api/articles?limit=20", True),
        ("feed, 20", f"{url}/api/articles/feed?limit=20", True),
        ("single article", f"{url}/api/articles/{_a_slug(url)}", False),
    ]


def _a_slug(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/articles?limit=1&offset=500", timeout=10) as response:  # noqa: S310
        slug: str = json.load(response)["articles"][0]["slug"]
    return slug


def render(results: Sequence[Result], label: str) -> str:
    ceiling = results[0].rps
    header = (
        f"{'endpoint':<40} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'ceiling':>7} "
        f"{'CPU ms/req':>10} {'req/s/core':>10}"
    )
    lines = [label, header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<40} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.errors:>6} {r.rps / ceiling:>7.1%} "
            f"{r.cpu_ms:>10.2f} {r.per_core:>10.0f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="production", choices=("production", "uvicorn", "granian"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--wrk-cpus", default="1")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(
                f"bench: {tool} is missing (Debian: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'})"
            )
    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
    with seeded_database(admin_url) as database_url:
        command = server_command(args.server, "127.0.0.1", free_port(PORT_RANGE), args.workers)
        with running_server(command, args.server_cpus, database_url) as (url, process):
            token = login(url, 0)  # loaduser_00000 follows 10 authors: a feed of about 100 articles
            server = psutil.Process(process.pid)
            results = [
                run_wrk(
                    name, target, token if with_token else None, args.wrk_cpus, args.duration, args.connections, server
                )
                for name, target, with_token in endpoints(url)
            ]
    label = f"{args.server}, {args.workers} worker(s) on CPU {args.server_cpus}, {args.connections} connections"
    print(render(results, label))
    print(
        f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; req/s/core = 1000 / CPU ms)"
    )
    listing = results[1]
    met = listing.rps >= LIST_TARGET_RPS and listing.p99_ms < LIST_TARGET_P99_MS and listing.errors == 0
    verdict = "MET" if met else "NOT MET"
    print(
        f"\ntarget (anonymous list >= {LIST_TARGET_RPS} req/s, p99 < {LIST_TARGET_P99_MS} ms): {verdict} "
        f"({listing.rps:.0f} req/s, p99 {listing.p99_ms:.1f} ms)"
    )
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
