"""The everyday make targets do what they say: `make format` fixes what a tool can fix and fails
only for what needs a person; `make help` keeps every name apart from its description."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
LONG_CALL = 'result = os.path.join("first-directory-name", "second-directory-name", "third-directory-name", "the-fourth-one", "file.txt")\n'


def make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -o: the scratch copy uses this checkout's .venv as it is, never syncs it to the copy's project.
    command = ["make", "--no-print-directory", "-C", str(cwd), f"VENV={VENV}", "-o", f"{VENV}/bin/.installed", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The Makefile, its includes and the ruff settings, with a service/ of one file."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "mk", tmp_path / "mk")
    (tmp_path / "service").mkdir()
    return tmp_path


def test_format_fixes_a_long_line_and_an_unsorted_import_and_exits_0(scratch: Path) -> None:
    source = scratch / "service" / "module.py"
    source.write_text('"""A module."""\n\nimport sys\nimport os\n\n' + LONG_CALL + "print(os.sep, sys.argv)\n")
    assert len(LONG_CALL) > 120
    result = make("format", cwd=scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = source.read_text()
    assert max(len(line) for line in fixed.splitlines()) <= 120
    assert fixed.index("import os") < fixed.index("import sys")
    check = subprocess.run(
        [str(VENV / "bin" / "ruff"), "check", "."], cwd=scratch, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout


def test_format_fails_only_for_what_needs_a_person(scratch: Path) -> None:
    source = scratch / "service" / "module.py"
    # A comment longer than the limit: no formatter splits it, so E501 is left for a person.
    source.write_text('"""A module."""\n\n# ' + "x" * 130 + "\nimport os\n\nprint(os.sep)\n")
    result = make("format", cwd=scratch)
    assert result.returncode != 0
    assert "E501" in result.stdout + result.stderr
    assert source.read_text().endswith("import os\n\nprint(os.sep)\n")


def test_help_keeps_every_target_name_apart_from_its_description() -> None:
    result = make("help")
    assert result.returncode == 0, result.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in result.stdout.splitlines() if line.strip()]
    names = [line.split()[0] for line in lines]
    assert "bench-observability" in names and "test-observability" in names
    for line, name in zip(lines, names, strict=True):
        assert re.match(rf"  {re.escape(name)} {{2,}}\S", line), f"name runs into its description: {line!r}"
