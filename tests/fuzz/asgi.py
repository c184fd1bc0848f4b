"""Send one hand-built HTTP request straight to the ASGI app, bypassing every client-side check."""

from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar.types import ASGIApp, HTTPDisconnectEvent, HTTPRequestEvent, Message

# Far above any real answer; only a request that hangs the app gets near it.
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RawRequest:
    method: str
    raw_path: bytes
    query_string: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body_chunks: tuple[bytes, ...] = (b"",)
    client: tuple[str, int] | None = ("127.0.0.1", 50000)

    @property
    def path(self) -> str:
        """Percent-decoded as uvicorn does (`unquote` of the ASCII target, undecodable bytes replaced)."""
        return unquote_to_bytes(self.raw_path).decode("utf-8", "replace")

    def scope(self) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.raw_path,
            "root_path": "",
            "query_string": self.query_string,
            "headers": [list(pair) for pair in self.headers],
            "client": self.client,
            "server": ("testserver", 80),
            "state": {},
        }


@dataclass
class RawResponse:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    path_template: str | None = None  # the route that answered, as Litestar matched it
    error: str | None = None  # a traceback when the app raised instead of answering

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)


async def send_raw(app: ASGIApp, request: RawRequest) -> RawResponse:
    """The app's answer to `request`; an exception escaping the app is reported, not raised,
    because the server in front of it would turn it into a 500 for the client."""
    response = RawResponse()
    chunks = list(request.body_chunks)
    scope = request.scope()

    async def receive() -> HTTPRequestEvent | HTTPDisconnectEvent:
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}  # asked again after the body: the client has gone

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            response.body += message.get("body", b"")

    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await app(scope, receive, send)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any escaping exception is the finding itself
        response.error = traceback.format_exc()
    response.path_template = scope.get("path_template")
    return response
