"""Child processes the tools start on loopback: the app on a free port, waiting until it answers, stopping it.

The one helper for every suite and command that runs servers of its own: `make stack`, `make qa`,
`make load`, `make bench`, the observability benchmark, and the tests that need a real server
process (tests/faults, tests/races, tests/stack).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ProcessError(RuntimeError):
    """A child process exited early or did not answer in time; the message ends with its log."""


class PortTaken(ProcessError):
    """Another process took the port between the check that it was free and the child's bind."""


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


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds the socket listening on 127.0.0.1:port; None where /proc cannot tell.

    A port found free can be taken by another program (another checkout's test run) before the
    child binds it; the child then exits, but until it does the other program answers on "our"
    URL. Only the owner of the listening socket counts as the child being ready.
    """
    table, fds = Path("/proc/net/tcp"), Path(f"/proc/{pid}/fd")
    if not table.exists() or not fds.exists():
        return None
    address = f"0100007F:{port:04X}"  # 127.0.0.1 as the kernel prints it
    inodes = {
        fields[9]
        for line in table.read_text().splitlines()[1:]
        if (fields := line.split())[1] == address and fields[3] == "0A"  # 0A: LISTEN
    }
    sockets = {f"socket:[{inode}]" for inode in inodes}
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):  # a descriptor closed while we look
            if os.readlink(fd) in sockets:
                return True
    return False


def tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for_http(
    url: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None, timeout: float = 120.0
) -> None:
    """Return once `url` answers 200; fail at once if `process` exits first. The timeout is long:
    it only ends a wait for a server that will never answer, and a busy machine starts one slowly."""
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


class AppProcess:
    """`python -m service.cli serve` as a child process on 127.0.0.1, the way deployments run it.

    It gets the caller's environment plus `env` (a DATABASE_URL at least), runs in `workdir` (so a
    developer's .env does not leak in) and writes its output to `log`.
    """

    def __init__(
        self, env: Mapping[str, str], log: Path, *, workdir: Path = ROOT, port: int | None = None, workers: int = 1
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        if "PROMETHEUS_MULTIPROC_DIR" not in env:
            environment.pop("PROMETHEUS_MULTIPROC_DIR", None)  # serve makes its own for several workers
        command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*command, "--workers", str(workers)], env=environment, cwd=workdir, stdout=output, stderr=output
            )

    def wait_ready(self, path: str = "/health/ready", timeout: float = 120.0) -> None:
        """Until the child itself answers: a 200 from another program that holds the port does not count."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                wait_for_http(f"{self.base_url}{path}", self.process, self.log, max(deadline - time.monotonic(), 0.1))
            except ProcessError as error:
                if self.process.poll() is not None and not is_free(self.port):
                    raise PortTaken(f"127.0.0.1:{self.port} is taken by another program\n{tail(self.log)}") from error
                raise
            if listens_on(self.process.pid, self.port) is not False:
                return
            time.sleep(0.1)  # someone else answered; wait until the child binds the port or exits

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            stop(self.process)


def start_app(
    env: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
    candidates: Iterable[int] | None = None,
    workers: int = 1,
    attempts: int = 3,
) -> AppProcess:
    """An AppProcess that answers /health/ready. A port chosen here (no `port`) that another program
    takes before the app binds it is replaced by another free one; a port the caller chose is not."""
    for attempt in range(1, attempts + 1):
        app = AppProcess(env, log, port=port or free_port(candidates), workers=workers)
        try:
            app.wait_ready()
            return app
        except PortTaken:
            app.stop()
            if port is not None or attempt == attempts:
                raise
        except BaseException:
            app.stop()
            raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def serving_app(env: Mapping[str, str], log: Path, *, port: int | None = None, workers: int = 1) -> Iterator[str]:
    """The app served until the block ends; yields its base URL once /health/ready answers."""
    app = start_app(env, log, port=port, workers=workers)
    try:
        yield app.base_url
    finally:
        app.stop()
