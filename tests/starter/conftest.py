"""The throwaway upstream every generator test generates from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.starter.generation import REPO, git


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway clone of this checkout, with its uncommitted changes committed there (not here)."""
    clone = tmp_path_factory.mktemp("upstream") / "stack"
    git("clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=REPO)
    changed = git("ls-files", "--modified", "--others", "--exclude-standard", "-z", cwd=REPO).split("\0")
    deleted = set(git("ls-files", "--deleted", "-z", cwd=REPO).split("\0"))
    for relative in filter(None, changed):
        if relative not in deleted:
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, clone / relative)
    for relative in filter(None, deleted):
        (clone / relative).unlink(missing_ok=True)
    git("add", "--all", cwd=clone)
    git("commit", "--quiet", "--allow-empty", "-m", "the checkout as it is", cwd=clone)
    return clone
