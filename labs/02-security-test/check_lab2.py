"""Lab 2 check: the newcomer's tests pass on the service and fail on each mutant that drops an ownership check."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE / "test_other_users_data.py"


def _run_tests(mutant: str) -> subprocess.CompletedProcess[str]:
    # mutants.py sits next to this file; `-p mutants` loads it before the service is imported.
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "LAB2_MUTANT": mutant, "PYTHONPATH": path}
    command = [sys.executable, "-m", "pytest", "-q", "--no-header", "-p", "no:cacheprovider", "-p", "mutants"]
    command.append(str(TESTS))
    return subprocess.run(command, cwd=HERE.parents[1], env=env, capture_output=True, text=True, check=False)  # noqa: S603


def test_the_tests_exist() -> None:
    assert TESTS.exists(), f"write your tests in {TESTS.relative_to(HERE.parents[1])}"
    tree = ast.parse(TESTS.read_text(encoding="utf-8"))
    tests = [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
    assert len(tests) >= 2, f"expected at least two tests, found {tests}"


def test_they_pass_on_the_real_service() -> None:
    if not TESTS.exists():
        pytest.fail("no tests yet")
    result = _run_tests("")
    assert result.returncode == 0, "your tests must pass on the real service:\n" + result.stdout[-4000:]


@pytest.mark.parametrize("mutant", ["article-owner", "comment-author"])
def test_they_catch_the_mutant(mutant: str) -> None:
    if not TESTS.exists():
        pytest.fail("no tests yet")
    result = _run_tests(mutant)
    # Exit code 1 means "tests ran and some failed"; 2-4 would be a crash, which catches nothing.
    assert result.returncode == 1, (
        f"your tests did not notice the mutant '{mutant}' (pytest exit code {result.returncode}):\n"
        + result.stdout[-4000:]
    )
