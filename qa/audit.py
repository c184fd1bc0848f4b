"""`make audit`, the dependency half: pip-audit over the image's packages (uv.lock without the dev
groups), with an honest verdict.

pip-audit prints "No known vulnerabilities found" even when it could audit nothing (every package
"not found" because the vulnerability service is unreachable); this wrapper counts what was really
checked and fails with a clear message when the answer is unknown.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def runtime_requirements() -> str:
    """The packages `uv sync --no-dev` puts in the image, pinned and hashed, exported from uv.lock."""
    command = [
        str(Path(sys.executable).parent / "uv"), "export", "--frozen", "--no-dev", "--no-emit-project",
        "--format", "requirements-txt", "--quiet",
    ]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120).stdout


def main() -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(runtime_requirements())
        requirements.flush()
        command = [
            str(Path(sys.executable).parent / "pip-audit"),
            "--requirement", requirements.name,
            "--disable-pip", "--no-deps", "--progress-spinner", "off", "--timeout", "30", "--format", "json",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()}", file=sys.stderr)
        return 2
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    print(f"pip-audit: {len(dependencies)} packages, {len(audited)} audited, {len(skipped)} skipped, "
          f"{len(vulnerable)} vulnerable")  # fmt: skip
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    if dependencies and not audited:
        print(
            "pip-audit could not reach its vulnerability database (every package was skipped, e.g. "
            f"{skipped[0]['skip_reason']!r}); the dependency scan result is UNKNOWN. Run `make audit` "
            "where the vulnerability service is reachable.",
            file=sys.stderr,
        )
        return 2
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
