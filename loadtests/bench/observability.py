"""`make bench-observability`: what request ids, the request log and metrics cost in CPU per request.

Two endpoints: the article list (GET /api/articles?limit=20 on the `make bench` data set, the real
work: the rule is that observability costs at most 5% of it) and the trivial endpoint
(/health/live, where the cost weighs most). Both are served by `python -m service.cli serve` (one
worker, the production server) on the same freshly seeded database, in turn with REQUEST_LOG_ENABLED
and METRICS_ENABLED on (JSON log lines written to a file) and with both off (the observability
wrapper is then not installed). A small keep-alive HTTP/1.1 client on asyncio drives it; with two or
more CPUs the server and the client are pinned to different ones.

It prints, for each run, the requests/s and the server's CPU time per request (from /proc). The
figure that counts is CPU time: one saturated worker serves 1 / (CPU time per request) requests/s,
so the cost is 1 - cpu_off / cpu_on of its throughput. Wall-clock requests/s is printed too, but on
a shared machine identical runs differ by a third. Modes alternate within each round, in reverse
order every other round, so that drift in the machine's load hits them alike; the summary takes
medians over the rounds (use an even number of rounds). Exits 1 when
observability's CPU per request exceeds --max-overhead percent (5 by default) of the article list's
(see `summarize` for how that share is taken).

    python -m loadtests.bench.observability [--duration 4] [--rounds 4] [--connections 32]
                                            [--db sqlite|postgresql|mariadb] [--max-overhead 5] [--split]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator, Sequence
from pathlib import Path

from deploy.processes import free_port, stop, wait_for_http
from loadtests.bench.__main__ import bench_database, seed_arguments

ROOT = Path(__file__).resolve().parents[2]
# Endpoint -> path. The article list is what `make bench` calls "article list, anonymous, 20".
ENDPOINTS = {"article list": "/api/articles?limit=20", "trivial": "/health/live"}
# Mode -> (METRICS_ENABLED, REQUEST_LOG_ENABLED); "metrics" and "log" only with --split.
MODES = {"off": ("false", "false"), "on": ("true", "true"), "metrics": ("true", "false"), "log": ("false", "true")}
# (mode, endpoint) -> one (requests/s, server CPU microseconds per request) per round
Results = dict[tuple[str, str], list[tuple[float, float]]]


def request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: bench\r\n\r\n".encode()


@contextlib.contextmanager
def server(workdir: Path, mode: str, database_url: str) -> Iterator[tuple[int, int, Path]]:
    port = free_port()
    log_path = workdir / f"server-{mode}-{port}.log"
    metrics_enabled, request_log_enabled = MODES[mode]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "production",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdef",
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_ENABLED": metrics_enabled,
        "REQUEST_LOG_ENABLED": request_log_enabled,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []
    command = [*pin, sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "1"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health/ready", process, log_path)
        yield port, process.pid, log_path
    finally:
        stop(process, timeout=30)


async def _connection(port: int, request: bytes, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"unexpected answer: {head[:80]!r}")
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            done += 1
    finally:
        counts.append(done)
        writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(port: int, pid: int, path: str, connections: int, seconds: float) -> tuple[float, float]:
    """(requests/s, server CPU microseconds per request) over `seconds`, after a one-second warm-up."""
    request = request_bytes(path)
    await asyncio.gather(*(_connection(port, request, time.monotonic() + 1.0, []) for _ in range(connections)))
    counts: list[int] = []
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*(_connection(port, request, started + seconds, counts) for _ in range(connections)))
    elapsed, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
    return sum(counts) / elapsed, cpu / sum(counts) * 1e6


def run(database_url: str, duration: float, rounds: int, connections: int, modes: Sequence[str]) -> Results:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})  # the client on CPU 1, the server on CPU 0
    results: Results = {(mode, endpoint): [] for mode in modes for endpoint in ENDPOINTS}
    with tempfile.TemporaryDirectory(prefix="conduit-bench-obs-") as tmp:
        for round_number in range(1, rounds + 1):
            # Every mode in each round, in reverse order every other round: drift in the machine's
            # load over a round then favours no mode (always off before on measured on a rising load
            # as a cost of observability).
            for mode in modes if round_number % 2 else reversed(modes):
                with server(Path(tmp), mode, database_url) as (port, pid, log_path):
                    for endpoint, path in ENDPOINTS.items():
                        rate, cpu = asyncio.run(measure(port, pid, path, connections, duration))
                        results[(mode, endpoint)].append((rate, cpu))
                        label = f"round {round_number} {mode:>7} {endpoint:>12}"
                        print(f"{label}: {rate:6.0f} requests/s, {cpu:7.1f} us CPU")
                    lines = sum(1 for line in log_path.read_text().splitlines() if '"event":"request"' in line)
                print(f"round {round_number} {mode:>7}: {lines} request log lines")
    return results


def in_process_costs(calls: int = 20_000) -> dict[str, float]:
    """Microseconds per request of the request line (JSON, through a line-buffered stream as stderr
    is, to /dev/null) and of the request metrics, called in this process: the best of five timings,
    far steadier than whole runs on a shared machine. The wrapper around them is not included."""
    from service.ops import logs
    from service.ops.metrics import Metrics
    from service.settings import Settings

    environ = {"DATABASE_URL": "sqlite+aiosqlite:///:memory:", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    fields = {"request_id": "0" * 32, "method": "GET", "route": "/api/articles", "path": "/api/articles"}
    settings = Settings.from_env(environ, env_file=None)
    metrics = Metrics("bench")

    def request_line() -> None:
        logs.log_request("info", {**fields, "status": 200, "duration_ms": 2.13})

    def request_metrics() -> None:
        metrics.request_started()
        metrics.request_finished("GET", "/api/articles", 200, 0.00213)

    pieces = {"request line": request_line, "request metrics": request_metrics}
    with open(os.devnull, "w", buffering=1) as sink:
        logs.configure_logging(settings, stream=sink)
        try:
            return {
                name: min(timeit.repeat(call, number=calls, repeat=5)) * 1e6 / calls for name, call in pieces.items()
            }
        finally:
            logs.configure_logging(settings)  # back to stderr: the sink is about to close


def overhead_percent(cpu_off: float, cpu_on: float) -> float:
    """The share of a saturated worker's throughput that observability takes."""
    return (1 - cpu_off / cpu_on) * 100


