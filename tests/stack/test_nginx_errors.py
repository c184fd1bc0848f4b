"""Every error NGINX writes itself answers JSON in the API's error shape, never its HTML pages.

Each request below is refused by NGINX before any app sees it; most are sent over a raw socket,
because httpx will not send a NUL byte in a path or a broken request line. The 413, 429, 405 and
503 answers are checked in test_native_stack.py, where the scenarios that cause them live.
"""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from deploy.stack import Stack
from tests.stack.answers import Answer, assert_nginx_error, send_raw
from tests.stack.logs import access_entries

pytestmark = pytest.mark.stack

BAD_REQUEST = "bad request: the request line, a header or the path is malformed"
URI_TOO_LONG = "request URI too long: the request line is limited to 8 KiB"
HEADERS_TOO_LARGE = "request headers too large: 8 KiB per line, at most 32 KiB in all"
BODY_TOO_LARGE = "request body too large: the limit is 1 MiB"
NOT_IMPLEMENTED = "not implemented: the only Transfer-Encoding accepted is chunked"
VERSION_NOT_SUPPORTED = "HTTP version not supported: use HTTP/1.1"

HEAD = b"Host: stack.test\r\nConnection: close\r\n"
LONG = b"a" * 9000  # over one 8 KiB header buffer
MIB_CHUNK = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"  # one chunk of exactly 1 MiB

REFUSED_BY_NGINX = {
    "NUL byte in the path": (b"GET /api/articles/a%00b HTTP/1.1\r\n" + HEAD + b"\r\n", 400, BAD_REQUEST),
    "path above the root": (b"GET /../etc/passwd HTTP/1.1\r\n" + HEAD + b"\r\n", 400, BAD_REQUEST),
    "broken method": (b"G@T /api/tags HTTP/1.1\r\n" + HEAD + b"\r\n", 400, BAD_REQUEST),
    "no Host header": (b"GET /api/tags HTTP/1.1\r\nConnection: close\r\n\r\n", 400, BAD_REQUEST),
    "NUL byte in a header": (b"GET /api/tags HTTP/1.1\r\n" + HEAD + b"X-A: a\x00b\r\n\r\n", 400, BAD_REQUEST),
    "Content-Length not a number": (
        b"POST /api/users HTTP/1.1\r\n" + HEAD + b"Content-Length: 1x\r\n\r\n",
        400,
        BAD_REQUEST,
    ),
    "Content-Length and chunked": (
        b"POST /api/users HTTP/1.1\r\n" + HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        BAD_REQUEST,
    ),
    "request line over 8 KiB": (b"GET /api/articles/" + LONG + b" HTTP/1.1\r\n" + HEAD + b"\r\n", 414, URI_TOO_LONG),
    "header line over 8 KiB": (
        b"GET /api/tags HTTP/1.1\r\n" + HEAD + b"X-Big: " + LONG + b"\r\n\r\n",
        431,
        HEADERS_TOO_LARGE,
    ),
    "cookie over 8 KiB": (
        b"GET /api/tags HTTP/1.1\r\n" + HEAD + b"Cookie: a=" + LONG + b"\r\n\r\n",
        431,
        HEADERS_TOO_LARGE,
    ),
    "headers over 32 KiB in all": (
        b"GET /api/tags HTTP/1.1\r\n"
        + HEAD
        + b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 7000) for i in range(5))
        + b"\r\n",
        431,
        HEADERS_TOO_LARGE,
    ),
    "chunked body over 1 MiB": (
        b"POST /api/articles HTTP/1.1\r\n"
        + HEAD
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + MIB_CHUNK * 2
        + b"0\r\n\r\n",
        413,
        BODY_TOO_LARGE,
    ),
    "unknown Transfer-Encoding": (
        b"POST /api/users HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
        501,
        NOT_IMPLEMENTED,
    ),
    "HTTP/2.0 request line": (b"GET /api/tags HTTP/2.0\r\n" + HEAD + b"\r\n", 505, VERSION_NOT_SUPPORTED),
}


