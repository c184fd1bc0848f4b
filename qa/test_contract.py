"""Contract fuzzing: Schemathesis against the service's own OpenAPI schema, every check, every phase.

The phases (examples, coverage, fuzzing, stateful through the links it infers between operations)
and the fixed example budget are in qa/schemathesis.toml; qa/schemathesis_hooks.py gives each
request its own Idempotency-Key. A finding is fixed in the service, not excluded here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from qa.conftest import QA_DIR, RUN_NOTES, User

REPORT_DIR = QA_DIR.parent / "reports" / "qa"


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schemathesis.cli"]


def test_slow_data_generation_is_not_a_failure() -> None:
    """On a busy machine Hypothesis's too_slow health check would fail the run for no fault of the API."""
    from schemathesis.config import HealthCheck, SchemathesisConfig

    config = SchemathesisConfig.from_path(str(QA_DIR / "schemathesis.toml"))
    assert HealthCheck.too_slow in config.suppress_health_check


def test_schemathesis_finds_no_failures(base_url: str, make_user, tmp_path: Path) -> None:
    user: User = make_user("fuzz")
    assert httpx.get(f"{base_url}/schema/openapi.json", timeout=10).status_code == 200
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        *schemathesis_command(),
        "--config-file",
        str(QA_DIR / "schemathesis.toml"),
        "run",
        f"{base_url}/schema/openapi.json",
        "--url",
        base_url,
        "--checks",
        "all",
        "--header",
        f"Authorization: Token {user.token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(REPORT_DIR / "schemathesis.xml"),
        "--no-color",
    ]
    if os.environ.get("QA_SEED"):  # replay a run: the seed is in the closing summary
        command += ["--seed", os.environ["QA_SEED"]]
    # Run from a temporary directory: Schemathesis and Hypothesis leave caches where they run.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "qa.schemathesis_hooks", "PYTHONPATH": str(QA_DIR.parent)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(summary)
    generated = re.search(r"(\d+) generated[^\n]*", output)
    seed = re.search(r"Seed: (\d+)", output)
    RUN_NOTES.append(
        f"Schemathesis: {generated.group(0).strip() if generated else 'no case count found'}"
        f" (seed {seed.group(1) if seed else '?'}; log: reports/qa/schemathesis.txt)"
    )
    (REPORT_DIR / "schemathesis.txt").write_text(output, encoding="utf-8")
    assert result.returncode == 0, (
        f"Schemathesis found failures (full log in reports/qa/schemathesis.txt):\n{output[-6000:]}"
    )
    assert generated is not None, summary
    assert int(generated.group(1)) > 0, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}|\[OK\] {phase}|{phase}.*passed", output), f"phase {phase} did not pass"
