"""Fixtures of the stack suite: a native stack (PostgreSQL database, migrations, two app processes,
real NGINX, and Prometheus when installed) started once per module and torn down afterwards
(test_mariadb_stack.py starts its own).

Select the suite with `pytest -m stack`. Without nginx or the database server the tests skip with
the reason, unless REQUIRE_SERVICES=1 (CI), where that is a failure (tests/conftest.py's skip_or_fail).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.databases import DatabaseServer
from deploy.monitoring import prometheus_binary
from deploy.nginx import nginx_binary
from deploy.processes import free_port
from deploy.stack import Stack
from tests.conftest import skip_or_fail

# This suite's share of the repository's port plan (make stack uses 8380-8382).
PORTS = range(8300, 8380)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: the deployment stack suite (tests/stack); select with -m stack")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if nginx_binary() is None:
        skip_or_fail("nginx is not installed (apt-get install nginx)")
    server = DatabaseServer.configured("postgresql")
    reason = server.unavailable()
    if reason:
        skip_or_fail(reason)
    name = f"stack_test_{uuid.uuid4().hex[:12]}"
    database_url = server.database_url(name)
    nginx_port = free_port(PORTS)
    first = free_port([p for p in PORTS if p != nginx_port])
    second = free_port([p for p in PORTS if p not in (nginx_port, first)])
    # Without the binary the Prometheus test skips (or fails under REQUIRE_SERVICES=1); the rest runs.
    prometheus = free_port([p for p in PORTS if p not in (nginx_port, first, second)]) if prometheus_binary() else None
    run_dir = Path(tmp_path_factory.mktemp("stack"))
    stack = Stack(run_dir, database_url, nginx_port, (first, second), prometheus_port=prometheus)
    server.create(name, exist_ok=False)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        server.drop(name)


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        yield client
