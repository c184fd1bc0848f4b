"""The Prometheus rules, configuration and Grafana dashboard: valid, unit-tested, and about series that exist.

`promtool` (Debian's `prometheus` package) checks and unit-tests the rules; without it those tests
skip, unless REQUIRE_SERVICES=1. The PromQL of the rules and the dashboard is parsed here, so a
metric renamed in service/ops/metrics.py, or a typo in a panel, fails the suite instead of leaving
an empty graph or an alert that can never fire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.process_collector import ProcessCollector

from deploy.monitoring import (
    CONFIG_FILE,
    ROOT,
    RULES_DIR,
    native_prometheus_config,
    prepare_prometheus,
    promtool,
    promtool_binary,
)
from service.app import create_app
from service.cli import migrate
from tests.conftest import skip_or_fail
from tests.docs.markdown_links import Link, problem_with
from tests.support import make_settings

RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
RULE_TESTS = sorted(Path(__file__).parent.glob("*_test.yml"))
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
# What Grafana puts in a query before sending it, with a value Prometheus accepts.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
# Series that come from Prometheus itself, not from a target.
PROMETHEUS_SERIES = {"up"}


@pytest.fixture(scope="module")
def require_promtool() -> None:
    if promtool_binary() is None:
        skip_or_fail("promtool is not installed (Debian/Ubuntu: apt-get install prometheus)")


def rules() -> Iterator[dict[str, Any]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            yield from group["rules"]


def metric_names(expr: promql_parser.Expr) -> set[str]:
    """Every metric a PromQL expression selects."""
    if isinstance(expr, promql_parser.VectorSelector):
        if expr.name:
            return {expr.name}
        return {m.value for m in expr.matchers.matchers if m.name == "__name__"}
    children = [getattr(expr, name, None) for name in ("expr", "param", "lhs", "rhs", "vector_selector")]
    children += getattr(expr, "args", None) or []
    return {name for child in children if isinstance(child, promql_parser.Expr) for name in metric_names(child)}


def dashboard_queries(path: Path) -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables filled in) for every query of a dashboard."""
    queries = []
    for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append((panel["title"], expr))
    return queries


@pytest.fixture(scope="module")
def exposed_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The sample names of the app's /metrics after one request, plus prometheus-client's process
    series (the process collector's) and Prometheus's own."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('metrics') / 'conduit.db'}"
    migrate(url)
    with TestClient(create_app(make_settings(url))) as client:
        assert client.get("/api/tags").status_code == 200
        text = client.get("/metrics").text
    names = {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}
    process = {sample.name for family in ProcessCollector(registry=None).collect() for sample in family.samples}
    assert "process_start_time_seconds" in process
    return names | process | PROMETHEUS_SERIES


@pytest.fixture(scope="module")
def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


@pytest.mark.usefixtures("require_promtool")
def test_promtool_accepts_the_rules() -> None:
    assert RULE_FILES
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("require_promtool")
@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=[p.name for p in RULE_TESTS])
def test_the_rules_unit_tests_pass(rule_test: Path) -> None:
    result = promtool("test", "rules", str(rule_test))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("require_promtool")
def test_every_alert_has_a_unit_test() -> None:
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts - tested == set(), "alerts no promtool test sees firing"


@pytest.mark.usefixtures("require_promtool")
def test_promtool_accepts_the_compose_and_the_native_configuration(tmp_path: Path) -> None:
    native = prepare_prometheus(tmp_path, (8381, 8382), 8383)
    for config in (CONFIG_FILE, native):
        result = promtool("check", "config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in promtool("check", "config", str(native)).stdout


def test_the_native_configuration_scrapes_each_replica_with_the_rules_of_the_repository() -> None:
    config = native_prometheus_config((8381, 8382, 8383), 8384)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["conduit"]["static_configs"] == [
        {"targets": ["127.0.0.1:8381", "127.0.0.1:8382", "127.0.0.1:8383"]},
    ]
    assert "dns_sd_configs" not in jobs["conduit"]
    assert config["rule_files"] == [str(RULES_DIR / "*.yml")]


def test_rules_select_only_series_the_app_exposes(exposed_names: set[str], recorded_names: set[str]) -> None:
    unknown = {
        rule.get("alert") or rule["record"]: metric_names(promql_parser.parse(rule["expr"]))
        - exposed_names
        - recorded_names
        for rule in rules()
    }
    assert {name: names for name, names in unknown.items() if names} == {}


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboard_queries_parse_and_select_only_exposed_or_recorded_series(
    dashboard: Path, exposed_names: set[str], recorded_names: set[str]
) -> None:
    queries = dashboard_queries(dashboard)
    assert len(queries) >= 10
    unknown = {
        f"{title}: {expr}": sorted(metric_names(promql_parser.parse(expr)) - exposed_names - recorded_names)
        for title, expr in queries
    }
    assert {query: names for query, names in unknown.items() if names} == {}


def test_the_dashboard_covers_traffic_errors_latency_pool_and_in_flight() -> None:
    (dashboard,) = DASHBOARDS
    selected = {name for _, expr in dashboard_queries(dashboard) for name in metric_names(promql_parser.parse(expr))}
    assert {
        "instance:conduit_http_requests:rate1m",
        "conduit_http_requests_total",
        "job:conduit_http_errors:ratio_rate5m",
        "job_route:conduit_http_request_duration_seconds:p50_5m",
        "job_route:conduit_http_request_duration_seconds:p95_5m",
        "job_route:conduit_http_request_duration_seconds:p99_5m",
        "conduit_db_pool_connections_in_use",
        "conduit_http_requests_in_flight",
    } <= selected


def test_the_dashboard_uses_the_provisioned_data_source() -> None:
    provisioned = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = provisioned["datasources"]
    for dashboard in DASHBOARDS:
        for panel in json.loads(dashboard.read_text(encoding="utf-8"))["panels"]:
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]
            assert {target["datasource"]["uid"] for target in panel["targets"]} == {source["uid"]}, panel["title"]


def test_every_alert_links_to_its_section_of_the_runbook() -> None:
    for rule in rules():
        if "alert" not in rule:
            continue
        url = rule["annotations"]["runbook_url"]
        assert url == f"docs/operations.md#{rule['alert'].lower()}", rule["alert"]
        # Resolved like a link in the README (the repository root), heading included.
        assert problem_with(Link(ROOT / "README.md", 0, rule["alert"], url)) is None, url
