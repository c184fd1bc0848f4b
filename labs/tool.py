"""Run the mentoring labs: `check N` (is lab N done?), `start N` (plant a break-it lab), `verify`.

`verify` is what CI runs (`make labs-verify`): for every lab it copies the repository to a
scratch folder, proves the check FAILS there untouched (and, for a break-it lab, after its
setup patch), applies the reference solution, and proves the check then PASSES. So no lab ships
broken or unsolvable, and no lab is already solved.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

LABS = Path(__file__).resolve().parent
ROOT = LABS.parent
STARTED = ".started"  # marker written by `start`; ignored by git (labs/.gitignore)


@dataclass(frozen=True, slots=True)
class Lab:
    number: int
    folder: Path

    @property
    def check_file(self) -> Path:
        return self.folder / f"check_lab{self.number}.py"

    @property
    def setup_patch(self) -> Path | None:
        patch = self.folder / "setup.patch"
        return patch if patch.exists() else None

    @property
    def solution_patch(self) -> Path:
        return self.folder / "solution.patch"

    @property
    def needs_postgresql(self) -> bool:
        """Lab 7's race cannot happen on SQLite, so its check also runs on PostgreSQL."""
        return "postgres_url" in self.check_file.read_text(encoding="utf-8")

    @property
    def needs_promtool(self) -> bool:
        """Lab 9 replays an incident through Prometheus's rule engine."""
        return "promtool" in self.check_file.read_text(encoding="utf-8")


def find_labs(root: Path = ROOT) -> list[Lab]:
    labs = []
    for folder in sorted((root / "labs").iterdir()):
        number = folder.name.split("-", 1)[0]
        if folder.is_dir() and number.isdigit():
            labs.append(Lab(int(number), folder))
    return labs


def find_lab(number: int, root: Path = ROOT) -> Lab:
    for lab in find_labs(root):
        if lab.number == number:
            return lab
    raise SystemExit(f"no lab {number}; there are: {', '.join(str(lab.number) for lab in find_labs(root))}")


