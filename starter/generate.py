"""Copier's task (copier.yml): make a fresh copy of this repository the named service, cut to the
chosen variant (starter/README.md, "Variants").

Copier runs it in the new directory after writing the files. `copier update` runs it three times:
on the old version re-created in a temporary directory, on the new version written over the
service, and on the new version in another temporary directory; so it gives the same result from
the same files, and only touches the files the template has just written (named from the template's
own tree), never one the service added itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NAME = "conduit"


@dataclass(frozen=True)
class Names:
    """How the new service is written where the repository writes conduit, Conduit or CONDUIT."""

    title: str  # "Bookmarks API": prose and titles
    slug: str  # "bookmarks_api": identifiers, paths, metric prefix, database names, Docker user

    @property
    def pascal(self) -> str:
        return "".join(part.capitalize() for part in self.slug.split("_"))

    @property
    def dns(self) -> str:
        """ "bookmarks-api": Kubernetes names, labels and namespaces allow no underscore (RFC 1123)."""
        return self.slug.replace("_", "-")


TITLE = "Conduit API"
# "Conduit API" first, so "the Conduit API" becomes "the Bookmarks API", not "the Bookmarks API API".
_ANY_CASE = re.compile(f"(?-i:{TITLE})|{NAME}", re.IGNORECASE)


# Files that name Kubernetes objects: there a lone "conduit" is an object name, written names.dns.
KUBERNETES_FILES = re.compile(r"^(deploy/k8s/|tests/k8s/|deploy/kubernetes\.py$)")


def rename_text(text: str, names: Names, *, kubernetes: bool = False) -> str:
    """conduit -> slug, CONDUIT -> SLUG, ConduitUser -> BookmarksApiUser, Conduit and "Conduit API" -> the title.
    A conduit joined by a hyphen ("conduit-app", "conduit-migrate") is a DNS-style name: names.dns. In
    Kubernetes files a lone conduit is one too; one joined by an underscore stays an identifier."""

    def replace(match: re.Match[str]) -> str:
        found, start, end = match.group(0), match.start(), match.end()
        if found == TITLE:
            return names.title
        if found == NAME:
            before = match.string[start - 1] if start else ""
            after = match.string[end] if end < len(match.string) else ""
            # "${POSTGRES_USER:-conduit}" is a shell default (a database user), not a DNS-style name.
            shell_default = match.string[max(start - 2, 0) : start] == ":-"
            if ("-" in (before, after) and not shell_default) or (kubernetes and "_" not in (before, after)):
                return names.dns
            if after.isalnum():  # a Markdown anchor of a heading: "#conduitreplicadown"
                return names.pascal.lower()
            return names.slug
        if found == NAME.upper():
            return names.slug.upper()
        if found == NAME.capitalize():
            if end < len(match.string) and (match.string[end].isalnum() or match.string[end] == "_"):
                return names.pascal  # part of an identifier (a class name)
            return names.title
        return names.slug  # any other casing

    return _ANY_CASE.sub(replace, text)


def template_files(template: Path) -> list[Path]:
    """Every file of the template, relative to its root, the template's own .git left out."""
    return sorted(
        path.relative_to(template)
        for path in template.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(template).parts[:1]
    )


def rename_files(project: Path, written: Iterable[Path], names: Names) -> None:
    """Rename in the text of each written file, then move those whose path names conduit."""
    for relative in written:
        path = project / relative
        try:
            text = path.read_bytes().decode("utf-8")  # bytes: line endings stay as they are
        except UnicodeDecodeError:
            text = ""  # an image: nothing to rename inside
        renamed = rename_text(text, names, kubernetes=bool(KUBERNETES_FILES.match(relative.as_posix())))
        if renamed != text:
            path.write_bytes(renamed.encode("utf-8"))
        target = project / rename_text(str(relative), names)
        if target != path:
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)  # over a version from an earlier run (copier update writes there)
            _remove_empty_parents(path.parent, project)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


DATABASE_URLS = {
    "sqlite": "sqlite+aiosqlite:///var/conduit.db",
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/conduit",
    "mariadb": "mysql+asyncmy://root@127.0.0.1:3306/conduit",
}
DATABASE_URL_FILES = ("service/settings.py", ".env.example")


