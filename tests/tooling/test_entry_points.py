"""`python -m service` and the `conduit` script (pyproject's [project.scripts]) run the one CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "service"],
        [str(BIN / "conduit")],
    ],
    ids=["python -m service", "conduit"],
)
def test_the_entry_point_offers_migrate_serve_and_seed(command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed (make venv installs the project)")
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "{migrate,serve,seed}" in result.stdout
