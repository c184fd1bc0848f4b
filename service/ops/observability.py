"""Per request: a request id (from X-Request-ID or new), one log line, and the request metrics.

It wraps the whole ASGI application rather than sitting in Litestar's middleware list, because
Litestar runs that list only after routing: unknown paths (404) and wrong methods (405) would
leave no log line, no metric and no request id.
"""

from __future__ import annotations

import asyncio
import os
import re
from time import perf_counter

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, ReceiveMessage, Scope, Send

from service.ops.logs import REQUEST_ID, log_request
from service.ops.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
# NGINX's $request_id is 32 hex characters; accept any similar token, refuse anything that could
# forge log lines or blow up a header (it is echoed back).
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED_ROUTE = "unmatched"  # one label for every unknown path, so scanners cannot explode the series
CLIENT_CLOSED = 499  # NGINX's code for "the client went away before the answer"


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _VALID_REQUEST_ID.fullmatch(value) else None
    return None


class RequestObservability:
    """ASGI wrapper: binds `request_id` for every log line of the request, echoes it in the
    response, then writes the request line and records the metrics once the response is sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or os.urandom(16).hex()  # like NGINX's $request_id
        path = scope["path"]  # before routing rewrites it for mounted apps
        token = REQUEST_ID.set(request_id)  # every log line of this request carries it
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 0
        started = perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        client_left = False

        async def receive_noting_disconnect() -> ReceiveMessage:
            nonlocal client_left
            message = await receive()
            client_left = client_left or message["type"] == "http.disconnect"
            return message

        if self.metrics:
            self.metrics.request_started()
        try:
            await self.app(scope, receive_noting_disconnect, send_with_request_id)
        except asyncio.CancelledError:
            status = status or CLIENT_CLOSED
            raise
        except BaseException:
            status = status or 500
            raise
        finally:
            if client_left and status >= 500:
                # The client hung up mid-body (Litestar then raises "client disconnected
                # prematurely", a 500 nobody receives): not a server error, so no 5xx alert.
                status = CLIENT_CLOSED
            self._record(scope, request_id, path, status, perf_counter() - started)
            REQUEST_ID.reset(token)

    def _record(self, scope: HTTPScope, request_id: str, path: str, status: int, seconds: float) -> None:
        method = scope["method"]
        route = scope.get("path_template") or UNMATCHED_ROUTE
        if self.metrics:
            self.metrics.request_finished(method, route, status, seconds)
        if self.log_requests:
            fields = {
                "request_id": request_id,
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            }
            # user_id is set by service.users.auth when the request carried a valid token.
            if (user_id := scope.get("user_id")) is not None:
                fields["user_id"] = user_id
            log_request("warning" if status >= 500 else "info", fields)


def install(app: Litestar, metrics: Metrics | None, log_requests: bool) -> None:
    """Wrap the app's ASGI handler (after routing and exception handling are built)."""
    if metrics is None and not log_requests:
        return  # both switched off (only to measure their cost): no wrapper at all
    app.asgi_handler = RequestObservability(app.asgi_handler, metrics, log_requests)
