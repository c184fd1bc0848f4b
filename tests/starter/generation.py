"""What the generator's tests share: running commands in throwaway clones and generated services.

Everything runs on throwaway clones in a temporary directory: the repository itself gets no commit.
A generated service reuses this checkout's virtual environment (VENV=), so nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
COPIER = VENV / "bin" / "copier"
NAME, SLUG = "Bookmarks API", "bookmarks_api"
# Author and committer for the throwaway repositories, whatever the machine's git configuration.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "starter test",
    "GIT_AUTHOR_EMAIL": "starter@example.com",
    "GIT_COMMITTER_NAME": "starter test",
    "GIT_COMMITTER_EMAIL": "starter@example.com",
}


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**_clean_environment(), **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def _clean_environment() -> dict[str, str]:
    """This run's environment without what would tie a child to it (coverage, xdist worker, make)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COV_CORE_", "PYTEST_", "COVERAGE_"))
        and key not in {"PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }


def git(*args: str, cwd: Path) -> str:
    return run("git", *args, cwd=cwd)


def generate(upstream: Path, destination: Path, *answers: str) -> Path:
    """`copier copy` as the issue's acceptance test runs it, with every answer but the name and the
    given ones ("with_conduit=false") defaulted."""
    copy: list[str | Path] = [
        COPIER,
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref=HEAD",
        f"--data=project_name={NAME}",
        *(f"--data={answer}" for answer in answers),
    ]
    run(*copy, upstream, destination, cwd=upstream)
    return destination


def files_naming_conduit(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in {".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}:
            continue
        in_text = path.is_file() and b"conduit" in path.read_bytes().lower()
        if in_text or "conduit" in str(relative).lower():
            found.append(str(relative))
    return found


def make(service: Path, target: str) -> str:
    """A make target of the generated service, with this checkout's virtual environment as it is."""
    return run("make", f"VENV={VENV}", "-o", f"{VENV}/bin/.installed", target, cwd=service)


def lint(service: Path) -> str:
    """The service's `make lint` output, with this checkout's mypy cache copied in first: mypy then
    re-checks only the modules the generator changed (seconds instead of a minute)."""
    cache = REPO / ".mypy_cache"
    if cache.is_dir():
        shutil.copytree(cache, service / ".mypy_cache", dirs_exist_ok=True)
    return make(service, "lint")
