"""compare.py must flag an injected regression, and only beyond the margin."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from loadtests import compare

FIELDS = ["Type", "Name", "Request Count", "Failure Count", "95%", "Requests/s"]


def _write(folder: Path, rows: list[tuple[str, str, float, float]]) -> Path:
    folder.mkdir()
    with (folder / "locust_stats.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for method, name, p95, rps in rows:
            writer.writerow(
                {"Type": method, "Name": name, "Request Count": 100, "Failure Count": 0, "95%": p95, "Requests/s": rps}
            )
    return folder


BASE = [("GET", "/api/articles", 40.0, 100.0), ("GET", "/api/tags", 10.0, 50.0), ("", "Aggregated", 30.0, 150.0)]


def test_identical_runs_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", BASE)
    assert compare.main([str(base), str(current)]) == 0
    assert "no regression" in capsys.readouterr().out


def test_injected_p95_regression_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path / "base", BASE)
    slower = [("GET", "/api/articles", 48.0, 100.0), *BASE[1:]]  # +20% p95 on one endpoint
    current = _write(tmp_path / "current", slower)
    assert compare.main([str(base), str(current)]) == 1
    out = capsys.readouterr().out
    assert "GET /api/articles" in out
    assert "REGRESSION: p95 40 -> 48 ms" in out


def test_injected_throughput_drop_is_flagged(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", [*BASE[:2], ("", "Aggregated", 30.0, 120.0)])  # -20% req/s
    changes = compare.compare(compare.read_stats(base), compare.read_stats(current), margin=0.10)
    assert [c.endpoint for c in changes if c.regressions] == ["Aggregated"]


def test_margin_is_configurable(tmp_path: Path) -> None:
    base = _write(tmp_path / "base", BASE)
    current = _write(tmp_path / "current", [("GET", "/api/articles", 48.0, 100.0), *BASE[1:]])
    assert compare.main([str(base), str(current), "--margin", "0.25"]) == 0
