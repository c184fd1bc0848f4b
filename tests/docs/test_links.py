"""Every relative link in the README, docs/, labs/ and the contributor guide points at something real."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown_links import ROOT, Link, github_anchor, links_in, markdown_files, problem_with


def test_relative_links_point_at_existing_files_headings_and_names() -> None:
    files = markdown_files()
    assert ROOT / "README.md" in files
    broken = [
        f"{link.source.relative_to(ROOT)}:{link.line}: {problem}"
        for path in files
        for link in links_in(path)
        if (problem := problem_with(link))
    ]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_duty_map_is_filled_and_links_only_to_real_files() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("<!-- duty-map:start -->"), readme.index("<!-- duty-map:end -->")
    block = readme[start:end]
    duties = ("store", "guard", "serve", "run", "test", "measure", "find and fix", "code quality", "mentor")
    for duty in duties:
        assert duty in block.lower(), f"the duty map has no row for '{duty}'"
    assert block.count("](") >= len(duties)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mod.py").write_text("class Thing:\n    def run(self) -> None: ...\n\n\ndef helper() -> None: ...\n")
    (tmp_path / "other.md").write_text("# A Title: with `code`\n\n## Again\n## Again\n")
    return tmp_path / "docs" / "page.md"


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("ok", "../mod.py", None),
        ("ok", "https://example.org/nowhere", None),
        ("gone", "../missing.py", "does not exist"),
        ("out", "../../../etc/passwd", "leaves the repository"),
        ("heading", "../other.md#a-title-with-code", None),
        ("repeated heading", "../other.md#again-1", None),
        ("bad heading", "../other.md#no-such-heading", "no heading"),
        ("line", "../mod.py#L2", None),
        ("line past the end", "../mod.py#L99", "only 5 lines"),
        ("`Thing.run`", "../mod.py", None),
        ("`helper()`", "../mod.py", None),
        ("`renamed_function`", "../mod.py", "not defined"),
    ],
)
def test_problem_with_recognises_each_kind_of_broken_link(
    page: Path, text: str, target: str, expected: str | None
) -> None:
    problem = problem_with(Link(page, 1, text, target), root=page.parents[1])
    assert (problem is None) if expected is None else (problem is not None and expected in problem)


def test_links_in_skips_code_and_reads_reference_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[a](one.md) `[b](two.md)`\n```\n[c](three.md)\n```\n[d]: four.md\n")
    assert [link.target for link in links_in(page)] == ["one.md", "four.md"]


def test_github_anchor() -> None:
    assert github_anchor("0003 One transaction per request, committed") == "0003-one-transaction-per-request-committed"
    assert github_anchor("The `db.py` module") == "the-dbpy-module"
