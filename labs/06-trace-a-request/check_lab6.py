"""Lab 6 check: the request the user reported works again, and failures stay traceable by request id."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, make_settings
from litestar.testing import TestClient

from service.app import create_app
from service.articles.repository import ArticleRepository
from service.ops.logs import configure_logging

HERE = Path(__file__).resolve().parent
STARTED = HERE / ".started"


def _reproduce_module() -> Any:
    spec = importlib.util.spec_from_file_location("lab6_reproduce", HERE / "reproduce.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _in_process(client: Client) -> Any:
    def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
        response = client.post(path, json=body, headers=headers)
        return response.status_code, response.json(), response.headers.get("x-request-id", "")

    return post


def test_the_lab_is_started() -> None:
    assert STARTED.exists(), "run `make lab-start N=6` first: it plants the bug you will trace"


def test_every_step_the_user_took_now_works(client: Client) -> None:
    steps = _reproduce_module().replay(_in_process(client))
    failed = [f"{step.what}: {step.status} (request id {step.request_id})" for step in steps if step.status >= 400]
    assert not failed, "still failing:\n" + "\n".join(failed)
    assert [step.status for step in steps] == [201, 201, 201]
    assert all(step.request_id for step in steps), "every answer carries an X-Request-ID"


def test_an_unexpected_error_is_logged_with_the_request_id_the_client_saw(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How you traced it: the 500's X-Request-ID leads to exactly one log line with the traceback."""
    logs = io.StringIO()
    settings = make_settings(database_url).with_changes(log_format="json", log_level="INFO")
    app = create_app(settings)
    configure_logging(settings, logs)  # the same configuration, written here instead of stderr

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("planted by the check")

    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.post(
            "/api/users", json={"user": {"username": "u", "email": "u@example.com", "password": "password123"}}
        ).json()["user"]["token"]
        monkeypatch.setattr(ArticleRepository, "insert", broken)
        article = {"article": {"title": "t", "description": "d", "body": "b"}}
        response = client.post("/api/articles", json=article, headers={"Authorization": f"Token {token}"})
    assert response.status_code == 500
    assert "planted" not in response.text, "no internals in the answer"
    request_id = response.headers["x-request-id"]
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == request_id]
    errors = [line for line in mine if "planted by the check" in json.dumps(line)]
    assert len(errors) == 1, f"expected one error line with the traceback for {request_id}, got: {mine}"
