"""The commands behind `make migrate` and `make run`, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from deploy.processes import AppProcess
from tests.support import auth

ROOT = Path(__file__).resolve().parents[2]


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
        signed_up = httpx.post(f"{server.base_url}/api/users", json={"user": user})
        assert signed_up.status_code == 201, signed_up.text
        current = httpx.get(f"{server.base_url}/api/user", headers=auth(signed_up.json()["user"]["token"]))
        assert current.json()["user"]["username"] == "cli"
    finally:
        server.stop()
