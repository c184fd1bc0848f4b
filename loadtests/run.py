"""Run a named load shape, gated, into a timestamped report folder; optionally against a fresh local app.

    python -m loadtests.run --shape smoke --local-app          # `make load`
    python -m loadtests.run --shape ramp --host https://staging.example.org
    python -m loadtests.run --shape smoke --workers 2 --local-app   # master + 2 worker processes
    python -m loadtests.run --shape smoke --local-app --behaviour-only   # `make test`: no latency gate

The folder (reports/load/<UTC time>-<shape>/) gets Locust's CSV files and HTML report, summary.json
(the gate verdict and the workers that reported in) and chart.png. The exit code is Locust's: 0 when
every gate passed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from deploy import processes
from loadtests import chart, shapes

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
PORT_RANGE = range(8200, 8300)  # this suite's ports; anything in use is skipped


def _shuffled(ports: range) -> list[int]:
    """The range in random order: runs started at once (other checkouts) then rarely want the same port."""
    return random.sample(ports, len(ports))


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return env


@contextlib.contextmanager
def local_app(workdir: Path, seed_args: Sequence[str] = ()) -> Iterator[str]:
    """A fresh SQLite database, seeded for load, served on a free port until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "conduit.db"
    env = _env(DATABASE_URL=f"sqlite+aiosqlite:///{database}", ENVIRONMENT="test", LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "loadtests.seed", *seed_args], env=env, check=True, cwd=ROOT)
    port = int(os.environ["LOAD_PORT"]) if os.environ.get("LOAD_PORT") else None
    app = processes.start_app(env, workdir / "app.log", port=port, candidates=_shuffled(PORT_RANGE))
    try:
        print(f"app: {app.base_url} (log {app.log})")
        yield app.base_url
    finally:
        app.stop()
        for leftover in workdir.glob("conduit.db*"):  # the app log stays; the throwaway database goes
            leftover.unlink()


def run_locust(host: str, shape: str, out: Path, workers: int, enforce_budgets: bool = True) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = _env(
        LOAD_HOST=host,
        LOAD_SHAPE=shape,
        LOAD_SUMMARY_JSON=str(out / "summary.json"),
        LOAD_BUDGETS="enforce" if enforce_budgets else "report",
    )
    common = ["-f", str(LOCUSTFILE), "--host", host]
    reports = ["--csv", str(out / "locust"), "--csv-full-history", "--html", str(out / "report.html")]
    master = [
        sys.executable, "-m", "locust", *common, "--headless", "--only-summary", "--exit-code-on-error", "1",
        "--stop-timeout", "5", *reports,
    ]  # fmt: skip
    if workers == 0:
        return subprocess.run(master, env=env, cwd=ROOT, check=False).returncode
    port = processes.free_port(_shuffled(PORT_RANGE))
    master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    master += ["--expect-workers", str(workers), "--expect-workers-max-wait", "30"]
    master_process = subprocess.Popen(master, env=env, cwd=ROOT)
    worker_command = [sys.executable, "-m", "locust", *common, "--worker", "--master-port", str(port)]
    worker_processes = [
        subprocess.Popen(worker_command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        return master_process.wait(timeout=shapes.duration(shapes.stages(shape)) + 120)
    finally:
        for process in (*worker_processes, master_process):
            if process.poll() is None:
                process.terminate()
        for process in worker_processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default=os.environ.get("LOAD_SHAPE", "smoke"))
    parser.add_argument("--host", default=os.environ.get("LOAD_HOST", "http://127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=0, help="Locust worker processes (0: one local process)")
    parser.add_argument("--local-app", action="store_true", help="start the app on a fresh seeded SQLite database")
    parser.add_argument("--out", type=Path, help="report folder (default reports/load/<UTC time>-<shape>)")
    parser.add_argument(
        "--behaviour-only",
        action="store_true",
        help="gate on errors only; print the latency figures without judging them (a busy machine cannot fail it)",
    )
    args = parser.parse_args(argv)
    shapes.stages(args.shape)  # an unknown shape fails here, before anything starts
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-{args.workers}workers" if args.workers else ""
    out: Path = args.out or ROOT / "reports" / "load" / f"{stamp}-{args.shape}{suffix}"
    with contextlib.ExitStack() as stack:
        host = stack.enter_context(local_app(ROOT / "var" / "load" / stamp)) if args.local_app else args.host
        code = run_locust(host, args.shape, out, args.workers, enforce_budgets=not args.behaviour_only)
    history = out / "locust_stats_history.csv"
    if history.exists():
        with contextlib.suppress(ValueError):
            chart.draw(history, out / "chart.png")
    print(f"reports: {out} (report.html, chart.png, locust_stats.csv, summary.json); exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
