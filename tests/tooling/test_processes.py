"""deploy/processes.py: a server of ours is ready only when it answers itself, never when another
program that took its port answers for it (two checkouts' test runs on one machine)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy import processes


class _AlwaysReady(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[ThreadingHTTPServer]:
    """Another program's server on a port the app is about to use, answering 200 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_listens_on_names_the_owner_of_a_listening_socket(impostor: ThreadingHTTPServer) -> None:
    if processes.listens_on(1, 1) is None:
        pytest.skip("no /proc: the owner of a port cannot be told here")
    port = impostor.server_address[1]
    assert processes.listens_on(os.getpid(), port) is True
    with socket.socket() as bound_only:  # bound, not listening: nobody listens on it
        bound_only.bind(("127.0.0.1", 0))
        assert processes.listens_on(os.getpid(), bound_only.getsockname()[1]) is False


def test_an_app_whose_port_another_program_answers_on_is_not_ready(
    impostor: ThreadingHTTPServer, tmp_path: Path
) -> None:
    if sys.platform != "linux":
        pytest.skip("the port's owner is read from /proc")
    port = impostor.server_address[1]
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db", "ENVIRONMENT": "test"}
    with pytest.raises(processes.PortTaken, match=f"127.0.0.1:{port} is taken by another program"):
        processes.start_app(env, tmp_path / "app.log", port=port)
