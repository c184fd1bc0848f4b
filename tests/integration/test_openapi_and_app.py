"""The OpenAPI schema and offline docs UI, health endpoints, headers, and start-up checks."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.settings import DEFAULT_SECRET_KEY, Settings, SettingsError

Client = TestClient[Litestar]


def test_schema_lists_every_endpoint_with_error_responses(client: Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    }
    api_operations = {op for op in operations if op[1].startswith("/api")}
    routed = {
        (method, route.path_format)
        for route in client.app.routes
        if route.path_format.startswith("/api")
        for method in getattr(route, "methods", ())
        if method in ("GET", "POST", "PUT", "DELETE")
    }
    # Every API route documented and nothing else: a new area needs no count updated here.
    assert api_operations == routed and len(routed) > 3
    login = schema["paths"]["/api/users/login"]["post"]
    assert {"200", "401", "422", "429"} <= set(login["responses"])
    assert "400" not in login["responses"]  # every bad input is a 422 here
    assert schema["paths"]["/api/user"]["get"]["security"] == [{"Token": []}]
    assert schema["components"]["securitySchemes"]["Token"]["in"] == "header"
    error_schema = schema["components"]["schemas"]["GenericErrorModel"]
    assert error_schema["required"] == ["errors"]
    article = schema["components"]["schemas"]["Article"]
    assert article["properties"]["createdAt"]["format"] == "date-time"
    assert "body" not in schema["components"]["schemas"]["ArticleSummary"]["properties"]
    new_user = schema["components"]["schemas"]["NewUser"]["properties"]
    assert new_user["username"]["maxLength"] == 32


def test_docs_page_loads_only_local_assets(client: Client) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
    assert assets
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_health_endpoints(client: Client) -> None:
    assert client.get("/health/live").json()["status"] == "ok"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "up"


def test_security_headers_and_cors_preflight(client: Client) -> None:
    response = client.get("/api/tags")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    preflight = client.options(
        "/api/articles",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://app.example")
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


def test_cors_allows_only_configured_origins(database_url: str) -> None:
    from tests.support import make_settings

    app = create_app(make_settings(database_url, cors_allow_origins=("https://good.example",)))
    with TestClient(app) as client:
        good = client.get("/api/tags", headers={"Origin": "https://good.example"})
        assert good.headers["access-control-allow-origin"] == "https://good.example"
        bad = client.get("/api/tags", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in bad.headers


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(Settings(environment="production", secret_key=DEFAULT_SECRET_KEY))
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(Settings(environment="production", secret_key="short"))


def test_docs_can_be_switched_off(database_url: str) -> None:
    from tests.support import make_settings

    with TestClient(create_app(make_settings(database_url, docs_enabled=False))) as client:
        assert client.get("/schema").status_code == 404


def test_every_worker_gives_argon2_blocks_back(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app fixes glibc's mmap threshold (tests/unit/test_password_memory.py shows why)."""
    import service.app
    from tests.support import make_settings

    calls: list[str] = []
    monkeypatch.setattr(service.app, "keep_large_blocks_returnable", lambda: calls.append("mallopt"))
    create_app(make_settings(database_url))
    assert calls == ["mallopt"]
