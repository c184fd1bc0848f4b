"""Every response gets the security headers; a path parameter containing NUL gets a 404."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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
    headers = MutableScopeHeaders.from_message(message)
    if scope.get("method") == "OPTIONS" and "allow" in headers:
        headers["Allow"] = allowed_methods(scope)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if scope["path"].startswith("/api"):
        for name, value in API_ONLY_HEADERS.items():
            headers.setdefault(name, value)


class NulPathParameterMiddleware(ASGIMiddleware):
    """404 for a path parameter containing NUL (`/api/articles/a%00b`): no slug or username can hold
    one, and PostgreSQL refuses NUL in text, so the lookup itself would fail with a 500."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for name, value in scope.get("path_params", {}).items():
            if isinstance(value, str) and "\x00" in value:
                response = Response({"errors": {name: ["not found"]}}, status_code=404)
                await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                return
        await next_app(scope, receive, send)
