"""The gate evaluation and the named shapes, without running Locust."""

from __future__ import annotations

import pytest

from loadtests import gates, shapes
from loadtests.gates import EndpointStats


def _stats(endpoint: str, p95: float = 10, p99: float = 20, requests: int = 100, failures: int = 0) -> EndpointStats:
    return EndpointStats(endpoint, requests, failures, 5, p95, p99, 10.0)


def test_committed_gates_parse_and_group_endpoints() -> None:
    config = gates.load_gates()
    assert config.group_of("POST /api/users/login").name == "auth"  # type: ignore[union-attr]
    assert config.group_of("DELETE /api/articles/[slug]/favorite").name == "writes"  # type: ignore[union-attr]
    assert config.group_of("GET /api/articles/[slug]").name == "reads"  # type: ignore[union-attr]


def test_a_healthy_run_passes() -> None:
    assert gates.evaluate(gates.load_gates(), [_stats("GET /api/articles")]).passed


def test_each_failed_threshold_is_named() -> None:
    config = gates.load_gates()
    verdict = gates.evaluate(
        config,
        [_stats("GET /api/articles", p95=900, p99=5000, failures=10), _stats("POST /api/users/login", p99=3500)],
    )
    assert not verdict.passed
    text = "\n".join(verdict.failures)
    assert "max_error_ratio" in text
    assert "reads.p95_ms: GET /api/articles 900 ms > 500 ms" in text
    assert "reads.p99_ms" in text
    assert "auth.p99_ms: POST /api/users/login" in text


def test_an_empty_run_fails() -> None:
    verdict = gates.evaluate(gates.load_gates(), [_stats("GET /api/tags", requests=3)])
    assert verdict.failures == ["min_requests: 3 requests < 50"]


def test_behaviour_only_ignores_the_budgets_a_slow_machine_misses() -> None:
    slow = [_stats("GET /api/articles", p95=9000, p99=20000, requests=3)]
    assert gates.evaluate(gates.load_gates(), slow).failures != []
    assert gates.evaluate(gates.load_gates(), slow, enforce_budgets=False).passed


def test_behaviour_only_still_gates_errors_and_an_empty_run() -> None:
    config = gates.load_gates()
    failing = gates.evaluate(config, [_stats("GET /api/articles", failures=10)], enforce_budgets=False)
    assert [f.split(":")[0] for f in failing.failures] == ["max_error_ratio"]
    assert gates.evaluate(config, [], enforce_budgets=False).failures == ["min_requests: 0 requests < 1"]


@pytest.mark.parametrize("name", ["smoke", "ramp", "spike", "soak"])
def test_every_shape_is_bounded_and_stops(name: str) -> None:
    plan = shapes.stages(name, {"LOAD_USERS_MAX": "100", "LOAD_SOAK_MINUTES": "10"})
    assert all(stage.users <= 100 for stage in plan)
    assert shapes.duration(plan) <= 600
    assert shapes.at(plan, 0) is not None
    assert shapes.at(plan, shapes.duration(plan)) is None


def test_smoke_stays_short_whatever_is_asked() -> None:
    assert shapes.duration(shapes.stages("smoke", {"LOAD_SMOKE_SECONDS": "3600"})) == 60


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(shapes.UnknownShape, match="smoke, ramp, spike, soak"):
        shapes.stages("stampede", {})
