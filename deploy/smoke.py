"""Smoke test of a running stack through NGINX, standard library only (CI runs it with any python3).

    python3 deploy/smoke.py http://127.0.0.1:8080

Sign-up, an authenticated write and read, the request id echoed, the security headers, NGINX's own
health check. Exits non-zero with the failing step. tests/stack runs it against the native stack.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any


class SmokeFailure(AssertionError):
    """A step of the smoke test got an unexpected answer."""


def call(base: str, method: str, path: str, body: object = None, token: str = "") -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310 - URL from the caller
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Request-ID", f"smoke-{uuid.uuid4().hex}")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    if headers.get("X-Request-ID") != request.get_header("X-request-id"):
        raise SmokeFailure(f"{method} {path}: X-Request-ID not echoed ({headers.get('X-Request-ID')!r})")
    return status, headers, json.loads(raw) if raw else None


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def run(base: str) -> None:
    status, _, _ = call(base, "GET", "/nginx-health")
    expect(status == 200, f"GET /nginx-health: {status}")
    status, _, body = call(base, "GET", "/health/ready")
    expect(status == 200 and body["database"] == "up", f"GET /health/ready: {status} {body}")

    name = f"smoke{uuid.uuid4().hex[:10]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "smoke-password-1"}
    status, headers, body = call(base, "POST", "/api/users", {"user": user})
    expect(status == 201, f"POST /api/users: {status} {body}")
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"):
        expect(header.lower() in {h.lower() for h in headers}, f"POST /api/users: no {header} header")
    token = body["user"]["token"]

    article = {"article": {"title": f"Smoke {name}", "description": "d", "body": "b", "tagList": ["smoke"]}}
    status, _, body = call(base, "POST", "/api/articles", article, token)
    expect(status == 201, f"POST /api/articles: {status} {body}")
    slug = body["article"]["slug"]
    status, _, body = call(base, "GET", f"/api/articles/{slug}", token=token)
    expect(status == 200 and body["article"]["author"]["username"] == name, f"GET /api/articles/{slug}: {status}")
    status, _, body = call(base, "GET", "/api/user")
    expect(status == 401, f"GET /api/user without a token: {status}")


def main() -> None:
    base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080").rstrip("/")
    try:
        run(base)
    except (SmokeFailure, OSError, KeyError, ValueError) as exc:
        raise SystemExit(f"smoke test FAILED against {base}: {exc!r}") from None
    print(f"smoke test passed against {base}")


if __name__ == "__main__":
    main()