@pytest.mark.parametrize(("request_bytes", "status", "message"), REFUSED_BY_NGINX.values(), ids=REFUSED_BY_NGINX)
def test_nginx_refusals_are_json(stack: Stack, request_bytes: bytes, status: int, message: str) -> None:
    answer = send_raw(stack.nginx_port, request_bytes)
    assert_nginx_error(answer, status, message)
    assert b"<html" not in answer.body.lower()


def test_a_nul_byte_in_the_path_never_reaches_an_app(stack: Stack) -> None:
    answer = send_raw(stack.nginx_port, b"POST /api/profiles/a%00b/follow HTTP/1.1\r\n" + HEAD + b"\r\n")
    assert_nginx_error(answer, 400, BAD_REQUEST)
    # Refused on its request line, before nginx reads any header (a client's X-Request-ID too), so
    # the id is nginx's own; the log still has the method.
    (entry,) = access_entries(stack, set(answer.headers["x-request-id"]))
    assert entry["status"] == 400 and entry["upstream_addr"] == "" and entry["method"] == "POST"


@pytest.mark.parametrize("path", ["/metrics", "/_nginx/bad-request"])
def test_paths_nginx_keeps_to_itself_are_json_404(http: httpx.Client, path: str) -> None:
    """/metrics is not proxied, and the error pages are internal: both are nginx's own 404."""
    response = http.get(path)
    assert_nginx_error(Answer.of(response), 404, "not found")
    assert "not proxied" in response.headers["proxy-status"]


def test_the_apps_own_errors_pass_through_untouched(http: httpx.Client) -> None:
    """error_page applies to nginx's answers only: the app's 404 and 405 keep their bodies."""
    missing = http.get(f"/api/articles/no-such-article-{uuid.uuid4().hex}")
    assert missing.status_code == 404 and "proxy-status" not in missing.headers
    assert missing.json() == {"errors": {"article": ["not found"]}}
    not_allowed = http.delete("/api/tags")
    assert not_allowed.status_code == 405 and "proxy-status" not in not_allowed.headers
    assert "body" in not_allowed.json()["errors"] and "GET" in not_allowed.headers["allow"]


def test_a_stalled_request_is_cut_off_without_an_answer(stack: Stack) -> None:
    """nginx logs 408 for a client that stops sending its head or body, but sends nothing back
    (it closes the connection), so there is no answer to turn into JSON; docs/deployment.md."""
    ids = {"head": f"stalled-head-{uuid.uuid4().hex}", "body": f"stalled-body-{uuid.uuid4().hex}"}
    stalled = {
        "head": f"GET /api/tags HTTP/1.1\r\nHost: stack.test\r\nX-Request-ID: {ids['head']}\r\n",
        "body": f"POST /api/users HTTP/1.1\r\nHost: stack.test\r\nX-Request-ID: {ids['body']}\r\n"
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user": ',
    }
    # Both stall at once, so the test waits one client_header_timeout/client_body_timeout (10 s).
    sockets = {name: socket.create_connection(("127.0.0.1", stack.nginx_port), timeout=60) for name in stalled}
    try:
        for name, sock in sockets.items():
            sock.sendall(stalled[name].encode())
        for name, sock in sockets.items():
            try:
                received = sock.recv(65536)
            except ConnectionResetError:  # reset_timedout_connection on: nginx may reset
                received = b""
            except TimeoutError:
                pytest.fail(f"stalled {name}: nginx kept the connection open for 60 s")
            assert received == b"", f"stalled {name}: nginx answered {received[:200]!r}"
    finally:
        for sock in sockets.values():
            sock.close()
    entries = access_entries(stack, set(ids.values()))
    assert sorted(e["status"] for e in entries) == [408, 408], entries
    assert all(e["bytes_sent"] == 0 for e in entries), entries
