"""Resident memory of a server's worker processes during a run (the soak's memory figures).

    python -m loadtests.memory PID [--interval 10] [--warmup 60] [--out rss.csv]

Samples the RSS of PID and its children until PID exits (or Ctrl-C), then prints the peak and the
growth from the end of the warm-up to the last sample, per process. Targets (docs/performance.md):
a worker stays under 200 MiB and grows less than 10% across a 10-minute soak.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

MIB = 1024 * 1024
RSS_LIMIT_MIB = 200
GROWTH_LIMIT = 0.10


def _tree(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def sample(pid: int, interval: float, out: Path | None) -> list[tuple[float, int, float]]:
    """(seconds since start, pid, RSS MiB) until the process exits."""
    root = psutil.Process(pid)
    started = time.monotonic()
    samples: list[tuple[float, int, float]] = []
    try:
        while root.is_running():
            now = time.monotonic() - started
            for process in _tree(root):
                try:
                    samples.append((now, process.pid, process.memory_info().rss / MIB))
                except psutil.NoSuchProcess:
                    continue
            time.sleep(interval)
    except (psutil.NoSuchProcess, KeyboardInterrupt):
        pass
    if out:
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["seconds", "pid", "rss_mib"])
            writer.writerows((f"{t:.0f}", p, f"{r:.1f}") for t, p, r in samples)
    return samples


def report(samples: Sequence[tuple[float, int, float]], warmup: float) -> str:
    lines = []
    for pid in sorted({p for _, p, _ in samples}):
        series = [(t, r) for t, p, r in samples if p == pid]
        settled = [r for t, r in series if t >= warmup] or [r for _, r in series]
        peak = max(r for _, r in series)
        growth = (settled[-1] - settled[0]) / settled[0] if settled[0] else 0.0
        ok = peak < RSS_LIMIT_MIB and growth < GROWTH_LIMIT
        lines.append(
            f"pid {pid}: start {series[0][1]:.1f} MiB, after warm-up {settled[0]:.1f}, end {settled[-1]:.1f}, "
            f"peak {peak:.1f} MiB, growth after warm-up {growth:+.1%} over {series[-1][0]:.0f} s "
            f"-> {'OK' if ok else 'OVER TARGET'} (< {RSS_LIMIT_MIB} MiB, < {GROWTH_LIMIT:.0%})"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.memory", description=__doc__.splitlines()[0])
    parser.add_argument("pid", type=int)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before growth is measured")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    print(report(sample(args.pid, args.interval, args.out), args.warmup))


if __name__ == "__main__":
    main()
