"""Hostile clients straight at the real server process: huge or endless heads, stalls, garbage.

Every answer must be the API's JSON error with `Connection: close`, the server must hang up, the
next client must be served, and the worker's memory must stay flat. The figures (RSS before, at
its peak during, and after each request; time to drop a stalled client) are printed at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from deploy.processes import AppProcess
from tests.raw_http import RawAnswer, exchange

MIB = 1 << 20
CLOCK_SECONDS = 1  # header and body timeouts of this server, so the stall tests are quick
HEAD = b"GET /health/live HTTP/1.1\r\nHost: x\r\n"
HEADER_TOO_LARGE = "request header section too large: the limit is 32768 bytes"
HOSTILE_REQUESTS = [
    ("64-mib-header", [HEAD + b"X-Big: ", b"a" * (64 * MIB), b"\r\n\r\n"], 431, HEADER_TOO_LARGE),
    ("8-mib-header", [HEAD + b"X-Big: ", b"a" * (8 * MIB), b"\r\n\r\n"], 431, HEADER_TOO_LARGE),
    (
        "10000-headers",  # the 101st ends within the first 1.5 KiB
        [HEAD + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n"],
        431,
        "too many request headers: the limit is 100",
    ),
    (
        "long-request-line",
        [b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\nHost: x\r\n\r\n"],
        414,
        "request line too long: the limit is 8192 bytes",
    ),
    ("header-without-colon", [HEAD + b"Bad Header\r\n\r\n"], 400, "malformed HTTP request"),
    ("nul-in-request-line", [b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n"], 400, "malformed HTTP request"),
    ("stalled-header", [HEAD + b"X-Slow: abc"], 408, "request header not received in time"),
    (
        "stalled-body",
        [b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"],
        408,
        "request body not received in time",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    workdir: Path = tmp_path_factory.mktemp("hostile")
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'hostile.db'}",  # only /health/live is served
        "LOG_LEVEL": "INFO",
        "SERVER_HEADER_TIMEOUT_SECONDS": str(CLOCK_SECONDS),
        "SERVER_BODY_TIMEOUT_SECONDS": str(CLOCK_SECONDS),
    }
    process = AppProcess(env, workdir / "server.log", workdir=workdir)
    try:
        process.wait_ready()
        for _ in range(20):  # warm up, so the baseline includes what any first requests allocate
            assert httpx.get(f"{process.base_url}/health/live", timeout=5).status_code == 200
        yield process
    finally:
        process.stop()
    assert "Traceback" not in process.output(), process.output()


@pytest.fixture(scope="module")
def baseline_rss(server: AppProcess) -> int:
    return int(psutil.Process(server.process.pid).memory_info().rss)


def measure_rss(pid: int, action: Callable[[], RawAnswer]) -> tuple[RawAnswer, int, int, int]:
    """Run `action` while sampling the process's RSS every 5 ms: (its result, before, peak, after)."""
    process = psutil.Process(pid)
    before = peak = int(process.memory_info().rss)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, int(process.memory_info().rss))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answer = action()
    finally:
        done.set()
        sampler.join()
    after = int(process.memory_info().rss)
    return answer, before, max(peak, after), after


@pytest.mark.parametrize(
    ("parts", "status", "message"),
    [pytest.param(parts, status, message, id=name) for name, parts, status, message in HOSTILE_REQUESTS],
)
def test_hostile_request_is_refused_in_json_and_costs_no_memory(
    server: AppProcess,
    baseline_rss: int,
    figures: dict[str, Any],
    request: pytest.FixtureRequest,
    parts: list[bytes],
    status: int,
    message: str,
) -> None:
    answer, before, peak, after = measure_rss(server.process.pid, lambda: exchange(server.port, *parts))
    name = request.node.callspec.id
    figures[f"hostile_{name}_rss_mib_before_peak_after"] = f"{before / MIB:.1f} / {peak / MIB:.1f} / {after / MIB:.1f}"
    figures[f"hostile_{name}_closed_after_seconds"] = answer.seconds

    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["connection"] == "close"
    assert answer.json() == {"errors": {"body": [message]}}
    assert answer.closed, "the server kept the connection open after refusing"
    assert answer.seconds < 15, "generous: the clocks are 1 s"
    assert httpx.get(f"{server.base_url}/health/live", timeout=5).status_code == 200
    assert peak - baseline_rss < 20 * MIB, f"RSS grew {(peak - baseline_rss) / MIB:.1f} MiB since the warm-up"


def test_a_client_dropped_mid_body_is_logged_and_counted_as_499_not_500(server: AppProcess) -> None:
    """The app learns of the hang-up as "client disconnected prematurely" (a 500 inside Litestar);
    counting it as a server error would let stalling clients set off 5xx alerts."""
    stalled = next(part for name, part, *_ in HOSTILE_REQUESTS if name == "stalled-body")
    assert exchange(server.port, *stalled).status == 408
    metrics = httpx.get(f"{server.base_url}/metrics", timeout=5).text
    assert 'status="500"' not in metrics
    assert 'method="POST",route="/api/users",status="499"' in metrics
