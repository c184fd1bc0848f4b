"""compare.py must flag an injected regression, only beyond the noise margin, and only on endpoints
with enough requests to be a measurement."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from loadtests import compare

FIELDS = ["Type", "Name", "Request Count", "Failure Count", "50%", "95%", "99%", "Requests/s"]
# (method, name, p95 ms, requests/s, requests); p50 is half the p95 and p99 twice it.
Spec = tuple[str, str, float, float, int]


def _write(folder: Path, rows: list[Spec]) -> Path:
    folder.mkdir()
    with (folder / "locust_stats.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for method, name, p95, rps, requests in rows:
            writer.writerow(
                {
                    "Type": method,
                    "Name": name,
                    "Request Count": requests,
                    "Failure Count": 0,
                    "50%": p95 / 2,
                    "95%": p95,
                    "99%": p95 * 2,
                    "Requests/s": rps,
                }
            )
    return folder


BASE: list[Spec] = [
    ("GET", "/api/articles", 40.0, 100.0, 1000),
    ("GET", "/api/tags", 10.0, 50.0, 500),
    ("", "Aggregated", 30.0, 150.0, 1500),
]


def test_identical_runs_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", BASE)
    assert compare.main([str(base), str(current)]) == 0
    out = capsys.readouterr().out
    assert "no regression beyond 25% of throughput or 100% and 20 ms of p95/p99 in 3 compared endpoint(s)" in out


def test_injected_latency_regression_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", [("GET", "/api/articles", 100.0, 100.0, 1000), *BASE[1:]])  # +150%
    assert compare.main([str(base), str(current)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION: p95 40 -> 100 ms; p99 80 -> 200 ms" in out
    assert "1 of 3 compared endpoint(s) regressed" in out


def test_injected_throughput_drop_is_flagged(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", [*BASE[:2], ("", "Aggregated", 30.0, 100.0, 1500)])  # -33% req/s
    changes = compare.compare(compare.read_stats(base), compare.read_stats(current), compare.Noise())
    assert [(c.endpoint, c.regressions) for c in changes if c.regressions] == [
        ("Aggregated", ("throughput 150.0 -> 100.0 req/s",))
    ]


def test_changes_inside_the_margins_are_noise(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", [("GET", "/api/articles", 79.0, 76.0, 1000), *BASE[1:]])  # +97%, -24%
    assert compare.main([str(base), str(current)]) == 0
    assert compare.main([str(base), str(current), "--margin", "0.20"]) == 1
    assert compare.main([str(base), str(current), "--latency-margin", "0.5"]) == 1


def test_a_latency_must_also_grow_by_min_delta_ms(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", [("GET", "/api/tags", 10.0, 50.0, 500)])
    current = _write(tmp_path / "current", [("GET", "/api/tags", 25.0, 50.0, 500)])  # +150% of the p95, 15 ms
    assert compare.main([str(base), str(current)]) == 0
    assert compare.main([str(base), str(current), "--min-delta-ms", "10"]) == 1


def test_a_percentile_needs_ten_requests_beyond_it(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", [("GET", "/api/tags", 100.0, 50.0, 199)])
    slower = _write(tmp_path / "slower", [("GET", "/api/tags", 400.0, 50.0, 199)])
    assert compare.main([str(base), str(slower)]) == 0  # p95 of 199 requests: 9 beyond it
    base = _write(tmp_path / "base200", [("GET", "/api/tags", 100.0, 50.0, 200)])
    slower = _write(tmp_path / "slower200", [("GET", "/api/tags", 400.0, 50.0, 200)])
    changes = compare.compare(compare.read_stats(base), compare.read_stats(slower), compare.Noise())
    assert changes[0].regressions == ("p95 100 -> 400 ms",)  # and not p99: 2 requests beyond it


def test_endpoints_with_too_few_requests_are_named_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Four requests: the throughput halved, and it means nothing.
    base = _write(tmp_path / "base", [*BASE, ("POST", "/api/users", 100.0, 0.4, 4)])
    current = _write(tmp_path / "current", [*BASE, ("POST", "/api/users", 200.0, 0.2, 150)])
    assert compare.main([str(base), str(current)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"POST /api/users +4/150  not compared: fewer than 100 requests", out)
    assert "1 endpoint(s) not compared, fewer than 100 requests in a run (--min-requests): POST /api/users" in out
    assert compare.main([str(base), str(current), "--min-requests", "4"]) == 1
