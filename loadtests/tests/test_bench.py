"""`make bench` (loadtests/bench/__main__.py): the engines' table, the databases it creates and drops
on each engine, and one tiny real run on SQLite (wrk, one second per endpoint)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from loadtests.bench import __main__ as bench
from loadtests.bench.__main__ import Result
from service.models import User
from tests.conftest import mariadb_unavailable_reason, postgres_unavailable_reason, skip_or_fail

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8200/api/articles?limit=20
  1 threads and 4 connections
  Latency Distribution
     50%    2.50ms
     99%   12.00ms
  812 requests in 1.00s, 3.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    811.50
"""
ENDPOINTS = (
    "trivial JSON /health/live (ceiling)",
    "article list, anonymous, 20",
    "article list, with a token, 20",
    "feed, 20",
    "single article",
    "tags",
    "create article",
)


def test_wrk_output_becomes_a_result_with_cpu_per_request() -> None:
    result = bench.parse_wrk("list", WRK_OUTPUT, cpu_seconds=1.624)
    assert (result.rps, result.p50_ms, result.p99_ms, result.errors) == (811.5, 2.5, 12.0, 3)
    assert result.cpu_ms == pytest.approx(2.0)
    assert result.db_cpu_ms is None


def test_a_window_in_which_no_request_finished_is_measured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a core starved by other work a one-second window can end before any request does."""
    starved = WRK_OUTPUT.replace("812 requests in", "0 requests in").replace("811.50", "0.00")
    outputs = iter(["warm-up", starved, starved, WRK_OUTPUT])
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, stdout=next(outputs))

    monkeypatch.setattr(subprocess, "run", fake_run)
    server = psutil.Process()
    result = bench.run_wrk(bench.Endpoint("list", "http://127.0.0.1:1/x"), None, "0", (1, 1), 4, server)
    assert len(calls) == 4  # warm-up, two empty windows, the measured one
    assert result.rps == 811.5


def test_bench_db_names_one_engine_or_all() -> None:
    assert bench.engines_for("all") == ("postgresql", "mariadb", "sqlite")
    assert bench.engines_for("mariadb") == ("mariadb",)
    assert bench.seed_arguments(1.0) == []  # the full data set: the seed's own defaults
    assert bench.seed_arguments(0.02)[:4] == ["--users", "20", "--articles", "200"]


def test_the_engines_table_has_a_row_per_endpoint_and_a_column_per_engine() -> None:
    by_engine = {
        "postgresql": [Result("list", 812.0, 1, 2, 0, 1.25, 0.5), Result("create", 90.0, 1, 2, 0, 5.0, 1.0)],
        "sqlite": [Result("list", 300.0, 1, 2, 7, 2.0)],
    }
    lines = bench.render_matrix(by_engine).splitlines()
    assert lines[1].split() == ["endpoint", "postgresql", "sqlite"]
    assert lines[3].startswith("list")
    assert lines[3].index("1.25 + 0.50 (812/s)") < lines[3].index("2.00 + in app")
    assert lines[3].endswith("2.00 + in app (300/s, 7 errors)")
    assert lines[4].rstrip().endswith("n/a")  # no create figure for sqlite here
    markdown = bench.render_matrix(by_engine, markdown=True).splitlines()
    assert markdown[2:4] == ["| endpoint | postgresql | sqlite |", "|---|---:|---:|"]
    assert markdown[4] == "| list | 1.25 + 0.50 (812/s) | 2.00 + in app (300/s, 7 errors) |"


def test_database_cpu_counts_a_reused_thread_from_the_first_snapshot_only() -> None:
    """MariaDB hands a new connection a cached thread: its earlier CPU time is not the bench's."""
    before = bench.CpuSnapshot(frozenset({1}), {1: 10.0, 2: 50.0})  # thread 2: idle in the cache
    after = bench.CpuSnapshot(frozenset({1, 2, 3}), {1: 10.5, 2: 50.25, 3: 0.125})  # 3: a new thread
    assert after.spent_since(before) == 0.875


def test_failed_requests_are_summed_up_from_the_server_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        '{"event":"request","status":200}\n'
        '{"event":"request","status":503}\n{"event":"request","status":503}\n'
        '{"event":"database_timeout","level":"warning"}\n'
    )
    assert bench.failed_requests(log) == {"status 503": 2, "database_timeout": 1}
    assert bench.failed_requests(tmp_path / "missing.log") == {}


