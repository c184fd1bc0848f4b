"""What every error NGINX writes itself must look like, and a raw-socket client for the requests
httpx will not send (a NUL byte in the path, a broken request line, a stalled body)."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass

import httpx

# error-headers.conf and headers.conf: on every JSON error nginx writes, exactly once each.
NGINX_ERROR_HEADERS = {
    "content-type": "application/json",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@dataclass(frozen=True)
class Answer:
    """A response reduced to what the checks read, from httpx or from a raw socket."""

    status: int
    headers: dict[str, list[str]]  # lower-case names
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.multi_items():
            headers.setdefault(name.lower(), []).append(value)
        return cls(response.status_code, headers, response.content)


def send_raw(port: int, request: bytes) -> Answer:
    """Send bytes as they are to 127.0.0.1:port and read one HTTP/1.x answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        headers: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return Answer(response.status, headers, response.read())


def assert_nginx_error(answer: Answer, status: int, message: str) -> None:
    """The API's error shape, JSON, the API's headers, and a Proxy-Status naming nginx."""
    where = f"{status} {message!r}: got {answer.status} {answer.body[:200]!r}"
    assert answer.status == status, where
    assert json.loads(answer.body) == {"errors": {"body": [message]}}, where
    for name, value in NGINX_ERROR_HEADERS.items():
        assert answer.headers.get(name) == [value], f"{where}: {name} is {answer.headers.get(name)}"
    assert len(answer.headers.get("x-request-id", [])) == 1, where
    (proxy_status,) = answer.headers["proxy-status"]
    assert proxy_status.startswith("nginx; error="), where
