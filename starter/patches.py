"""Keep the variants' patches (starter/*.patch) in step with the repository (starter/README.md).

    python -m starter.patches prepare DIR   a git worktree of HEAD with each variant applied in turn
                                            (one commit for its base, one for its patch), `git apply
                                            -3` so a change here shows as a conflict to resolve;
                                            run it again after committing a resolution to go on
    python -m starter.patches export DIR    write each variant's patch and new files back from DIR

Edit a variant in DIR, on top of its commit (new commits are fine), then export.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from starter.generate import USERS_ONLY, WITHOUT_TEACHING, Variant

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = (WITHOUT_TEACHING, USERS_ONLY)  # the order generate.py applies them in
# The `_exclude` entries of copier.yml that belong to a variant start with its condition.
CONDITIONS = {
    WITHOUT_TEACHING: "{% if not (with_conduit and with_teaching) %}",
    USERS_ONLY: "{% if not with_conduit %}",
}
END = "{% endif %}"


def excluded(variant: Variant) -> list[str]:
    """The paths copier.yml leaves out for the variant (gitignore patterns anchored with a /)."""
    entries = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))["_exclude"]
    start = CONDITIONS[variant]
    return [entry[len(start) : -len(END)].lstrip("/") for entry in entries if entry.startswith(start)]


def git(*args: str, cwd: Path, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603, S607
    if check and result.returncode:
        raise SystemExit(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def commit_of(worktree: Path, subject: str) -> str | None:
    """The newest commit of the worktree's history with exactly this subject."""
    for line in git("log", "--format=%H %s", "HEAD", cwd=worktree).splitlines():
        sha, _, found = line.partition(" ")
        if found == subject:
            return sha
    return None


def prepare(worktree: Path) -> None:
    if not worktree.exists():
        git("worktree", "add", "--detach", str(worktree), "HEAD", cwd=ROOT)
    for variant in VARIANTS:
        if commit_of(worktree, f"starter: {variant.name}"):
            continue  # applied already (or resolved by hand)
        if not commit_of(worktree, f"starter: {variant.name} base"):
            git("rm", "-r", "--quiet", "--ignore-unmatch", "--", *excluded(variant), cwd=worktree)
            for relative in variant.files(ROOT):
                (worktree / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / "starter" / variant.name / relative, worktree / relative)
            git("add", "--all", cwd=worktree)
            git("commit", "--quiet", "--allow-empty", "-m", f"starter: {variant.name} base", cwd=worktree)
        applied = subprocess.run(  # noqa: S603
            ["git", "apply", "-3", str(variant.patch(ROOT))],  # noqa: S607
            cwd=worktree,
            capture_output=True,
            text=True,
            check=False,
        )
        if applied.returncode:
            sys.exit(
                f"{variant.patch(ROOT).name} does not apply cleanly in {worktree}:\n{applied.stderr}\n"
                f"Resolve the conflicts there, then: git add --all && git commit -m 'starter: {variant.name}'; "
                f"then run `prepare` again for the next variant, and `export` at the end."
            )
        git("add", "--all", cwd=worktree)
        git("commit", "--quiet", "-m", f"starter: {variant.name}", cwd=worktree)
    print(f"{worktree}: every variant applied; edit there if you like, then export")


def export(worktree: Path) -> None:
    bases = [commit_of(worktree, f"starter: {variant.name} base") for variant in VARIANTS]
    if None in bases:
        sys.exit(f"{worktree} was not made by `prepare`")
    ends = [f"{base}~1" for base in bases[1:]] + ["HEAD"]
    for variant, base, end in zip(VARIANTS, bases, ends, strict=True):
        assert base is not None
        own_files = set(map(str, variant.files(ROOT)))
        patched = []
        for line in git("diff", "--no-renames", "--name-status", base, end, cwd=worktree).splitlines():
            status, path = line.split("\t")
            if status == "D":
                sys.exit(f"{variant.name}: {path} was deleted; leave it out in copier.yml's _exclude instead")
            if status == "A" or path in own_files:  # a whole new file: the variant's own copy
                target = ROOT / "starter" / variant.name / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(git_bytes(worktree, f"{end}:{path}"))
            else:
                patched.append(path)
        patch = git("diff", "--no-renames", base, end, "--", *patched, cwd=worktree) if patched else ""
        variant.patch(ROOT).write_text(patch, encoding="utf-8")
        print(f"starter/{variant.patch(ROOT).name}: {len(patched)} files; starter/{variant.name}/: new files")


def git_bytes(worktree: Path, revision: str) -> bytes:
    return subprocess.run(["git", "show", revision], cwd=worktree, capture_output=True, check=True).stdout  # noqa: S603, S607


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("prepare", "export"))
    parser.add_argument("worktree", type=Path)
    args = parser.parse_args(argv)
    (prepare if args.command == "prepare" else export)(args.worktree.resolve())


if __name__ == "__main__":
    main()
