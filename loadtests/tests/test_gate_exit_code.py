"""End to end: a run that misses a gate exits non-zero and names the threshold it missed, even in
the behaviour-only mode of `make test` (errors are always gated)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests import run


@pytest.mark.slow
def test_a_run_against_a_dead_host_fails_its_error_ratio_gate(tmp_path: Path) -> None:
    # A port this test holds bound but not listening: every connection is refused, and no other
    # program (another checkout's run) can start a server there meanwhile.
    with socket.socket() as dead_port:
        dead_port.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{dead_port.getsockname()[1]}"
        out = tmp_path / "report"
        command = [sys.executable, "-m", "loadtests.run", "--shape", "smoke", "--host", dead, "--behaviour-only"]
        result = subprocess.run(
            [*command, "--out", str(out)],
            env=run._env(LOAD_SMOKE_SECONDS="4", LOAD_THINK_MIN="0.1", LOAD_THINK_MAX="0.3"),
            cwd=run.ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr[-2000:]
    assert "GATES FAILED" in result.stdout
    assert "max_error_ratio: 100.00% of" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["passed"]
