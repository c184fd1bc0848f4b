"""A PNG of latency percentiles and throughput over time, from Locust's `*_stats_history.csv`.

python -m loadtests.chart reports/load/<run>/locust_stats_history.csv [out.png]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # the backend must be chosen before this import


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")  # Locust writes "N/A" before the first response


def draw(history_csv: Path, out: Path) -> Path:
    with history_csv.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    if not rows:
        raise ValueError(f"{history_csv} has no aggregated rows: did the run send any request?")
    start = int(rows[0]["Timestamp"])
    seconds = [int(row["Timestamp"]) - start for row in rows]
    figure, (latency, throughput) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for percentile in ("50%", "95%", "99%"):
        latency.plot(seconds, [_number(row[percentile]) for row in rows], label=f"p{percentile[:-1]}")
    latency.set_ylabel("latency (ms)")
    latency.legend(loc="upper left")
    latency.grid(alpha=0.3)
    throughput.plot(seconds, [_number(row["Requests/s"]) for row in rows], label="requests/s", color="tab:green")
    throughput.plot(seconds, [_number(row["Failures/s"]) for row in rows], label="failures/s", color="tab:red")
    users = throughput.twinx()
    users.plot(seconds, [_number(row["User Count"]) for row in rows], label="users", color="tab:gray", ls="--")
    users.set_ylabel("users")
    throughput.set_ylabel("requests/s")
    throughput.set_xlabel("seconds since start")
    throughput.legend(loc="upper left")
    throughput.grid(alpha=0.3)
    figure.suptitle(f"Load run {history_csv.parent.name}")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def main() -> None:
    history = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else history.with_name("chart.png")
    print(f"chart: {draw(history, out)}")


if __name__ == "__main__":
    main()
