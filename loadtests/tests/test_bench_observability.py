"""`make bench-observability` (loadtests/bench/observability.py): the share it reports and gates on."""

from __future__ import annotations

import pytest

from loadtests.bench import observability


def test_the_share_is_the_trivial_difference_over_the_article_list() -> None:
    results: observability.Results = {
        ("off", "article list"): [(500.0, 2000.0), (480.0, 2200.0), (510.0, 1900.0)],
        ("on", "article list"): [(490.0, 1800.0), (470.0, 2050.0), (500.0, 2100.0)],  # noise: less than off
        ("off", "trivial"): [(8000.0, 100.0), (7000.0, 110.0), (7500.0, 90.0)],
        ("on", "trivial"): [(7000.0, 120.0), (6000.0, 130.0), (6500.0, 125.0)],
    }
    lines, share = observability.summarize(results, ("off", "on"))
    assert share == pytest.approx((125.0 - 100.0) / 2050.0 * 100)
    assert lines[-1] == "observability: 25.0 us CPU per request, 1.2% of an article list's CPU"
    assert "+25.0 us" in lines[1]
    assert "20.0% of its throughput" in lines[1]
    assert "(runs: 1800.0 to 2200.0 us)" in lines[0]


def test_split_modes_are_reported_against_off() -> None:
    results: observability.Results = {
        (mode, endpoint): [(1.0, cpu)]
        for mode, cpu in (("off", 100.0), ("on", 120.0), ("metrics", 108.0), ("log", 111.0))
        for endpoint in observability.ENDPOINTS
    }
    lines, _ = observability.summarize(results, ("off", "on", "metrics", "log"))
    assert lines.count(f"{'':>14}metrics alone: +8.0 us CPU/request") == 2
    assert lines.count(f"{'':>14}log alone: +11.0 us CPU/request") == 2


def test_the_request_names_the_path() -> None:
    assert observability.request_bytes("/api/articles?limit=20").startswith(b"GET /api/articles?limit=20 HTTP/1.1\r\n")


def test_in_process_costs_time_the_request_line_and_the_request_metrics() -> None:
    costs = observability.in_process_costs(calls=20)
    assert set(costs) == {"request line", "request metrics"}
    assert all(cost > 0 for cost in costs.values())