def test_bench_db_all_prints_one_table_of_the_three_engines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The loop over engines and the final table, with each engine's measurement stubbed out."""

    def measured(engine: str, args: argparse.Namespace) -> bench.EngineRun:
        cost = {"postgresql": 1.0, "mariadb": 2.0, "sqlite": 3.0}[engine]
        results = [Result(name, 100.0, 1.0, 2.0, 0, cost, None if engine == "sqlite" else 0.5) for name in ENDPOINTS]
        return bench.EngineRun(results, [("after start", 80.0)], [])

    monkeypatch.setattr(bench, "bench_engine", measured)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setenv("BENCH_DB", "all")
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    table = out[out.index("CPU ms per request") :].splitlines()
    assert table[1].split() == ["endpoint", "postgresql", "mariadb", "sqlite"]
    create = next(line for line in table if line.startswith("create article"))
    cells = [create.index(cell) for cell in ("1.00 + 0.50 (100/s)", "2.00 + 0.50 (100/s)", "3.00 + in app (100/s)")]
    assert cells == sorted(cells)  # in the engines' order
    assert out.count("target on ") == 3


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_each_engine_gets_a_seeded_database_of_its_own_dropped_afterwards(engine: str) -> None:
    reason = postgres_unavailable_reason() if engine == "postgresql" else mariadb_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    with bench.bench_database(engine, bench.seed_arguments(0.01)) as database:
        assert database.name.startswith("bench_")
        assert database.name in database.url
        probe = bench.database_cpu_probe(database)
        assert probe is not None
        users, snapshot = asyncio.run(_users_and_probe(database.url, probe))
        assert users == 12
        assert snapshot.ids  # this test's own connection at least
        assert snapshot.ids <= snapshot.seconds.keys()
        assert snapshot.spent_since(snapshot) == 0
        assert probe().spent_since(bench.CpuSnapshot(frozenset(), {})) >= 0
    assert not asyncio.run(_database_exists(engine, database.name))


async def _users_and_probe(url: str, probe: bench.CpuProbe) -> tuple[int, bench.CpuSnapshot]:
    """The number of users, and what the probe reads while this connection to the database is open."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            users = int(await connection.scalar(select(func.count()).select_from(User)) or 0)
            return users, await asyncio.to_thread(probe)
    finally:
        await engine.dispose()


async def _database_exists(engine: str, name: str) -> bool:
    if engine == "postgresql":
        query = "SELECT count(*) FROM pg_database WHERE datname = :name"
    else:
        query = "SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"
    return bool((await bench._admin(bench.admin_url_for(engine), query, name=name))[0])


def _tiny_run(engine: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`make bench` for a second per endpoint on a small data set: its exit code and what it printed."""
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed (Debian: apt-get install wrk util-linux)")
    cpus = ["--server-cpus", "0", "--wrk-cpus", "1" if (os.cpu_count() or 1) >= 2 else "0"]
    tiny = ["--duration", "1", "--warmup", "0", "--scale", "0.02", "--connections", "4"]
    code = bench.main(["--db", engine, *cpus, *tiny])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_a_tiny_run_on_sqlite_measures_every_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _tiny_run("sqlite", capsys)
    assert code == 0, out
    rows = {line[:40].strip(): line[40:].split() for line in out.splitlines() if line[:40].strip() in ENDPOINTS}
    assert set(rows) == set(ENDPOINTS), out
    for name, (rps, _p50, _p99, errors, _ceiling, cpu_ms, _per_core, db_cpu) in rows.items():
        assert float(rps) > 0, (name, out)
        assert errors == "0", (name, out)
        assert float(cpu_ms) > 0, (name, out)
        assert db_cpu == "-"  # SQLite runs inside the worker: its cost is in the worker's CPU
    assert "target on sqlite" in out


def test_the_ratio_table_compares_each_read_with_the_reference_against_its_target() -> None:
    service = [Result(name, 100.0, 1.0, 2.0, 0, 2.0) for name in ENDPOINTS]
    reference = [
        Result("article list, anonymous, 20", 300.0, 1.0, 2.0, 0, 1.0),
        Result("tags", 300.0, 1.0, 2.0, 0, 1.6),
    ]
    table = bench.render_ratios(service, reference).splitlines()
    listing = next(line for line in table if line.startswith("article list, anonymous"))
    tags = next(line for line in table if line.startswith("tags"))
    assert listing.split()[-5:] == ["2.00", "1.00", "2.00", "1.25", "over"]
    assert tags.split()[-4:] == ["2.00", "1.60", "1.25", "1.50"]  # within its target: no verdict


def test_a_tiny_run_on_postgresql_measures_the_reference_too(capsys: pytest.CaptureFixture[str]) -> None:
    """The reference serves the same database with the service's token key (else: 401s, errors)."""
    if reason := postgres_unavailable_reason():
        skip_or_fail(reason)
    code, out = _tiny_run("postgresql", capsys)
    assert code == 0, out
    table = out[out.index("against the speed-of-light reference") :].splitlines()[3:8]
    assert [line[:40].strip() for line in table] == [name for name in ENDPOINTS if name in bench.REFERENCE_ENDPOINTS]
    for line in table:
        service_ms, reference_ms, ratio = map(float, line[40:].split()[:3])
        assert service_ms > 0
        assert reference_ms > 0
        assert ratio == pytest.approx(service_ms / reference_ms, rel=0.05)  # of figures rounded to 0.01
    assert re.search(r"worker RSS: after start \d+ MiB, after 100 sign-ups at once \d+ MiB", out), out


def test_the_server_runs_on_the_images_packages_compiled_to_bytecode() -> None:
    """As the Dockerfile installs them: no dev groups (Copier's Pydantic would make Litestar load its
    Pydantic plugins, 9 MiB per worker), and .pyc files ready, so a start compiles nothing."""
    python = bench.deployed_python()
    probe = (
        "import importlib.util, os, litestar.app; "
        "print(importlib.util.find_spec('pydantic') is None, importlib.util.find_spec('locust') is None, "
        "os.path.exists(importlib.util.cache_from_source(litestar.app.__file__)))"
    )
    answer = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, cwd=bench.DEPLOYED_ENVIRONMENT
    )
    assert answer.stdout.split() == ["True", "True", "True"], answer.stderr
