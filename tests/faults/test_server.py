"""The real server process: SIGTERM drains in-flight requests, JSON logs carry the request id,
and /metrics adds up every worker's counts."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.processes import AppProcess
from tests.faults.conftest import UNBOUNDED_SECONDS, DatabaseServer, database_name


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def _server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",  # JSON logs, and the secret must be a real one
        "SECRET_KEY": "server-test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database_url,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "64",
        "LOG_LEVEL": "INFO",
        "DB_STATEMENT_TIMEOUT_MS": "15000",
        **extra,
    }


@pytest.fixture
def server(workdir: Path, database_url: str) -> Iterator[AppProcess]:
    process = AppProcess(_server_env(database_url), workdir / "server.log", workdir=workdir)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _wait_for_lock_waiter(db: DatabaseServer, database: str) -> None:
    deadline = time.monotonic() + UNBOUNDED_SECONDS
    while db.lock_waiters(database) == 0:
        assert time.monotonic() < deadline, "the request never reached the locked table"
        time.sleep(0.05)


def test_sigterm_finishes_in_flight_requests_and_refuses_new_ones(
    db: DatabaseServer, database_url: str, server: AppProcess, figures: dict[str, Any]
) -> None:
    database = database_name(database_url)
    user = {"user": {"username": "drain", "email": "drain@example.com", "password": "password123"}}
    signup = httpx.post(f"{server.base_url}/api/users", json=user, timeout=10)
    assert signup.status_code == 201, signup.text
    headers = {"Authorization": f"Token {signup.json()['user']['token']}", "X-Request-ID": "drain-test-0001"}
    article = {"article": {"title": "Written during shutdown", "description": "d", "body": "b"}}
    in_flight: dict[str, httpx.Response] = {}

    def write() -> None:
        in_flight["response"] = httpx.post(f"{server.base_url}/api/articles", json=article, headers=headers, timeout=30)

    with db.lock_table("articles", database):
        writer = threading.Thread(target=write)
        writer.start()
        _wait_for_lock_waiter(db, database)
        server.process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        while True:  # new connections are refused once the server stops listening
            try:
                httpx.get(f"{server.base_url}/health/live", timeout=2)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
                break  # refused, or (caught in the backlog as the listener closed) closed unanswered
            assert time.monotonic() - sent < UNBOUNDED_SECONDS, "the server kept accepting new requests after SIGTERM"
            time.sleep(0.05)
        figures["sigterm_to_refusing_new_connections_seconds"] = round(time.monotonic() - sent, 3)
        assert server.process.poll() is None, "the server exited before its in-flight request finished"
    writer.join(timeout=30)
    assert in_flight["response"].status_code == 201, in_flight["response"].text
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status says "SIGTERM".
    assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Finished server process" in server.output()
    assert db.query("SELECT title FROM articles", database) == "Written during shutdown"

    # Production logs: every line is JSON; the request line carries the caller's request id.
    lines = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    request_line = next(line for line in lines if line.get("request_id") == "drain-test-0001")
    assert request_line["event"] == "request"
    assert request_line["route"] == "/api/articles"
    assert request_line["status"] == 201
    assert isinstance(request_line["user_id"], int)
    assert in_flight["response"].headers["x-request-id"] == "drain-test-0001"
    assert "drain@example.com" not in server.output()
    assert "password123" not in server.output()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # about the workers, not the database
def test_metrics_add_up_every_worker(workdir: Path, database_url: str) -> None:
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale file from a previous run")
    env = _server_env(database_url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), LOG_LEVEL="WARNING")
    server = AppProcess(env, workdir / "server.log", workdir=workdir, workers=2)
    try:
        server.wait_ready()
        for _ in range(40):  # a new connection each time, so the kernel spreads them over the workers
            assert httpx.get(f"{server.base_url}/health/live", timeout=5).status_code == 200
        deadline = time.monotonic() + UNBOUNDED_SECONDS
        while len({re.sub(r"\D", "", path.name) for path in metrics_dir.glob("*.db")}) < 2:
            assert time.monotonic() < deadline, "the second worker never wrote its metrics"
            time.sleep(0.1)
        _assert_process_series_add_up_over_workers(server)  # first scrape: one worker has not answered any
        series = 'conduit_http_requests_total{method="GET",route="/health/live",status="200"}'
        for _ in range(6):  # whichever worker answers the scrape reports the sum
            text = httpx.get(f"{server.base_url}/metrics", timeout=5).text
            counts = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)]
            assert counts and counts[0] >= 40, text
        assert not (metrics_dir / "counter_999999.db").exists(), "stale metrics of a previous run were kept"
    finally:
        server.stop()


def _workers_cpu_seconds(server: AppProcess) -> list[float]:
    times = [child.cpu_times() for child in psutil.Process(server.process.pid).children()]
    return [t.user + t.system for t in times]


def _assert_process_series_add_up_over_workers(server: AppProcess) -> None:
    """process_cpu_seconds_total is the sum over the workers (each copies its own figure at start and
    every few seconds, the scraping worker again at the scrape): near the sum of their CPU times,
    which one worker's figure (about half) is not, and never above it."""
    before = _workers_cpu_seconds(server)
    assert len(before) >= 2, "the server started fewer than two workers"
    text = httpx.get(f"{server.base_url}/metrics", timeout=5).text
    after = _workers_cpu_seconds(server)
    samples = {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    cpu = samples[("process_cpu_seconds_total", ())]
    assert 0.75 * sum(before) < cpu <= sum(after) + 0.01, (before, cpu, after)
    assert samples[("process_resident_memory_bytes", ())] > 0
    assert samples[("process_start_time_seconds", ())] > 0
    assert samples[("python_gc_objects_collected_total", ("0",))] > 0
    assert any(name == "python_info" for name, _ in samples)