def run_pytest(files: list[Path], root: Path, *, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """pytest on check files, with this interpreter (the project's .venv), inside `root`."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--no-header"]
    command += [str(file.relative_to(root)) for file in files]
    return subprocess.run(command, cwd=root, env=env, capture_output=quiet, text=True, check=False)  # noqa: S603


def run_check(lab: Lab, root: Path, *, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    return run_pytest([lab.check_file], root, quiet=quiet)


def failed_tests(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(" - ")[0] for line in result.stdout.splitlines() if line.startswith("FAILED")]


class PatchDoesNotApply(Exception):
    """The code a lab patch expects has changed since the patch was made: refresh the patch."""


def apply_patch(patch: Path, root: Path) -> None:
    result = subprocess.run(  # noqa: S603
        ["git", "apply", "--whitespace=nowarn", str(patch)],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PatchDoesNotApply(f"{patch.relative_to(root)} does not apply any more:\n{result.stderr}")


def start(lab: Lab, root: Path = ROOT, *, quiet: bool = False) -> None:
    if (lab.folder / STARTED).exists():
        print(f"lab {lab.number} is already started")
        return
    if lab.setup_patch:
        apply_patch(lab.setup_patch, root)
    (lab.folder / STARTED).touch()
    if not quiet:
        guide = lab.folder.relative_to(root) / "README.md"
        print(f"lab {lab.number} started: read {guide}, then `make lab N={lab.number}`")


_NOT_COPIED = {".git", ".venv", "var", "reports", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache"}


def copy_repository(destination: Path) -> None:
    """Copy the files git knows about (tracked, plus new files not ignored): no .venv, var or reports.

    Outside a git checkout (an unpacked archive) it copies the tree minus the usual caches.
    """
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listing.returncode == 0:
        names = [name for name in listing.stdout.decode().split("\0") if name]
    else:
        names = [
            str(path.relative_to(ROOT))
            for path in ROOT.rglob("*")
            if path.is_file() and path.name != STARTED and not _NOT_COPIED.intersection(path.relative_to(ROOT).parts)
        ]
    for name in names:
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def lint_clean(patch: Path, root: Path, steps: list[str]) -> bool:
    """A reference solution follows the house style: ruff check and ruff format on what it touches."""
    touched = re.findall(r"^\+\+\+ b/(\S+\.py)$", patch.read_text(encoding="utf-8"), re.MULTILINE)
    if not touched:
        return True
    ruff = str(Path(sys.executable).with_name("ruff"))
    for command in ([ruff, "check", "--quiet", *touched], [ruff, "format", "--check", "--quiet", *touched]):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            steps.append(f"solution is not lint-clean ({' '.join(command[1:3])})  <-- WRONG\n{result.stdout}")
            return False
    steps.append(f"solution passes ruff check and ruff format ({len(touched)} Python files)")
    return True


def verify_untouched(labs: list[Lab], scratch: Path) -> dict[int, tuple[bool, list[str]]]:
    """Every check fails on one untouched copy; one pytest run for all of them (they share it)."""
    root = scratch / "untouched"
    copy_repository(root)
    result = run_pytest([find_lab(lab.number, root).check_file for lab in labs], root, quiet=True)
    failed = failed_tests(result)
    verdicts: dict[int, tuple[bool, list[str]]] = {}
    for lab in labs:
        mine = [line for line in failed if f"check_lab{lab.number}.py::" in line]
        # A lab "fails" only when its tests ran and some failed (exit code 1): a crash, an import
        # error or a collection error (exit codes 2-5) proves nothing about the lab.
        ok = result.returncode == 1 and bool(mine)
        steps = [f"untouched: fails (exit code {result.returncode}){'' if ok else '  <-- WRONG'}"]
        steps += [f"  {line}" for line in mine] if ok else [result.stdout[-3000:] + result.stderr[-2000:]]
        verdicts[lab.number] = ok, steps
    return verdicts


def verify_patched(lab: Lab, scratch: Path) -> tuple[bool, list[str]]:
    """A break-it lab fails after its setup patch; every lab passes with its solution."""
    root = scratch / f"lab{lab.number}"
    copy_repository(root)
    copied = find_lab(lab.number, root)
    steps: list[str] = []

    def expect(should_pass: bool, label: str) -> bool:
        result = run_check(copied, root, quiet=True)
        passed, failed = result.returncode == 0, failed_tests(result)
        as_expected = passed if should_pass else (result.returncode == 1 and bool(failed))
        outcome = "passes" if passed else f"fails (exit code {result.returncode})"
        steps.append(f"{label}: {outcome}{'' if as_expected else '  <-- WRONG'}")
        if not passed and as_expected:  # show why it fails, so a wrong reason is visible
            steps.extend(f"  {line}" for line in failed)
        if not as_expected:
            steps.append(result.stdout[-3000:] + result.stderr[-2000:])
        return as_expected

    try:
        ok = True
        if copied.setup_patch:
            start(copied, root, quiet=True)
            ok = expect(False, "after setup.patch")
        else:
            (copied.folder / STARTED).touch()
        if ok:
            apply_patch(copied.solution_patch, root)
            ok = expect(True, "with solution.patch") and lint_clean(copied.solution_patch, root, steps)
    except PatchDoesNotApply as error:
        ok = False
        steps.append(f"{error}  <-- WRONG")
    return ok, steps


def postgresql_missing() -> str | None:
    """Why labs that need PostgreSQL cannot run here; None when they can, or when they must."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        return None  # their checks then fail loudly instead of skipping
    from tests.conftest import postgres_unavailable_reason

    return postgres_unavailable_reason()


def promtool_missing() -> str | None:
    """Why labs that need promtool cannot run here; None when they can, or when they must."""
    if os.environ.get("REQUIRE_SERVICES") == "1" or shutil.which("promtool"):
        return None
    return "it is not installed (Debian/Ubuntu: apt-get install prometheus)"


def missing_requirement(lab: Lab) -> str | None:
    """What this machine lacks for a lab's check (a server or a tool), or None."""
    if lab.needs_postgresql and (reason := postgresql_missing()):
        return f"it needs PostgreSQL (TEST_POSTGRES_URL), and {reason}"
    if lab.needs_promtool and (reason := promtool_missing()):
        return f"it needs promtool, and {reason}"
    return None


def verify(numbers: list[int]) -> int:
    labs = [find_lab(n) for n in numbers] if numbers else find_labs()
    missing = {lab.number: reason for lab in labs if (reason := missing_requirement(lab))}
    for lab in labs:
        if lab.number in missing:
            print(f"lab {lab.number} ({lab.folder.name}) SKIPPED: {missing[lab.number]}")
    labs = [lab for lab in labs if lab.number not in missing]
    if not labs:
        return 0  # pytest given no check file would collect the whole repository
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labs-verify-") as scratch, ThreadPoolExecutor(max_workers=3) as pool:
        untouched = pool.submit(verify_untouched, labs, Path(scratch))
        patched = list(pool.map(lambda lab: verify_patched(lab, Path(scratch)), labs))
        first = untouched.result()
    broken = []
    for lab, (patched_ok, patched_steps) in zip(labs, patched, strict=True):
        untouched_ok, untouched_steps = first[lab.number]
        ok = untouched_ok and patched_ok
        broken += [] if ok else [lab.number]
        print(f"lab {lab.number} ({lab.folder.name}) {'OK' if ok else 'BROKEN'}")
        print("".join(f"    {step}\n" for step in untouched_steps + patched_steps), end="")
    print(f"labs-verify: {len(labs) - len(broken)}/{len(labs)} labs proven in {time.monotonic() - began:.1f}s")
    return 1 if broken else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="labs/tool.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the labs")
    for name, text in (("check", "run lab N's check"), ("start", "start lab N (applies its setup patch, if any)")):
        commands.add_parser(name, help=text).add_argument("number", type=int)
    commands.add_parser("verify", help="prove every lab fails untouched and passes with its solution").add_argument(
        "numbers", type=int, nargs="*"
    )
    args = parser.parse_args()
    if args.command == "list":
        for lab in find_labs():
            title = (lab.folder / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
            print(f"  make lab N={lab.number}    {title}")
        return 0
    if args.command == "start":
        try:
            start(find_lab(args.number))
        except PatchDoesNotApply as error:
            print(error)
            return 1
        return 0
    if args.command == "check":
        lab = find_lab(args.number)
        if lab.setup_patch and not (lab.folder / STARTED).exists():
            print(f"lab {lab.number} plants a bug first: run `make lab-start N={lab.number}`, then fix it.")
            return 1
        if reason := missing_requirement(lab):
            print(f"lab {lab.number} cannot run here: {reason}")
            return 1
        code = run_check(lab, ROOT).returncode
        verdict = "DONE, well done!" if code == 0 else "not done yet (read the failures above, then the hints)"
        print(f"\nlab {lab.number}: {verdict}")
        return code
    return verify(args.numbers)


if __name__ == "__main__":
    sys.exit(main())
