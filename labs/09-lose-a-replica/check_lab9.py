"""Lab 9 check: the repository's rules tell the story of a replica killed under load.

The incident is replayed through Prometheus's own rule engine (`promtool test rules`, from
Debian's `prometheus` package): three replicas answer 10 requests/s each; at minute 10 the third
is killed, its scrapes fail and NGINX sends its share to the other two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.monitoring import RULES_DIR, native_prometheus_config, promtool, promtool_binary
from tests.conftest import skip_or_fail

REPLICAS = ("127.0.0.1:8381", "127.0.0.1:8382", "127.0.0.1:8383")
KILLED = REPLICAS[2]
BEFORE, AFTER = "9m", "16m"  # one minute before the kill, six after
ARTICLE_LIST_200 = 'method="GET", route="/api/articles", status="200"'


def incident() -> list[dict[str, str]]:
    """One sample a minute, as Prometheus scraped them (/metrics scrapes left out for brevity)."""
    series = []
    for instance in REPLICAS:
        labels = f'job="conduit", instance="{instance}"'
        if instance == KILLED:
            # Killed after the sample of minute 10: no more samples, its scrapes fail.
            requests, up = "0+600x10 stale", "1x10 0x10"
        else:
            # 600 requests a minute until the kill, then 900: its share of the killed one's traffic.
            requests, up = "0+600x10 6900+900x9", "1x20"
        series.append(
            {
                "series": f"conduit_http_requests_total{{{labels}, {ARTICLE_LIST_200}}}",
                "values": requests,
            }
        )
        series.append({"series": f"up{{{labels}}}", "values": up})
    return series


def replay(tmp_path: Path, case: dict[str, Any]) -> None:
    """Run one promtool test case on the incident against deploy/prometheus/rules/*.yml."""
    if promtool_binary() is None:
        skip_or_fail("promtool is not installed (Debian/Ubuntu: apt-get install prometheus)")
    test_file = tmp_path / "incident_test.yml"
    document = {
        "rule_files": [str(path) for path in sorted(RULES_DIR.glob("*.yml"))],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": incident(), **case}],
    }
    test_file.write_text(yaml.safe_dump(document, sort_keys=False))
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, f"promtool test rules says:\n{result.stdout}{result.stderr}"


def test_the_stack_scrapes_three_replicas_when_it_runs_three() -> None:
    config = native_prometheus_config(tuple(int(r.rsplit(":", 1)[1]) for r in REPLICAS), 8384)
    (conduit,) = [job for job in config["scrape_configs"] if job["job_name"] == "conduit"]
    assert conduit["static_configs"] == [{"targets": list(REPLICAS)}]


def test_the_killed_replica_pages_after_a_minute(tmp_path: Path) -> None:
    annotations = {
        "summary": f"replica {KILLED} does not answer /metrics",
        "description": "Prometheus could not scrape the replica for a minute; it is down or hung.",
        "runbook_url": "docs/operations.md#conduitreplicadown",
    }
    firing = {
        "exp_labels": {"job": "conduit", "instance": KILLED, "severity": "page"},
        "exp_annotations": annotations,
    }
    replay(
        tmp_path,
        {
            "alert_rule_test": [
                {"eval_time": BEFORE, "alertname": "ConduitReplicaDown", "exp_alerts": []},
                {"eval_time": AFTER, "alertname": "ConduitReplicaDown", "exp_alerts": [firing]},
            ]
        },
    )


def test_the_traffic_all_replicas_answered_is_recorded_and_held_after_the_kill(tmp_path: Path) -> None:
    """`job:conduit_http_requests:rate1m`: requests per second all replicas answered together."""
    name = "job:conduit_http_requests:rate1m"
    sample = [{"labels": f'{name}{{job="conduit"}}', "value": 30}]
    replay(
        tmp_path,
        {
            "promql_expr_test": [
                {"expr": name, "eval_time": BEFORE, "exp_samples": sample},
                {"expr": name, "eval_time": AFTER, "exp_samples": sample},
            ]
        },
    )


def test_each_replica_share_of_the_traffic_is_recorded(tmp_path: Path) -> None:
    """`instance:conduit_http_requests:share1m`: each replica's part of that total (0 to 1)."""
    name = "instance:conduit_http_requests:share1m"

    def shares(instances: tuple[str, ...], value: float) -> list[dict[str, Any]]:
        return [{"labels": f'{name}{{job="conduit", instance="{i}"}}', "value": value} for i in instances]

    replay(
        tmp_path,
        {
            "promql_expr_test": [
                {"expr": name, "eval_time": BEFORE, "exp_samples": shares(REPLICAS, 1 / 3)},
                {"expr": name, "eval_time": AFTER, "exp_samples": shares(REPLICAS[:2], 0.5)},
            ]
        },
    )


@pytest.mark.parametrize(
    "name",
    [
        "job:conduit_http_requests:rate1m",
        "instance:conduit_http_requests:share1m",
    ],
)
def test_the_new_rules_are_recording_rules_of_the_repository(name: str) -> None:
    records = {
        rule.get("record")
        for path in RULES_DIR.glob("*.yml")
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    }
    assert name in records, f"add a recording rule named {name} to deploy/prometheus/rules/conduit.yml"
