"""Request ids, the JSON request log, unexpected-error logging and /metrics, through the test client."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.ops.logs import configure_logging
from service.ops.metrics import PREFIX
from service.settings import Settings
from tests.support import auth, create_article, make_settings, register

Client = TestClient[Litestar]


class LoggedApp:
    """An app of its own (so its metrics start at zero) whose log lines land in `lines`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.stream = io.StringIO()
        configure_logging(settings, stream=self.stream)

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def logged(database_url: str) -> Iterator[LoggedApp]:
    settings = make_settings(database_url, log_format="json", log_level="INFO")
    logged_app = LoggedApp(settings)

    @get("/test-only/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("kaboom, a bug")

    logged_app.app.register(boom)
    yield logged_app
    configure_logging(make_settings(database_url))  # back to stderr for the other tests


@pytest.fixture
def logged_client(logged: LoggedApp) -> Iterator[Client]:
    with TestClient(logged.app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_request_id_is_taken_from_the_header_or_generated(client: Client) -> None:
    assert client.get("/health/live", headers={"X-Request-ID": "from-nginx-42"}).headers["x-request-id"] == (
        "from-nginx-42"
    )
    generated = client.get("/api/tags").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/api/tags").headers["x-request-id"] != generated
    # A header that could forge log lines or bloat the answer is replaced, not echoed.
    for hostile in ("two words", "x" * 200, "a\tb"):
        echoed = client.get("/api/tags", headers={"X-Request-ID": hostile}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    # Unknown paths and wrong methods too: they never reach Litestar's per-route middleware.
    assert "x-request-id" in client.get("/no/such/path").headers
    assert "x-request-id" in client.patch("/api/tags").headers


def test_one_json_line_per_request_with_ids_and_no_secrets(logged: LoggedApp, logged_client: Client) -> None:
    user = register(logged_client, "logger1", password="s3cret-password!")
    logged_client.post(
        "/api/users/login", json={"user": {"email": "logger1@example.com", "password": "wrong-password-1"}}
    )
    article = create_article(logged_client, user["token"], title="Logged article")
    response = logged_client.get(
        f"/api/articles/{article['slug']}", headers={**auth(user["token"]), "X-Request-ID": "trace-me-1"}
    )
    assert response.headers["x-request-id"] == "trace-me-1"

    lines = logged.lines
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) == 4  # sign-up, failed login, create, read: one line each
    line = next(line for line in requests if line["request_id"] == "trace-me-1")
    assert line["method"] == "GET"
    assert line["route"] == "/api/articles/{slug}"
    assert line["path"] == f"/api/articles/{article['slug']}"
    assert line["status"] == 200
    assert isinstance(line["user_id"], int) and line["user_id"] == requests[2]["user_id"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "info" and "timestamp" in line
    assert [line["status"] for line in requests] == [201, 401, 201, 200]
    assert "user_id" not in requests[1]  # the failed login knows no user
    text = logged.stream.getvalue()
    for secret in ("s3cret-password!", "wrong-password-1", "logger1@example.com", user["token"]):
        assert secret not in text


def test_unexpected_error_is_logged_once_with_traceback_and_request_id(
    logged: LoggedApp, logged_client: Client
) -> None:
    response = logged_client.get("/test-only/boom", headers={"X-Request-ID": "bug-report-7"})
    assert response.status_code == 500
    assert response.json() == {"errors": {"body": ["internal server error"]}}
    assert "kaboom" not in response.text  # no internals for the client
    errors = [line for line in logged.lines if line["event"] == "unhandled_error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "bug-report-7"
    assert "Traceback" in errors[0]["exception"] and "RuntimeError: kaboom, a bug" in errors[0]["exception"]
    request = next(line for line in logged.lines if line["event"] == "request")
    assert (request["request_id"], request["status"], request["level"]) == ("bug-report-7", 500, "warning")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_expose_requests_latency_in_flight_pool_and_build(logged: LoggedApp, logged_client: Client) -> None:
    user = register(logged_client, "metered")
    slug = create_article(logged_client, user["token"])["slug"]
    for _ in range(3):
        assert logged_client.get(f"/api/articles/{slug}").status_code == 200
    assert logged_client.get("/api/articles/missing-article").status_code == 404
    assert logged_client.get("/wp-login.php").status_code == 404

    response = logged_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    article = {"method": "GET", "route": "/api/articles/{slug}"}
    assert _value(samples, f"{PREFIX}_http_requests_total", **article, status="200") == 3
    assert _value(samples, f"{PREFIX}_http_requests_total", **article, status="404") == 1
    assert _value(samples, f"{PREFIX}_http_requests_total", method="POST", route="/api/articles", status="201") == 1
    # Unknown paths share one label value: a scanner cannot create a series per path.
    assert _value(samples, f"{PREFIX}_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert _value(samples, f"{PREFIX}_http_request_duration_seconds_count", **article, status="200") == 3
    total = _value(samples, f"{PREFIX}_http_request_duration_seconds_sum", **article, status="200")
    assert 0 < total < 10
    fastest = _value(samples, f"{PREFIX}_http_request_duration_seconds_bucket", **article, status="200", le="+Inf")
    assert fastest == 3
    assert _value(samples, f"{PREFIX}_http_requests_in_flight") == 1  # this scrape
    assert _value(samples, f"{PREFIX}_db_pool_connections_in_use") == 0
    assert _value(samples, f"{PREFIX}_db_pool_overflow_connections") == 0
    if not logged.settings.is_sqlite:
        assert _value(samples, f"{PREFIX}_db_pool_size") == logged.settings.db_pool_size
    assert not [name for name, _ in samples if name.endswith("_created")]  # as with several workers
    build = [key for key in samples if key[0] == f"{PREFIX}_build_info"]
    assert len(build) == 1 and dict(build[0][1])["version"]


def test_metrics_include_prometheus_clients_process_platform_and_gc_series(client: Client) -> None:
    samples = _samples(client.get("/metrics").text)  # parsed by prometheus-client's own parser
    assert _value(samples, "process_cpu_seconds_total") > 0
    assert _value(samples, "process_resident_memory_bytes") > 0
    assert _value(samples, "process_open_fds") > 0
    assert _value(samples, "python_gc_objects_collected_total", generation="0") >= 0
    assert _value(samples, "python_gc_collections_total", generation="2") >= 0
    assert [dict(labels)["implementation"] for name, labels in samples if name == "python_info"] == ["CPython"]


def test_switches_turn_metrics_and_the_request_log_off(database_url: str) -> None:
    quiet = create_app(make_settings(database_url, metrics_enabled=False, request_log_enabled=False))
    with TestClient(quiet) as client:
        assert client.get("/metrics").status_code == 404
        assert "x-request-id" not in client.get("/health/live").headers
    metrics_only = create_app(make_settings(database_url, request_log_enabled=False))
    with TestClient(metrics_only) as client:
        assert "x-request-id" in client.get("/health/live").headers
        assert f"{PREFIX}_http_requests_total" in client.get("/metrics").text


def test_console_format_in_development_is_readable(database_url: str) -> None:
    settings = make_settings(database_url, environment="development", log_format="auto", log_level="INFO")
    app = create_app(settings)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    try:
        with TestClient(app) as client:
            client.get("/health/live", headers={"X-Request-ID": "console-1"})
    finally:
        configure_logging(make_settings(database_url))
    line = next(line for line in stream.getvalue().splitlines() if "console-1" in line)
    assert not line.startswith("{")
    assert "request" in line and "route=/health/live" in line and "status=200" in line
