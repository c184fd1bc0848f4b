"""One set of versions: uv.lock feeds .venv, the image and the uv bootstrap, and nothing else pins.

uv itself is in .venv (`make venv` installs it from requirements/bootstrap.lock, then `uv sync`
keeps it: it is in the lock's bootstrap group).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def uv(*args: str) -> str:
    if not UV.exists():
        pytest.skip(f"uv is not in {UV.parent} (make venv installs it)")
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": sys.prefix, "UV_PYTHON_DOWNLOADS": "never"}
    result = subprocess.run(
        [str(UV), *args], cwd=ROOT, capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert result.returncode == 0, f"uv {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def pinned(requirements: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", requirements, flags=re.MULTILINE))


def test_bootstrap_lock_is_the_export_of_uv_lock() -> None:
    """`make lock` writes it; edited by hand or left stale, pip would install another uv."""
    exported = uv(
        "export", "--frozen", "--only-group", "bootstrap", "--no-emit-project", "--format", "requirements-txt"
    )
    committed = (ROOT / "requirements" / "bootstrap.lock").read_text()

    def body(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))

    assert body(committed) == body(exported), "requirements/bootstrap.lock is stale: run `make lock`"
    assert set(pinned(committed)) == {"uv"}


def test_the_runtime_set_leaves_out_every_dependency_group() -> None:
    """What `uv sync --no-dev` (the image) installs: the service's dependencies, no test or bench tool."""
    runtime = pinned(uv("export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt"))
    assert {"litestar", "sqlalchemy", "uvicorn", "asyncpg", "asyncmy"} <= set(runtime)
    for tool in ("granian", "pytest", "locust", "schemathesis", "ruff", "mypy", "uv"):
        assert tool not in runtime, f"{tool} would be in the image"


def test_the_virtual_environment_holds_exactly_the_lock() -> None:
    """`uv sync --check` fails when a package is missing, extra or at another version."""
    uv("sync", "--locked", "--check")


def test_the_image_installs_from_the_same_lock() -> None:
    build_stage = DOCKERFILE.split("FROM ", 2)[1]
    assert "uv sync --locked --no-dev --no-install-project --no-build" in build_stage
    assert "--require-hashes -r requirements/bootstrap.lock" in build_stage
    assert "COPY requirements/bootstrap.lock pyproject.toml uv.lock ./" in build_stage
    # .dockerignore is an allow-list: the files the build stage copies must be let in.
    allowed = {line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert {"requirements/bootstrap.lock", "pyproject.toml", "uv.lock"} <= allowed


def test_no_second_lock_file() -> None:
    assert sorted(path.name for path in (ROOT / "requirements").iterdir()) == ["bootstrap.lock"]
