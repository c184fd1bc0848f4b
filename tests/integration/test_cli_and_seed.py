"""The commands behind `make migrate`, `make seed` and `make run`, run as a user would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from litestar.testing import TestClient

from deploy.processes import AppProcess
from service.app import create_app
from service.cli.demo_data import DEMO_PASSWORD, seed_demo
from tests.support import make_settings

ROOT = Path(__file__).resolve().parents[2]


def test_seed_is_friendly_and_idempotent(tmp_path: Path) -> None:
    from tests.conftest import sqlite_database

    with sqlite_database(tmp_path) as url:
        settings = make_settings(url)
        asyncio.run(seed_demo(settings))
        asyncio.run(seed_demo(settings))  # a second run changes nothing
        with TestClient(create_app(settings)) as client:
            listing = client.get("/api/articles").json()
            assert listing["articlesCount"] == 3
            login = client.post(
                "/api/users/login", json={"user": {"email": "linus@example.com", "password": DEMO_PASSWORD}}
            )
            token = login.json()["user"]["token"]
            feed = client.get("/api/articles/feed", headers={"Authorization": f"Token {token}"}).json()
            assert [a["author"]["username"] for a in feed["articles"]] == ["ada"]
            welcome = client.get("/api/articles/welcome-to-conduit").json()["article"]
            assert welcome["favoritesCount"] == 2
            assert len(client.get("/api/articles/welcome-to-conduit/comments").json()["comments"]) == 2


def test_migrate_and_serve_commands_start_a_working_server(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"}
    subprocess.run(
        [sys.executable, "-m", "service.cli", "migrate"],
        cwd=tmp_path,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=60,
    )
    server = AppProcess(env, tmp_path / "server.log", workdir=tmp_path)
    try:
        server.wait_ready()
        user = {"username": "cli", "email": "cli@example.com", "password": "password123"}
        assert httpx.post(f"{server.base_url}/api/users", json={"user": user}).status_code == 201
        assert httpx.get(f"{server.base_url}/api/articles").json() == {"articles": [], "articlesCount": 0}
    finally:
        server.stop()
