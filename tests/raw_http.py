"""Raw HTTP/1.1 over a socket: what a hostile or broken client sends, and what comes back."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any, BinaryIO


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server hung up after the answer
    seconds: float  # from the first byte sent to the hang-up (or the answer, if it kept the connection)

    def json(self) -> Any:
        return json.loads(self.body)


def connect(port: int, timeout: float = 15.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def send(sock: socket.socket, data: bytes) -> bool:
    """Send what the server will take; False once it hung up (it may refuse before reading it all)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def read_answer(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One response (an interim 100 Continue too): status, lower-cased headers, body by Content-Length."""
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection without answering")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", "0")))


def is_closed(sock: socket.socket, reader: BinaryIO, timeout: float = 15.0) -> bool:
    """True if the server hangs up within `timeout` (end of stream or reset)."""
    sock.settimeout(timeout)
    try:
        return reader.read(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def exchange(port: int, *parts: bytes, expect_close: bool = True) -> RawAnswer:
    """Send `parts` on a new connection, read one answer and, with `expect_close`, wait for the hang-up."""
    started = time.monotonic()
    with connect(port) as sock, sock.makefile("rb") as reader:
        for part in parts:
            if not send(sock, part):
                break
        status, headers, body = read_answer(reader)
        closed = is_closed(sock, reader) if expect_close else False
        return RawAnswer(status, headers, body, closed, round(time.monotonic() - started, 3))
