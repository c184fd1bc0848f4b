"""Hooks on every answer before it is sent: security headers, a complete Allow header, and the error
body on a refused CORS pre-flight."""

from __future__ import annotations

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.status_codes import HTTP_400_BAD_REQUEST
from litestar.types import Message, Scope

from service.errors import error_body

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_ONLY_HEADERS = {
    # API answers are per-user JSON: never cached by shared caches, never rendered as a page.
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


# Encoded once: adding them through MutableScopeHeaders (a scan of the list per header) was ~9% of
# the CPU of /health/live.
_ENCODED_SECURITY = _encoded(SECURITY_HEADERS)
_ENCODED_API = _encoded(SECURITY_HEADERS | API_ONLY_HEADERS)


def allowed_methods(scope: Scope) -> str:
    """Every method of the matched route, for the `Allow` header of an OPTIONS answer.

    Litestar 2's automatic OPTIONS handler lists only the methods of the first handler registered
    on a path (litestar issue #4169, fixed in v3), so `OPTIONS /api/articles` said `OPTIONS, POST`.
    """
    template = scope.get("path_template")
    for route in scope["litestar_app"].routes:
        if route.path_format == template:
            return ", ".join(sorted(route.methods))
    return "OPTIONS"


async def add_security_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook, so the headers are on every answer, including the router's own 404 and
    405 that no middleware sees (an unknown path or method)."""
    if message["type"] != "http.response.start":
        return
    if scope.get("method") == "OPTIONS":
        options_headers = MutableScopeHeaders.from_message(message)
        if "allow" in options_headers:
            options_headers["Allow"] = allowed_methods(scope)
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    wanted = _ENCODED_API if scope["path"].startswith("/api") else _ENCODED_SECURITY
    # Like setdefault: a value the handler chose (a response's own Cache-Control) is kept.
    headers.extend(header for header in wanted if header[0] not in present)
    message["headers"] = headers


# One body for every refused pre-flight: Litestar's text names what was refused, which a browser
# never shows to the page's code anyway, and a fixed body lets the start message carry its length.
CORS_REFUSAL = msgspec.json.encode(error_body("cors", "pre-flight refused: a method, header or origin not allowed"))
_CORS_REFUSED = "cors_refused"


async def json_cors_refusal(message: Message, scope: Scope) -> None:
    """`before_send` hook: Litestar's CORS middleware refuses a pre-flight (a method, header or origin
    that is not allowed) with a plain-text 400 that no exception handler sees; send the error body."""
    if scope.get("method") != "OPTIONS":
        return
    if message["type"] == "http.response.start" and message["status"] == HTTP_400_BAD_REQUEST:
        headers = MutableScopeHeaders.from_message(message)
        if headers.get("content-type", "").startswith("text/plain"):
            scope[_CORS_REFUSED] = True  # type: ignore[literal-required]
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(CORS_REFUSAL))
    elif message["type"] == "http.response.body" and scope.get(_CORS_REFUSED):
        message["body"] = CORS_REFUSAL
