"""`make qa` without BASE_URL: start the app on a free port with a fresh SQLite database, run the
suite against it, stop the app. The app is a separate process; this file imports nothing from it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from deploy.processes import start_app

ROOT = Path(__file__).resolve().parent.parent


def app_log_problems(log: str) -> list[str]:
    """Lines of the app's log that no request may cause: tracebacks, leaked connections, errors.

    A 4xx answer can hide a server-side failure (a leaked pool connection is logged only when the
    garbage collector finds it), so a run with such lines fails even when every answer was right.
    """
    markers = ("Traceback", "non-checked-in connection", "[error", "[critical", "ERROR")
    return [line[:300] for line in log.splitlines() if any(marker in line for marker in markers)]


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="conduit-qa-") as tmp:
        secret = secrets.token_urlsafe(48)
        env = {
            # QA_DATABASE_URL: an empty database of your own (e.g. PostgreSQL) instead of a fresh SQLite.
            "DATABASE_URL": os.environ.get("QA_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/qa.db",
            "SECRET_KEY": secret,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "service.cli", "migrate"], env={**os.environ, **env}, cwd=ROOT, check=True
        )
        log_path = ROOT / "reports" / "qa" / "app.log"
        port = int(os.environ["QA_PORT"]) if os.environ.get("QA_PORT") else None  # else any free port
        app = start_app(env, log_path, port=port)
        exit_code = 1
        try:
            print(f"qa: app started at {app.base_url} on {env['DATABASE_URL'].split('://')[0]}", flush=True)
            qa_env = {**os.environ, "BASE_URL": app.base_url, "QA_SECRET_KEY": secret}
            exit_code = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], env=qa_env, cwd=ROOT).returncode
        finally:
            app.stop()
            problems = app_log_problems(app.output())
            print(f"qa: app stopped; its log is reports/qa/app.log ({len(problems)} problem(s))", file=sys.stderr)
        for line in problems:
            print(f"qa: the app logged: {line}", file=sys.stderr)
        return exit_code or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