def choose_database(project: Path, database: str) -> None:
    """Make `database` the default DATABASE_URL (before the rename names the database)."""
    for relative in DATABASE_URL_FILES:
        path = project / relative
        text = path.read_text(encoding="utf-8")
        if DATABASE_URLS["sqlite"] not in text:
            raise SystemExit(
                f"starter: {relative} no longer names {DATABASE_URLS['sqlite']}; update starter/generate.py"
            )
        path.write_text(text.replace(DATABASE_URLS["sqlite"], DATABASE_URLS[database]), encoding="utf-8")


@dataclass(frozen=True)
class Variant:
    """A cut of the repository: copier.yml's `_exclude` leaves its files out, then its new files
    (starter/<name>/) are copied in and its patch (starter/<name>.patch) edits the kept ones. The
    patch is made on the repository with the earlier variants applied, so the order matters."""

    name: str

    def files(self, template: Path) -> list[Path]:
        """The variant's own new files, relative to the service's root."""
        root = template / "starter" / self.name
        return sorted(path.relative_to(root) for path in root.rglob("*") if path.is_file()) if root.is_dir() else []

    def patch(self, template: Path) -> Path:
        return template / "starter" / f"{self.name}.patch"


WITHOUT_TEACHING = Variant("no_teaching")  # with_teaching=false: no labs/, no tour
USERS_ONLY = Variant("users_only")  # with_conduit=false: the users area without the demo


def cut(project: Path, template: Path, variant: Variant) -> list[Path]:
    """Copy the variant's new files over whatever an earlier run left (copier update runs the task
    again on the service), then apply its patch to the files Copier has just written."""
    added = variant.files(template)
    for relative in added:
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "starter" / variant.name / relative, project / relative)
    apply_patch(project, template, variant.patch(template))
    return added


_PATCHED_FILE = re.compile(r"^diff --git a/(\S+) b/", re.MULTILINE)


def apply_patch(project: Path, template: Path, patch: Path) -> None:
    """git apply, leaving out the files a later variant leaves out (the repository has them, this
    service does not); a file the repository lost is an error, as is any hunk that no longer fits."""
    left_out = [
        f"--exclude={path}"
        for path in _PATCHED_FILE.findall(patch.read_text(encoding="utf-8"))
        if not (project / path).exists() and (template / path).exists()
    ]
    # git apply works outside a repository too; the ceiling keeps it from finding one above the
    # service (a monorepo), where it would read the patch's paths from that repository's root.
    result = subprocess.run(  # noqa: S603 - argv built here from the template's own patch
        ["git", "apply", "--whitespace=nowarn", *left_out, str(patch)],  # noqa: S607 - git from PATH, as Copier runs it
        cwd=project,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(project.parent)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(
            f"starter: starter/{patch.name} no longer applies to this version of the repository; "
            f"regenerate it as starter/README.md says (make starter-patches):\n{result.stderr}"
        )


GENERATION = "## Start your own service\n"
UPDATES = "### Later improvements of the template\n"


def keep_only_updates_in_readme(project: Path) -> None:
    """The README's generator section speaks of this repository; the service keeps how to update."""
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(GENERATION), text.find(UPDATES)
    if not 0 <= start < end:
        raise SystemExit(f"starter: README.md lacks {GENERATION.strip()!r} before {UPDATES.strip()!r}")
    generated = "## Later improvements of the template\n\nThis service was generated with Copier from a template.\n"
    readme.write_text(text[:start] + generated + text[end + len(UPDATES) :], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, required=True, help="the template's checkout (Copier's src_path)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--database", choices=sorted(DATABASE_URLS), default="sqlite")
    parser.add_argument("--conduit", choices=("True", "False"), default="True", help="keep the Conduit demo")
    parser.add_argument("--teaching", choices=("True", "False"), default="True", help="keep labs/ and the tour")
    args = parser.parse_args(argv)
    project, template = Path.cwd(), args.template.resolve()
    written = [path for path in template_files(template) if (project / path).is_file()]
    variants = [WITHOUT_TEACHING] if args.teaching == "False" or args.conduit == "False" else []
    variants += [USERS_ONLY] if args.conduit == "False" else []
    for variant in variants:
        written += [path for path in cut(project, template, variant) if path not in written]
    choose_database(project, args.database)
    keep_only_updates_in_readme(project)
    rename_files(project, written, Names(args.name, args.slug))


if __name__ == "__main__":
    main()
