"""The security headers hook on a bare ASGI start message: what it adds, and what it leaves alone."""

from __future__ import annotations

import asyncio
from typing import Any

from service.ops.response_hooks import add_security_headers


def _start(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": headers}
    asyncio.run(add_security_headers(message, {"type": "http", "method": "GET", "path": path}))  # type: ignore[arg-type]
    return message


def test_api_answers_get_every_header_once() -> None:
    headers = _start("/api/tags", [(b"content-type", b"application/json")])["headers"]
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))
    assert (b"x-content-type-options", b"nosniff") in headers
    assert (b"cache-control", b"no-store") in headers
    assert (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'") in headers


def test_a_header_the_response_set_is_kept() -> None:
    headers = _start("/api/tags", [(b"Cache-Control", b"max-age=60")])["headers"]
    assert [value for name, value in headers if name.lower() == b"cache-control"] == [b"max-age=60"]


def test_non_api_answers_get_no_api_only_headers() -> None:
    names = {name for name, _ in _start("/health/live", [])["headers"]}
    assert b"x-frame-options" in names
    assert b"cache-control" not in names