def summarize(results: Results, modes: Sequence[str]) -> tuple[list[str], float]:
    """The summary lines, and observability's share of the article list's CPU in percent.

    The share is the trivial endpoint's difference (on - off) over the article list's CPU: the
    wrapper, the log line and the metrics do the same work whatever the handler did, and measured
    on the trivial endpoint that work stands out of a small, steady total. The article list's own
    on - off difference is printed too, but its runs vary by more than the whole cost."""
    cpu = {key: statistics.median(c for _, c in runs) for key, runs in results.items()}
    rate = {key: statistics.median(r for r, _ in runs) for key, runs in results.items()}
    lines = []
    for endpoint in ENDPOINTS:
        off, on = cpu[("off", endpoint)], cpu[("on", endpoint)]
        runs = sorted(c for mode in ("off", "on") for _, c in results[(mode, endpoint)])
        lines.append(
            f"{endpoint:>12}: off {off:7.1f} us CPU/request ({rate[('off', endpoint)]:5.0f} requests/s),"
            f" on {on:7.1f} us ({rate[('on', endpoint)]:5.0f} requests/s): {on - off:+6.1f} us,"
            f" {overhead_percent(off, on):5.1f}% of its throughput (runs: {runs[0]:.1f} to {runs[-1]:.1f} us)"
        )
        lines.extend(f"{'':>14}{mode} alone: {cpu[(mode, endpoint)] - off:+.1f} us CPU/request" for mode in modes[2:])
    cost = cpu[("on", "trivial")] - cpu[("off", "trivial")]
    share = cost / cpu[("on", "article list")] * 100
    lines.append(f"observability: {cost:.1f} us CPU per request, {share:.1f}% of an article list's CPU")
    return lines, share


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.observability", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds measured per endpoint and run")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "mariadb"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="data set size, as in make bench")
    parser.add_argument("--max-overhead", type=float, default=5.0, help="percent of the article list's CPU")
    parser.add_argument("--split", action="store_true", help="also measure metrics alone and the log alone")
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()  # a faster client, so the server is what saturates
    modes = ("off", "on", "metrics", "log") if args.split else ("off", "on")
    print(f"load average before: {os.getloadavg()}")
    with bench_database(args.db, seed_arguments(args.scale)) as database:
        results = run(database.url, args.duration, args.rounds, args.connections, modes)
    print(f"load average after:  {os.getloadavg()}")
    lines, share = summarize(results, modes)
    print("\n".join(lines))
    costs = in_process_costs()
    print("in-process, per request: " + ", ".join(f"{name} {cost:.1f} us" for name, cost in costs.items()))
    print(f"budget: {args.max_overhead:.0f}% of the article list's CPU")
    if share > args.max_overhead:
        print("FAIL: observability costs more than the budget")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
