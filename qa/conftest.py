"""Fixtures of the black-box QA suite: the target URL, an HTTP client, unique users and articles.

Nothing here imports `service/`: the suite speaks HTTP to BASE_URL only, so it runs the same
against a laptop, the compose stack behind NGINX or a staging host.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

QA_DIR = Path(__file__).resolve().parent
GROUPS = {
    "test_journeys": "acceptance journeys",
    "test_errors": "error paths (401/403/404/422)",
    "test_catalogue": "bad-input catalogue",
    "test_security": "security pack (OWASP API Top 10)",
    "test_contract": "contract fuzzing (Schemathesis)",
    "test_browser": "browser (Swagger UI in Chromium)",
    "test_retries": "retries and concurrency",
}
RUN_ID = uuid.uuid4().hex[:8]  # one per run: every name below embeds it, so reruns never collide
RUN_NOTES: list[str] = []  # figures a test wants in the closing summary (e.g. Schemathesis case count)


def base_url_from_env() -> str:
    return os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with a reason on a laptop; fail in CI (REQUIRE_SERVICES=1), where nothing may be missing."""
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but: {reason}")
    pytest.skip(reason)


def unique(prefix: str) -> str:
    return f"{prefix}_{RUN_ID}_{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class User:
    username: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@pytest.fixture(scope="session")
def base_url() -> str:
    url = base_url_from_env()
    try:
        ready = httpx.get(f"{url}/health/ready", timeout=5)
    except httpx.HTTPError as exc:
        pytest.exit(f"BASE_URL {url} is not reachable: {exc}", returncode=2)
    if ready.status_code != 200:
        pytest.exit(f"BASE_URL {url} is not ready: {ready.status_code} {ready.text}", returncode=2)
    return url


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=15, headers={"Content-Type": "application/json"}) as http:
        yield http


@pytest.fixture(scope="session")
def secret_key() -> str | None:
    """The server's SECRET_KEY when known (the app `make qa` starts, or QA_SECRET_KEY): forged tokens."""
    return os.environ.get("QA_SECRET_KEY") or None


def answered_by_proxy(response: httpx.Response) -> bool:
    """True when a proxy in front wrote this answer itself: it says so in Proxy-Status (RFC 9209),
    a header the service never sends."""
    return "proxy-status" in response.headers


def past_proxy_rate_limit(send: Callable[[], httpx.Response]) -> httpx.Response:
    """Send, waiting out a proxy's 429 like a polite client (the NGINX stack limits the auth routes
    per client address, and the suite's earlier requests share that budget). The service's own
    429 is returned: that is what the tests check."""
    response = send()
    for _ in range(60):
        if not (response.status_code == 429 and answered_by_proxy(response)):
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
        response = send()
    return response


def register(client: httpx.Client, prefix: str = "qa") -> User:
    name = unique(prefix)
    password = f"pw-{uuid.uuid4().hex}"
    email = f"{name}@example.com"
    body = {"user": {"username": name, "email": email, "password": password}}
    response = past_proxy_rate_limit(lambda: client.post("/api/users", json=body))
    assert response.status_code == 201, response.text
    return User(username=name, email=email, password=password, token=response.json()["user"]["token"])


@pytest.fixture
def make_user(client: httpx.Client) -> Callable[..., User]:
    return lambda prefix="qa": register(client, prefix)


@pytest.fixture
def author(make_user: Callable[..., User]) -> User:
    return make_user("author")


@pytest.fixture
def reader(make_user: Callable[..., User]) -> User:
    return make_user("reader")


def create_article(client: httpx.Client, user: User, **fields: object) -> dict[str, object]:
    article: dict[str, object] = {
        "title": f"QA article {unique('t')}",
        "description": "written by the QA suite",
        "body": "Body of a QA article.",
        "tagList": [],
    }
    article.update(fields)
    response = client.post("/api/articles", json={"article": article}, headers=user.auth)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()["article"]
    return created


@pytest.fixture
def article(client: httpx.Client, author: User) -> dict[str, object]:
    return create_article(client, author)


# ---- Per-group summary ------------------------------------------------------------------------

_outcomes: dict[str, Counter[str]] = defaultdict(Counter)


def group_of(nodeid: str) -> str:
    module = Path(nodeid.split("::", 1)[0]).stem
    return GROUPS.get(module, module)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        _outcomes[group_of(report.nodeid)][outcome] += 1
    elif report.when == "teardown" and report.outcome == "failed":
        _outcomes[group_of(report.nodeid)]["failed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("QA summary per group")
    for module, name in GROUPS.items():
        counts = _outcomes.get(name, Counter())
        verdict = "FAIL" if counts["failed"] else ("ok" if counts["passed"] else "--")
        terminalreporter.write_line(
            f"{verdict:4}  {name:40} passed {counts['passed']:4}  failed {counts['failed']:3}  "
            f"skipped {counts['skipped']:3}   ({module}.py)"
        )
    terminalreporter.write_line(f"target: {base_url_from_env()}   run id: {RUN_ID}")
    for note in RUN_NOTES:
        terminalreporter.write_line(note)
