"""Child processes the tools start on loopback: a free port, waiting until one answers, stopping it.

Shared by `make stack`, `make qa`, `make load`, `make bench` and the observability benchmark.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path


class ProcessError(RuntimeError):
    """A child process exited early or did not answer in time; the message ends with its log."""


def is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port (nothing can bind it)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(candidates: Iterable[int] | None = None) -> int:
    """The first candidate port free on 127.0.0.1 (a suite keeps to its range), or any free port."""
    if candidates is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    tried = list(candidates)
    for port in tried:
        if is_free(port):
            return port
    raise ProcessError(f"no free port among {tried[0]}-{tried[-1]}" if tried else "no candidate ports")


def tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for_http(
    url: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None, timeout: float = 30.0
) -> None:
    """Return once `url` answers 200; fail at once if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ProcessError(f"{url}: the process exited with {process.returncode}\n{tail(log)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            if response.status == 200:
                return
        time.sleep(0.1)
    raise ProcessError(f"{url} did not answer 200 within {timeout:.0f} s\n{tail(log)}")


def stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM (the server drains in-flight requests), then SIGKILL if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
