"""`make bench-observability`: what request ids, the request log and metrics cost in throughput.

The trivial endpoint (/health/live) is served by `python -m service.cli serve` (one worker, the
production server) twice per round: with REQUEST_LOG_ENABLED and METRICS_ENABLED on (JSON log
lines written to a file) and with both off (the observability wrapper is then not installed).
A small keep-alive HTTP/1.1 client on asyncio drives it; with two or more CPUs the server and the
client are pinned to different ones.

It prints, for each run, the requests/s and the server's CPU time per request (from /proc). The
gate uses CPU time: one saturated worker serves 1 / (CPU time per request) requests/s, so the
throughput cost is 1 - cpu_off / cpu_on. Wall-clock requests/s is printed too, but on a shared
machine identical runs differ by a third, which would make a 20% gate a coin toss. Exits 1 when
the overhead exceeds --max-overhead percent (20 by default).

    python -m loadtests.bench.observability [--duration 4] [--rounds 3] [--connections 32] [--max-overhead 20]
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
from collections.abc import Iterator, Sequence
from pathlib import Path

from deploy.processes import free_port, stop, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: bench\r\n\r\n"


# Mode -> (METRICS_ENABLED, REQUEST_LOG_ENABLED); "metrics" and "log" only with --split.
MODES = {"off": ("false", "false"), "on": ("true", "true"), "metrics": ("true", "false"), "log": ("false", "true")}


@contextlib.contextmanager
def server(workdir: Path, mode: str) -> Iterator[tuple[int, int, Path]]:
    port = free_port()
    log_path = workdir / f"server-{mode}-{port}.log"
    metrics_enabled, request_log_enabled = MODES[mode]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "production",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdef",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
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
        wait_for_http(f"http://127.0.0.1:{port}/health/live", process, log_path)
        yield port, process.pid, log_path
    finally:
        stop(process, timeout=30)


async def _connection(port: int, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < until:
            writer.write(REQUEST)
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


async def measure(port: int, pid: int, connections: int, seconds: float) -> tuple[float, float]:
    """(requests/s, server CPU microseconds per request) over `seconds`, after a one-second warm-up."""
    await asyncio.gather(*(_connection(port, time.monotonic() + 1.0, []) for _ in range(connections)))
    counts: list[int] = []
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*(_connection(port, started + seconds, counts) for _ in range(connections)))
    elapsed, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
    return sum(counts) / elapsed, cpu / sum(counts) * 1e6


def run(duration: float, rounds: int, connections: int, modes: Sequence[str]) -> dict[str, list[tuple[float, float]]]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})  # the client on CPU 1, the server on CPU 0
    results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="conduit-bench-") as tmp:
        workdir = Path(tmp)
        for round_number in range(1, rounds + 1):
            for mode in modes:  # alternated, so drift in machine load hits every mode alike
                with server(workdir, mode) as (port, pid, log_path):
                    rate, cpu = asyncio.run(measure(port, pid, connections, duration))
                    lines = sum(1 for line in log_path.read_text().splitlines() if '"event":"request"' in line)
                results[mode].append((rate, cpu))
                print(
                    f"round {round_number} {mode:>7}: {rate:7.0f} requests/s, {cpu:6.1f} us CPU per request"
                    f" ({lines} request log lines)"
                )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.observability", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds measured per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-overhead", type=float, default=20.0, help="percent of throughput")
    parser.add_argument("--split", action="store_true", help="also measure metrics alone and the log alone")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()  # a faster client, so the server is what saturates
    except ImportError:
        pass
    modes = ("off", "on", "metrics", "log") if args.split else ("off", "on")
    results = run(args.duration, args.rounds, args.connections, modes)
    rate_off, rate_on = (statistics.median(rate for rate, _ in results[mode]) for mode in ("off", "on"))
    cpu_off, cpu_on = (statistics.median(cpu for _, cpu in results[mode]) for mode in ("off", "on"))
    overhead = (1 - cpu_off / cpu_on) * 100
    for mode in modes[2:]:
        cpu = statistics.median(cpu for _, cpu in results[mode])
        print(f"{mode} alone: {cpu - cpu_off:+.1f} us CPU per request")
    print(f"off (no request ids, request log, metrics): {rate_off:7.0f} requests/s, {cpu_off:6.1f} us CPU/request")
    print(f"on  (all three, JSON lines to a file):      {rate_on:7.0f} requests/s, {cpu_on:6.1f} us CPU/request")
    print(f"wall-clock requests/s, on vs off: {(rate_on / rate_off - 1) * 100:+.1f}% (noisy on a shared machine)")
    print(
        f"overhead: {overhead:.1f}% of one worker's throughput ({cpu_on - cpu_off:.1f} us CPU per request);"
        f" budget {args.max_overhead:.0f}%"
    )
    if overhead > args.max_overhead:
        print("FAIL: observability costs more than the budget")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
