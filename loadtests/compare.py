"""Compare two load runs endpoint by endpoint; exit 1 on a regression beyond the noise margins.

    python -m loadtests.compare BASE CURRENT [--margin 0.25] [--latency-margin 1.0] [--min-requests 100]

BASE and CURRENT are run folders (reports/load/<run>/) or their `*_stats.csv` files. A regression
is a throughput that fell by more than --margin, or a p95 or p99 that grew by more than
--latency-margin *and* by more than --min-delta-ms (12 -> 30 ms is +150% and still noise).
An endpoint with fewer than --min-requests requests in either run is left out and named: its
figures are a handful of samples, not a measurement. A percentile is compared only when at least
TAIL_SAMPLES requests lie beyond it in both runs (p95: 200 requests, p99: 1,000), for the same
reason. Only runs of the same shape, users and think times are comparable (loadtests/README.md).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Smoke runs of the same commit on a shared two-core machine stayed inside these (README): their
# throughput, set by the think times, moved by about 10%; their latencies, set by whatever else
# the machine ran, by up to twice.
DEFAULT_MARGIN = 0.25
DEFAULT_LATENCY_MARGIN = 1.0
DEFAULT_MIN_REQUESTS = 100
DEFAULT_MIN_DELTA_MS = 20.0
TAIL_SAMPLES = 10
PERCENTILES = (("p95", "95%", 0.95), ("p99", "99%", 0.99))


@dataclass(frozen=True, slots=True)
class Row:
    requests: int
    rps: float
    percentiles_ms: dict[str, float]  # "p95", "p99"


@dataclass(frozen=True, slots=True)
class Change:
    endpoint: str
    base: Row | None
    current: Row | None
    regressions: tuple[str, ...]
    too_few_requests: bool = False


@dataclass(frozen=True, slots=True)
class Noise:
    """What a change must exceed to count: a share of the base figure, and for latencies milliseconds too."""

    margin: float = DEFAULT_MARGIN
    latency_margin: float = DEFAULT_LATENCY_MARGIN
    min_requests: int = DEFAULT_MIN_REQUESTS
    min_delta_ms: float = DEFAULT_MIN_DELTA_MS


def _stats_csv(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*_stats.csv"))
        if not found:
            raise FileNotFoundError(f"no *_stats.csv in {path}")
        return found[0]
    return path


def read_stats(path: Path) -> dict[str, Row]:
    """Rows per "METHOD name" (and "Aggregated"), from Locust's stats CSV."""
    rows: dict[str, Row] = {}
    with _stats_csv(path).open(newline="") as handle:
        for record in csv.DictReader(handle):
            key = "Aggregated" if record["Name"] == "Aggregated" else f"{record['Type']} {record['Name']}"
            percentiles = {name: float(record[column] or 0) for name, column, _share in PERCENTILES}
            rows[key] = Row(int(record["Request Count"]), float(record["Requests/s"]), percentiles)
    return rows


def regressions(before: Row, after: Row, noise: Noise) -> list[str]:
    found = []
    requests = min(before.requests, after.requests)
    for name, _column, share in PERCENTILES:
        if requests * (1 - share) < TAIL_SAMPLES - 1e-9:
            continue  # a p99 of 300 requests is the third slowest one: not a measurement
        old, new = before.percentiles_ms[name], after.percentiles_ms[name]
        if old > 0 and new > old * (1 + noise.latency_margin) and new - old > noise.min_delta_ms:
            found.append(f"{name} {old:.0f} -> {new:.0f} ms")
    if before.rps > 0 and after.rps < before.rps * (1 - noise.margin):
        found.append(f"throughput {before.rps:.1f} -> {after.rps:.1f} req/s")
    return found


def compare(base: dict[str, Row], current: dict[str, Row], noise: Noise) -> list[Change]:
    changes = []
    for endpoint in sorted(base.keys() | current.keys()):
        before, after = base.get(endpoint), current.get(endpoint)
        if before and after and min(before.requests, after.requests) < noise.min_requests:
            changes.append(Change(endpoint, before, after, (), too_few_requests=True))
        elif before and after:
            changes.append(Change(endpoint, before, after, tuple(regressions(before, after, noise))))
        else:
            changes.append(Change(endpoint, before, after, ()))
    return changes


def _pct(before: float, after: float) -> str:
    return f"{(after - before) / before:+.0%}" if before else "n/a"


def render(changes: Sequence[Change], noise: Noise) -> str:
    header = (
        f"{'endpoint':<44} {'reqs':>11} {'p95 base':>9} {'p95 now':>8} {'change':>7} "
        f"{'rps base':>9} {'rps now':>8} {'change':>7}"
    )
    lines = [header, "-" * len(header)]
    for c in changes:
        if c.base is None or c.current is None:
            lines.append(f"{c.endpoint:<44} {'only in ' + ('current' if c.base is None else 'base'):>11}")
            continue
        requests = f"{c.base.requests}/{c.current.requests}"
        if c.too_few_requests:
            lines.append(f"{c.endpoint:<44} {requests:>11}  not compared: fewer than {noise.min_requests} requests")
            continue
        before, after = c.base.percentiles_ms["p95"], c.current.percentiles_ms["p95"]
        flag = "  REGRESSION: " + "; ".join(c.regressions) if c.regressions else ""
        lines.append(
            f"{c.endpoint:<44} {requests:>11} {before:>9.0f} {after:>8.0f} {_pct(before, after):>7} "
            f"{c.base.rps:>9.1f} {c.current.rps:>8.1f} {_pct(c.base.rps, c.current.rps):>7}{flag}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.compare", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument(
        "--margin", type=float, default=DEFAULT_MARGIN, help="allowed fall of throughput, as a fraction (0.25 = 25%%)"
    )
    parser.add_argument(
        "--latency-margin",
        type=float,
        default=DEFAULT_LATENCY_MARGIN,
        help="allowed growth of p95 and p99, as a fraction (1.0 = twice as slow)",
    )
    parser.add_argument(
        "--min-requests",
        type=int,
        default=DEFAULT_MIN_REQUESTS,
        help="leave out endpoints with fewer requests than this in either run",
    )
    parser.add_argument(
        "--min-delta-ms",
        type=float,
        default=DEFAULT_MIN_DELTA_MS,
        help="a latency must also grow by more than this many milliseconds",
    )
    args = parser.parse_args(argv)
    noise = Noise(args.margin, args.latency_margin, args.min_requests, args.min_delta_ms)
    changes = compare(read_stats(args.base), read_stats(args.current), noise)
    print(render(changes, noise))
    skipped = [c.endpoint for c in changes if c.too_few_requests]
    if skipped:
        print(
            f"\n{len(skipped)} endpoint(s) not compared, fewer than {noise.min_requests} requests in a run "
            f"(--min-requests): {', '.join(skipped)}"
        )
    compared = sum(1 for c in changes if c.base and c.current and not c.too_few_requests)
    regressed = [c for c in changes if c.regressions]
    rule = f"{noise.margin:.0%} of throughput or {noise.latency_margin:.0%} and {noise.min_delta_ms:g} ms of p95/p99"
    if regressed:
        print(f"\n{len(regressed)} of {compared} compared endpoint(s) regressed by more than {rule}")
        return 1
    print(f"\nno regression beyond {rule} in {compared} compared endpoint(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
