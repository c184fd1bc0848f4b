"""The compose topology run natively: everything goes through real NGINX to two app processes.

The tests share one stack (module fixture) and run in file order: the rate-limit test empties the
sign-up/login budget, and the last test kills a replica.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest

from deploy.stack import ROOT, Stack
from tests.conftest import skip_or_fail
from tests.stack.answers import Answer, assert_nginx_error
from tests.stack.logs import access_entries, app_lines_with

pytestmark = pytest.mark.stack

MIB = 1_048_576
REQUEST_ID_HEADER = "x-request-id"


def sign_up(http: httpx.Client) -> tuple[str, str]:
    name = f"stack{uuid.uuid4().hex[:12]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "stack-password-1"}
    response = http.post("/api/users", json={"user": user})
    assert response.status_code == 201, response.text
    return name, response.json()["user"]["token"]


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        return sign_up(client)[1]


def test_api_works_end_to_end_through_nginx(http: httpx.Client) -> None:
    name, _ = sign_up(http)
    login = http.post(
        "/api/users/login", json={"user": {"email": f"{name}@example.com", "password": "stack-password-1"}}
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Token {login.json()['user']['token']}"}

    article = {"article": {"title": f"Through NGINX {name}", "description": "d", "body": "b", "tagList": ["nginx"]}}
    created = http.post("/api/articles", json=article, headers=auth)
    assert created.status_code == 201, created.text
    slug = created.json()["article"]["slug"]
    comment = http.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "first"}}, headers=auth)
    assert comment.status_code in (200, 201), comment.text

    listed = http.get("/api/articles", params={"author": name})
    assert listed.status_code == 200
    assert [a["slug"] for a in listed.json()["articles"]] == [slug]
    comments = http.get(f"/api/articles/{slug}/comments").json()["comments"]
    assert [c["body"] for c in comments] == ["first"]
    assert http.delete(f"/api/articles/{slug}", headers=auth).status_code in (200, 204)
    assert http.get(f"/api/articles/{slug}").status_code == 404
    assert http.get("/health/ready").json()["database"] == "up"


def test_the_ci_smoke_script_passes_against_the_stack(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "smoke.py"), stack.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_security_headers_on_app_and_nginx_answers(http: httpx.Client, stack: Stack) -> None:
    app_answer = http.get("/api/tags")
    too_large = http.post("/api/articles", content=b"x" * (MIB + 1), headers={"Content-Type": "application/json"})
    nginx_health = http.get("/nginx-health")
    for response in (app_answer, too_large, nginx_health):
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        # Exactly one value each: nginx fills a header in only when the app did not send it.
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], where
        assert response.headers.get_list("x-frame-options") == ["DENY"], where
        assert response.headers.get_list("referrer-policy") == ["no-referrer"], where
        assert len(response.headers.get_list(REQUEST_ID_HEADER)) == 1, where
        assert response.headers["server"] == "nginx", f"{where}: the version must not be shown"
    for response in (app_answer, too_large):
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["cache-control"] == "no-store"


def test_request_id_reaches_the_app_log_and_comes_back(http: httpx.Client, stack: Stack) -> None:
    given = f"stack-test-{uuid.uuid4().hex}"
    response = http.get("/api/tags", headers={"X-Request-ID": given})
    assert response.headers[REQUEST_ID_HEADER] == given

    generated = http.get("/api/tags").headers[REQUEST_ID_HEADER]
    assert len(generated) == 32 and int(generated, 16) >= 0, "nginx's $request_id is 32 hex characters"

    malformed = http.get("/api/tags", headers={"X-Request-ID": "bad id\twith spaces"}).headers[REQUEST_ID_HEADER]
    assert malformed != "bad id\twith spaces" and len(malformed) == 32, "a malformed id is replaced"

    for request_id in (given, generated, malformed):
        (entry,) = access_entries(stack, {request_id})
        assert entry["status"] == 200 and entry["upstream_addr"].startswith("127.0.0.1:")
        answered_by = int(entry["upstream_addr"].rsplit(":", 1)[1])
        lines = app_lines_with(stack, answered_by, {request_id})
        assert lines, f"no line with request_id {request_id} in {stack.app_log(answered_by)}"
        assert lines[0].get("path") == "/api/tags"


def test_body_over_the_app_cap_is_refused_by_nginx_with_413(http: httpx.Client, stack: Stack) -> None:
    headers = {"Content-Type": "application/json"}
    refused = http.post("/api/articles", content=b"x" * (MIB + 1), headers=headers)
    assert_nginx_error(Answer.of(refused), 413, "request body too large: the limit is 1 MiB")
    assert "body too large" in refused.headers["proxy-status"]
    (entry,) = access_entries(stack, {refused.headers[REQUEST_ID_HEADER]})
    assert entry["upstream_addr"] == "", "the app never saw the oversized body"
    # The error page is an internal redirect, which makes nginx's $request_method GET; the log
    # takes the method from the request line instead.
    assert entry["method"] == "POST"

    # Exactly at the cap, nginx passes the body on and the app (same cap) does not refuse its size.
    at_cap = http.post("/api/articles", content=b"x" * MIB, headers=headers)
    assert at_cap.status_code != 413 and "proxy-status" not in at_cap.headers, at_cap.text[:200]


def test_json_answers_are_gzipped(http: httpx.Client, token: str) -> None:
    article = {"article": {"title": f"Long {uuid.uuid4().hex}", "description": "d", "body": "lorem ipsum " * 400}}
    slug = http.post("/api/articles", json=article, headers={"Authorization": f"Token {token}"}).json()["article"][
        "slug"
    ]
    response = http.get(f"/api/articles/{slug}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["article"]["body"] == article["article"]["body"]


def test_traffic_is_spread_over_both_replicas(http: httpx.Client, stack: Stack) -> None:
    ids = {f"spread-{uuid.uuid4().hex}" for _ in range(20)}
    for request_id in ids:
        assert http.get("/api/tags", headers={"X-Request-ID": request_id}).status_code == 200
    entries = access_entries(stack, ids)
    sent = {
        port: {e["request_id"] for e in entries if e["upstream_addr"] == f"127.0.0.1:{port}"} for port in stack.apps
    }
    assert all(len(port_ids) >= 5 for port_ids in sent.values()), {port: len(v) for port, v in sent.items()}
    for port, port_ids in sent.items():
        logged = {line["request_id"] for line in app_lines_with(stack, port, port_ids)}
        assert logged == port_ids, f"replica {port} logged {len(logged)} of the {len(port_ids)} nginx sent it"


def test_a_login_burst_gets_429_from_nginx(stack: Stack) -> None:
    time.sleep(2.5)  # earlier sign-ups have used part of the budget (10 r/s, burst 20): let it refill

    async def burst() -> list[httpx.Response]:
        # Distinct unknown e-mails: the app's own limit (failures per address and e-mail) never
        # triggers. Sent at once on 60 connections, so they reach nginx within milliseconds.
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(base_url=stack.url, timeout=30, limits=limits) as client:
            bodies = [
                {"user": {"email": f"burst{i}-{uuid.uuid4().hex[:8]}@example.com", "password": "x"}} for i in range(60)
            ]
            return await asyncio.gather(*(client.post("/api/users/login", json=body) for body in bodies))

    responses = asyncio.run(burst())
    limited = [r for r in responses if r.status_code == 429]
    reached_app = [r for r in responses if r.status_code != 429]
    assert len(limited) >= 20, f"only {len(limited)} of 60 refused"
    assert 1 <= len(reached_app) <= 35, [r.status_code for r in responses]
    assert all(r.status_code in (401, 403, 422) for r in reached_app), [r.status_code for r in reached_app]
    for response in limited:
        assert_nginx_error(Answer.of(response), 429, "too many requests: slow down and retry")
        assert "rate limit" in response.headers["proxy-status"], "a 429 not written by nginx"
        assert response.headers["retry-after"] == "1"
    entries = access_entries(stack, {r.headers[REQUEST_ID_HEADER] for r in limited})
    assert {e["upstream_addr"] for e in entries} == {""}, "a limited request reached an app"


ROUTE_SAMPLES = (
    "/api/users",
    "/api/users/login",
    "/api/user",
    "/api/profiles/someone",
    "/api/profiles/someone/follow",
    "/api/articles",
    "/api/articles/feed",
    "/api/articles/some-slug",
    "/api/articles/some-slug/favorite",
    "/api/articles/some-slug/comments",
    "/api/articles/some-slug/comments/1",
    "/api/tags",
    "/health/ready",
)


def methods(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


def test_trace_gets_405_with_the_same_allow_header_as_the_app(http: httpx.Client, stack: Stack) -> None:
    """nginx refuses TRACE itself; its route table (nginx/conduit/http.conf) must match the app's."""
    replica = next(iter(stack.apps))
    with httpx.Client(base_url=f"http://127.0.0.1:{replica}", timeout=15) as app:
        for path in ROUTE_SAMPLES:
            from_app = app.options(path)
            assert from_app.status_code == 204, f"OPTIONS {path}: {from_app.status_code}"
            refused = http.request("TRACE", path)
            assert_nginx_error(Answer.of(refused), 405, "method not allowed")
            assert methods(refused.headers["allow"]) == methods(from_app.headers["allow"]), path


