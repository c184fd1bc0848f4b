"""Find the relative links in the project's Markdown and say which ones point at nothing.

A link may name a file (`service/db.py`), a heading (`CONTRIBUTING.md#write-a-migration`) or a
line (`service/db.py#L10`). When its text is a code name such as `` `provide_db_session` `` and it
points at a Python file, that name must be defined there, so a renamed function breaks the docs'
test instead of silently leaving a wrong tour.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]

# Markdown files whose links are checked; folders are searched recursively. Missing ones are skipped.
CHECKED = ("README.md", "CONTRIBUTING.md", "docs", "labs", "qa/README.md", "loadtests/README.md")

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"!?\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]\((?P<target><[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(?P<target>\S+)")
_CODE_NAME = re.compile(r"^`(?P<name>[A-Za-z_][\w.]*)(?:\(\))?`$")
_EXTERNAL = ("http://", "https://", "mailto:", "ftp://", "data:")


@dataclass(frozen=True, slots=True)
class Link:
    source: Path
    line: int
    text: str
    target: str


def markdown_files(root: Path = ROOT) -> list[Path]:
    files: set[Path] = set()
    for entry in CHECKED:
        path = root / entry
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("*.md") if ".venv" not in p.parts)
    # Every folder's own README at the top level (nginx/, loadtests/, ...) is user documentation too.
    files.update(p for p in root.glob("*/README.md") if not p.parent.name.startswith("."))
    return sorted(files)


def links_in(path: Path) -> Iterator[Link]:
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if reference := _REFERENCE.match(line):
            yield Link(path, number, "", reference["target"])
            continue
        # Links inside inline code are examples, not links; but a link's text may itself be code.
        for match in _INLINE_LINK.finditer(line):
            if _inside_code(line, match.start()):
                continue
            yield Link(path, number, match["text"].strip(), match["target"].strip("<>"))


def _inside_code(line: str, position: int) -> bool:
    return any(code.start() < position < code.end() for code in _INLINE_CODE.finditer(line))


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(markdown: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_fence = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not (heading := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            continue
        anchor = github_anchor(heading[1])
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    anchors.update(re.findall(r'<a\s+(?:name|id)="([^"]+)"', markdown.read_text(encoding="utf-8")))
    return anchors


def python_names(source: Path) -> set[str]:
    """Names defined in a module: functions, classes, `Class.method`, and module-level assignments."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.update({member.name, f"{node.name}.{member.name}"})
                elif isinstance(member, ast.AnnAssign | ast.Assign):
                    for target in member.targets if isinstance(member, ast.Assign) else [member.target]:
                        if isinstance(target, ast.Name):
                            names.update({target.id, f"{node.name}.{target.id}"})
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def problem_with(link: Link, root: Path = ROOT) -> str | None:
    """Why the link is broken, or None when it is fine (or external)."""
    target = link.target
    if target.startswith(_EXTERNAL) or not target:
        return None
    path_part, _, fragment = target.partition("#")
    destination = (link.source.parent / unquote(path_part)).resolve() if path_part else link.source
    if not destination.is_relative_to(root):
        return f"{target} leaves the repository"
    if not destination.exists():
        return f"{target}: {destination.relative_to(root)} does not exist"
    if fragment:
        if line := re.fullmatch(r"L(\d+)(?:-L(\d+))?", fragment):
            last = int(line[2] or line[1])
            length = len(destination.read_text(encoding="utf-8").splitlines())
            if last > length:
                return f"{target}: the file has only {length} lines"
        elif destination.suffix == ".md" and fragment not in anchors_of(destination):
            return f"{target}: no heading with the anchor #{fragment}"
    if destination.suffix == ".py" and (name := _CODE_NAME.match(link.text)):
        wanted = name["name"].split(".")
        defined = python_names(destination)
        if ".".join(wanted[-2:]) not in defined and wanted[-1] not in defined:
            return f"{target}: `{name['name']}` is not defined in {destination.relative_to(root)}"
    return None
