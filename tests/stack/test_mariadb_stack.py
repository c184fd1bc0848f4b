"""`make stack STACK_DB=mariadb` as a person runs it: `python -m deploy.stack up --db mariadb` creates
a fresh database on the MariaDB server, migrates it and starts two app processes behind NGINX; a
short journey goes through NGINX; `down` stops everything and drops the database.

The rest of the suite (test_native_stack.py) runs on PostgreSQL; what differs on MariaDB is the
database, so one journey is enough here.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.databases import DatabaseServer
from deploy.monitoring import prometheus_binary
from deploy.nginx import nginx_binary
from deploy.stack import ROOT, free_port_block, stack_database
from tests.conftest import skip_or_fail
from tests.stack.conftest import PORTS

pytestmark = pytest.mark.stack

REPLICAS = 2


def deploy_stack(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Without STACK_DATABASE_URL: a developer's own database must not replace the fresh one.
    env = {name: value for name, value in os.environ.items() if name != "STACK_DATABASE_URL"}
    command = [sys.executable, "-m", "deploy.stack", "--run-dir", str(run_dir), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)


def row_counts(database_url: str, *tables: str) -> list[int]:
    async def count() -> list[int]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return [(await connection.execute(text(f"SELECT COUNT(*) FROM {t}"))).scalar_one() for t in tables]
        finally:
            await engine.dispose()

    return asyncio.run(count())


def journey(base_url: str) -> None:
    """Sign up, create an article, read it, comment on it: every write and read goes through NGINX."""
    name = f"maria{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=base_url, timeout=15) as http:
        user = {"username": name, "email": f"{name}@example.com", "password": "stack-password-1"}
        signed_up = http.post("/api/users", json={"user": user})
        assert signed_up.status_code == 201, signed_up.text
        auth = {"Authorization": f"Token {signed_up.json()['user']['token']}"}

        article = {"title": f"On MariaDB {name}", "description": "d", "body": "b", "tagList": ["mariadb"]}
        created = http.post("/api/articles", json={"article": article}, headers=auth)
        assert created.status_code == 201, created.text
        slug = created.json()["article"]["slug"]
        read = http.get(f"/api/articles/{slug}")
        assert read.status_code == 200, read.text
        assert read.json()["article"]["title"] == article["title"]
        assert read.json()["article"]["author"]["username"] == name

        commented = http.post(f"/api/articles/{slug}/comments", json={"comment": {"body": "first"}}, headers=auth)
        assert commented.status_code in (200, 201), commented.text
        comments = http.get(f"/api/articles/{slug}/comments").json()["comments"]
        assert [(c["body"], c["author"]["username"]) for c in comments] == [("first", name)]
        assert http.get("/health/ready").json()["database"] == "up"


def test_the_stack_runs_on_mariadb_and_down_drops_its_database(tmp_path: Path) -> None:
    if nginx_binary() is None:
        skip_or_fail("nginx is not installed (apt-get install nginx)")
    server = DatabaseServer.configured("mariadb")
    reason = server.unavailable()
    if reason:
        skip_or_fail(reason)
    port = free_port_block(2 + REPLICAS, PORTS)  # NGINX, the replicas, Prometheus
    run_dir = tmp_path / "stack"

    up = deploy_stack(run_dir, "up", "--db", "mariadb", "--port", str(port), "--replicas", str(REPLICAS))
    state_file = run_dir / "state.json"
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        state = json.loads(state_file.read_text())
        name = state["drop_database"]
        assert name.startswith("conduit_stack_") and state["database_server"] == "mariadb"
        shown = server.url._replace(database=name).render_as_string()  # as `up` prints it: no password
        assert f"database   {shown}  (dropped by `make stack-down`)" in up.stdout
        if prometheus_binary():
            assert f"prometheus http://127.0.0.1:{port + 1 + REPLICAS}  " in up.stdout
            assert "prometheus" in state["processes"]
        journey(state["url"])
        # The journey's rows are in the stack's MariaDB database.
        assert row_counts(server.database_url(name), "users", "articles", "comments") == [1, 1, 1]
    finally:
        down = deploy_stack(run_dir, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not state_file.exists()
    assert f"dropped database {name}" in down.stdout
    assert not server.exists(name), f"`down` left {name} on {server}"


# --- Which database `up` uses (no server needed) ------------------------------------------------


def test_a_fresh_database_goes_to_the_chosen_server() -> None:
    server, name = stack_database("mariadb", None)
    assert server.kind.title == "MariaDB" and name.startswith("conduit_stack_")
    assert make_url(server.database_url(name)).drivername == "mysql+asyncmy"


def test_stack_database_url_is_used_on_its_own_server() -> None:
    server, name = stack_database("mariadb", "mysql+asyncmy://me:secret@elsewhere:3307/mine")
    assert name == "mine"
    # The admin connection names no database: `mine` may not exist yet.
    assert server.url.render_as_string(hide_password=False) == "mysql+asyncmy://me:secret@elsewhere:3307"
    assert server.database_url(name) == "mysql+asyncmy://me:secret@elsewhere:3307/mine"
    server, name = stack_database("postgresql", "postgresql+asyncpg://me@elsewhere/mine")
    assert (server.url.database, name) == ("postgres", "mine")


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [
        ("postgresql", "mysql+asyncmy://root@127.0.0.1:3306/mine", "set STACK_DB=mariadb too"),
        ("mariadb", "postgresql+asyncpg://postgres@127.0.0.1/mine", "set STACK_DB=postgresql too"),
        ("mariadb", "sqlite+aiosqlite:///var/x.db", "neither PostgreSQL nor MariaDB"),
        ("mariadb", "mysql+asyncmy://root@127.0.0.1:3306", "names no database"),
    ],
)
def test_stack_database_url_must_agree_with_stack_db(kind: str, url: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        stack_database(kind, url)