def query_prometheus(prometheus_url: str, promql: str) -> list[dict[str, Any]]:
    """An instant query through Prometheus's HTTP API; the samples of the resulting vector."""
    response = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": promql}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    samples: list[dict[str, Any]] = body["data"]["result"]
    return samples


def test_prometheus_scrapes_both_replicas_and_records_their_request_rate(http: httpx.Client, stack: Stack) -> None:
    if stack.prometheus_url is None:
        skip_or_fail("prometheus is not installed (apt-get install prometheus)")
    assert stack.prometheus_url is not None
    replicas = {f"127.0.0.1:{port}" for port in stack.apps}
    # The recording rule of deploy/prometheus/rules/conduit.yml: a result per replica proves the
    # scrapes and the rule evaluation. A rate needs two samples of a growing counter, so traffic
    # keeps flowing while we wait (generous deadline: the machine may be busy).
    rates: dict[str, float] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for _ in range(10):
            assert http.get("/api/tags").status_code == 200
        samples = query_prometheus(
            stack.prometheus_url,
            'instance:conduit_http_requests:rate1m{job="conduit"}',
        )
        rates = {sample["metric"]["instance"]: float(sample["value"][1]) for sample in samples}
        if set(rates) == replicas and all(rate > 0 for rate in rates.values()):
            break
        time.sleep(0.5)
    assert set(rates) == replicas, f"request-rate series {rates}, replicas {replicas}"
    assert all(rate > 0 for rate in rates.values()), rates
    # The raw counter agrees: every replica answered /api/tags.
    raw = query_prometheus(
        stack.prometheus_url,
        'sum by (instance) (conduit_http_requests_total{route="/api/tags"})',
    )
    assert {sample["metric"]["instance"] for sample in raw} == replicas
    up = query_prometheus(stack.prometheus_url, 'up{job="conduit"}')
    assert {sample["metric"]["instance"]: sample["value"][1] for sample in up} == dict.fromkeys(replicas, "1")
    groups = httpx.get(f"{stack.prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {group["name"] for group in groups} == {"conduit-recording", "conduit-alerts"}


def test_requests_keep_succeeding_after_a_replica_is_killed(http: httpx.Client, stack: Stack, token: str) -> None:
    victim, survivor = stack.apps
    stack.apps[victim].send_signal(signal.SIGKILL)
    stack.apps[victim].wait(timeout=10)

    auth = {"Authorization": f"Token {token}"}
    ids = set()
    for i in range(30):
        request_id = f"after-kill-{i}-{uuid.uuid4().hex}"
        ids.add(request_id)
        if i % 10 == 0:
            article = {"article": {"title": f"After kill {request_id}", "description": "d", "body": "b"}}
            response = http.post("/api/articles", json=article, headers=auth | {"X-Request-ID": request_id})
            assert response.status_code == 201, response.text
        else:
            response = http.get("/api/articles", headers={"X-Request-ID": request_id})
            assert response.status_code == 200, response.text
    entries = access_entries(stack, ids)
    assert len(entries) == 30
    # Every request was finally answered by the survivor (a first try on the dead one shows as
    # "127.0.0.1:victim, 127.0.0.1:survivor").
    assert all(e["upstream_addr"].endswith(f"127.0.0.1:{survivor}") for e in entries), entries

    # With no replica left, nginx answers itself (its 502, sent as 503): the API's error shape,
    # Retry-After. A POST gets the same answer.
    stack.apps[survivor].send_signal(signal.SIGKILL)
    stack.apps[survivor].wait(timeout=10)
    article = {"article": {"title": "Nobody home", "description": "d", "body": "b"}}
    for response in (http.get("/api/articles"), http.post("/api/articles", json=article, headers=auth)):
        assert_nginx_error(Answer.of(response), 503, "the service is unavailable: retry shortly")
        assert response.headers["retry-after"] == "5"
        assert "destination_unavailable" in response.headers["proxy-status"]
