"""Distributed mode: a master and two worker processes run the smoke shape against a local app,
and both workers report requests in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests import run


@pytest.mark.slow
def test_two_workers_report_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOAD_THINK_MIN", "0.2")
    monkeypatch.setenv("LOAD_THINK_MAX", "1.0")
    out = tmp_path / "report"
    code = run.main(["--shape", "smoke", "--workers", "2", "--local-app", "--behaviour-only", "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["workers"]) == 2, summary["workers"]
    assert all(requests > 0 for requests in summary["workers"].values()), summary["workers"]
    assert code == 0, summary["failures"]
    assert summary["budgets_enforced"] is False
    assert (out / "report.html").exists()
    assert (out / "chart.png").stat().st_size > 10_000
