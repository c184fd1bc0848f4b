"""The server's limits on heads and stalling clients: the protocol alone, in-process, with a stand-in app.

Each test proves one limit to the byte or one clock case; tests/faults/test_hostile_clients.py
sends the outside tester's requests to the real server process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvloop
from uvicorn.config import Config
from uvicorn.server import ServerState

from service.ops.http_limits import LimitedHttpToolsProtocol, ServerLimits
from tests.raw_http import connect, exchange, is_closed, read_answer, send

CLOCK = 0.3  # seconds; the stand-in app's delays are several of these
HEAD = b"GET / HTTP/1.1\r\nHost: x\r\n"


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 200 with the request body; `x-delay` seconds before reading it; `x-skip-body` never reads it.
    Accepts a WebSocket and keeps it open."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        return
    headers = dict(scope["headers"])
    await asyncio.sleep(float(headers.get(b"x-delay", b"0")))
    body, more = b"", b"x-skip-body" not in headers
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    length = str(len(body)).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(**limits: Any) -> Iterator[int]:
    """The protocol on a free loopback port, on uvloop in a thread; yields the port."""
    defaults = {"header_timeout_seconds": CLOCK, "body_timeout_seconds": CLOCK}
    config = Config(echo_app, log_config=None, lifespan="off")  # log_config=None: pytest keeps its logging
    config.load()
    state = ServerState()
    loop = uvloop.new_event_loop()

    def protocol() -> LimitedHttpToolsProtocol:
        bound = ServerLimits(**{**defaults, **limits})
        return LimitedHttpToolsProtocol(config=config, server_state=state, app_state={}, limits=bound)

    listener = socket.create_server(("127.0.0.1", 0))
    server = loop.run_until_complete(loop.create_server(protocol, sock=listener))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:

        def stop() -> None:
            server.close()
            for connection in list(state.connections):
                connection.transport.close()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        thread.join(timeout=10)
        loop.close()


def padded_head(total_bytes: int) -> bytes:
    """A GET whose head (request line, headers, blank line) is exactly `total_bytes` long."""
    bare = HEAD + b"X-Pad: \r\n\r\n"
    return HEAD + b"X-Pad: " + b"a" * (total_bytes - len(bare)) + b"\r\n\r\n"


def assert_refused(answer: Any, status: int, message: str) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["connection"] == "close"
    assert answer.json() == {"errors": {"body": [message]}}
    assert answer.closed, "the server kept the connection after refusing"


def test_request_target_is_limited_to_the_byte() -> None:
    with serving(max_request_line_bytes=100) as port:
        assert exchange(port, b"GET /" + b"a" * 99 + b" HTTP/1.1\r\nHost: x\r\n\r\n", expect_close=False).status == 200
        answer = exchange(port, b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_refused(answer, 414, "request line too long: the limit is 100 bytes")


def test_head_is_counted_to_the_byte_and_per_request() -> None:
    with serving(max_header_bytes=300) as port:
        with connect(port) as sock, sock.makefile("rb") as reader:
            for _ in range(3):  # together over the limit, each at it
                send(sock, padded_head(300))
                assert read_answer(reader)[0] == 200
        answer = exchange(port, padded_head(301))
        assert_refused(answer, 431, "request header section too large: the limit is 300 bytes")


def test_a_header_line_far_over_the_limit_is_refused_as_it_arrives() -> None:
    with serving(max_header_bytes=1024) as port:
        # httptools would keep this line whole until its end; the count stops it at 1 KiB.
        answer = exchange(port, HEAD + b"X-Big: ", b"a" * (4 << 20), b"\r\n\r\n")
        assert_refused(answer, 431, "request header section too large: the limit is 1024 bytes")


def test_number_of_headers_is_limited() -> None:
    with serving(max_headers=5) as port:
        four_more = b"".join(b"X-%d: v\r\n" % i for i in range(4))
        assert exchange(port, HEAD + four_more + b"\r\n", expect_close=False).status == 200
        answer = exchange(port, HEAD + four_more + b"X-4: v\r\n\r\n")
        assert_refused(answer, 431, "too many request headers: the limit is 5")


@pytest.mark.parametrize(
    "request_bytes",
    [
        HEAD + b"Bad Header\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
    ids=["header-without-colon", "nul-in-request-line", "tls-hello"],
)
def test_malformed_request_gets_the_json_400(request_bytes: bytes) -> None:
    with serving() as port:
        assert_refused(exchange(port, request_bytes), 400, "malformed HTTP request")


def test_stalled_head_gets_408() -> None:
    with serving() as port:
        answer = exchange(port, HEAD + b"X-Slow: abc")
        assert_refused(answer, 408, "request header not received in time")
        print(f"stalled head closed after {answer.seconds} s (clock {CLOCK} s)")
        assert answer.seconds < 15


def test_a_later_request_stalled_in_its_head_gets_408() -> None:
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        send(sock, HEAD + b"\r\n")
        assert read_answer(reader)[0] == 200
        send(sock, HEAD + b"X-Slow: abc")  # uvicorn's keep-alive clock stopped at its first byte
        status, headers, body = read_answer(reader)
        assert (status, headers["connection"]) == (408, "close")
        assert json.loads(body) == {"errors": {"body": ["request header not received in time"]}}
        assert is_closed(sock, reader)


def test_idle_new_connection_is_closed_without_an_answer() -> None:
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        assert is_closed(sock, reader)


def test_stalled_body_gets_408() -> None:
    with serving() as port:
        answer = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert_refused(answer, 408, "request body not received in time")
        print(f"stalled body closed after {answer.seconds} s (clock {CLOCK} s)")


def test_a_body_waiting_for_a_slow_app_is_not_a_stall() -> None:
    # More than uvicorn buffers (64 KiB): it stops reading until the app takes the body, 3 clocks later.
    body = b"b" * (4 << 20)
    request = b"POST / HTTP/1.1\r\nHost: x\r\nX-Delay: %.1f\r\nContent-Length: %d\r\n\r\n" % (3 * CLOCK, len(body))
    with serving() as port:
        answer = exchange(port, request + body, expect_close=False)
        assert answer.status == 200, answer
        assert answer.body == body


def test_a_client_waiting_for_100_continue_is_not_stalled() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Delay: %.1f\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        send(sock, head % (3 * CLOCK))
        assert read_answer(reader)[0] == 100  # sent when the app asks for the body
        send(sock, b"body")
        assert read_answer(reader)[0::2] == (200, b"body")


def test_a_slow_app_on_a_kept_connection_is_not_a_stalled_client() -> None:
    slow = b"GET / HTTP/1.1\r\nHost: x\r\nX-Delay: %.1f\r\n\r\n" % (3 * CLOCK)
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        for _ in range(2):
            send(sock, slow)
            assert read_answer(reader)[0] == 200


def test_pipelined_requests_are_answered_in_order() -> None:
    post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
    with serving(max_header_bytes=1024) as port, connect(port) as sock, sock.makefile("rb") as reader:
        send(sock, post + HEAD + b"\r\n" + post.replace(b"first", b"third"))
        assert [read_answer(reader)[0::2] for _ in range(3)] == [(200, b"first"), (200, b""), (200, b"third")]


def test_a_body_stalled_after_the_answer_is_closed_without_a_second_answer() -> None:
    request = b"POST / HTTP/1.1\r\nHost: x\r\nX-Skip-Body: 1\r\nContent-Length: 10\r\n\r\nabc"
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        send(sock, request)
        assert read_answer(reader)[0] == 200
        assert is_closed(sock, reader), "the connection stayed open with half a body in it"


def test_a_websocket_upgrade_is_left_to_uvicorn_and_outlives_the_clocks() -> None:
    handshake = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with serving() as port, connect(port) as sock, sock.makefile("rb") as reader:
        send(sock, handshake)
        assert read_answer(reader)[0] == 101
        time.sleep(3 * CLOCK)
        send(sock, b"\x89\x80\x00\x00\x00\x00")  # a masked, empty ping
        assert reader.read(2) == b"\x8a\x00"  # its pong
