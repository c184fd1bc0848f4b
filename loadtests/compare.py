"""Compare two load runs endpoint by endpoint; exit 1 on a regression beyond the margin.

    python -m loadtests.compare BASE CURRENT [--margin 0.10]

BASE and CURRENT are run folders (reports/load/<run>/) or their `*_stats.csv` files. A regression
is a p95 that grew, or a throughput that fell, by more than the margin (default 10%).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Row:
    p95_ms: float
    rps: float
    requests: int


@dataclass(frozen=True, slots=True)
class Change:
    endpoint: str
    base: Row | None
    current: Row | None
    regressions: tuple[str, ...]


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
            rows[key] = Row(float(record["95%"]), float(record["Requests/s"]), int(record["Request Count"]))
    return rows


def compare(base: dict[str, Row], current: dict[str, Row], margin: float) -> list[Change]:
    changes = []
    for endpoint in sorted(base.keys() | current.keys()):
        before, after = base.get(endpoint), current.get(endpoint)
        found: list[str] = []
        if before and after:
            if before.p95_ms > 0 and after.p95_ms > before.p95_ms * (1 + margin):
                found.append(f"p95 {before.p95_ms:.0f} -> {after.p95_ms:.0f} ms")
            if before.rps > 0 and after.rps < before.rps * (1 - margin):
                found.append(f"throughput {before.rps:.1f} -> {after.rps:.1f} req/s")
        changes.append(Change(endpoint, before, after, tuple(found)))
    return changes


def _pct(before: float, after: float) -> str:
    return f"{(after - before) / before:+.0%}" if before else "n/a"


def render(changes: Sequence[Change]) -> str:
    header = (
        f"{'endpoint':<48} {'p95 base':>9} {'p95 now':>8} {'change':>7} {'rps base':>9} {'rps now':>8} {'change':>7}"
    )
    lines = [header, "-" * len(header)]
    for c in changes:
        if c.base is None or c.current is None:
            lines.append(f"{c.endpoint:<48} {'only in ' + ('current' if c.base is None else 'base'):>9}")
            continue
        flag = "  REGRESSION: " + "; ".join(c.regressions) if c.regressions else ""
        lines.append(
            f"{c.endpoint:<48} {c.base.p95_ms:>9.0f} {c.current.p95_ms:>8.0f} "
            f"{_pct(c.base.p95_ms, c.current.p95_ms):>7} {c.base.rps:>9.1f} {c.current.rps:>8.1f} "
            f"{_pct(c.base.rps, c.current.rps):>7}{flag}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.compare", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--margin", type=float, default=0.10, help="allowed worsening, as a fraction (0.10 = 10%%)")
    args = parser.parse_args(argv)
    changes = compare(read_stats(args.base), read_stats(args.current), args.margin)
    print(render(changes))
    regressed = [c for c in changes if c.regressions]
    if regressed:
        print(f"\n{len(regressed)} endpoint(s) regressed by more than {args.margin:.0%}")
        return 1
    print(f"\nno regression beyond {args.margin:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
