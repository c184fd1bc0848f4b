"""Run `python -m service.cli serve` as a real server process on a free port, the way deployments do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.faults.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, workdir: Path, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = workdir / f"server-{self.port}.log"
        # The working directory is a temp dir, so a developer's .env does not leak into the test.
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        if "PROMETHEUS_MULTIPROC_DIR" not in env:
            environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port), "--workers", str(workers)]
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(command, cwd=workdir, env=environment, stdout=stderr, stderr=stderr)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
