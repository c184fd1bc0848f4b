"""The project generator (copier.yml, starter/generate.py): a new service named as asked, with
nothing named conduit, whose lint and tests pass, and that `copier update` brings forward.

The full suites of a generated service run in .github/workflows/starter.yml; the other variants'
tests are in test_variants.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from starter.generate import DATABASE_URLS, Names, choose_database, rename_text
from tests.starter.generation import (
    COPIER,
    NAME,
    REPO,
    SLUG,
    VENV,
    files_naming_conduit,
    generate,
    git,
    lint,
    run,
)

# What a generated service's fast tests run: the files whose subject the rename touches (metric
# names, OpenAPI title, settings' default database, migrations, the seed, the docs' links).
FAST_TESTS = [
    "tests/unit/test_settings_and_limits.py",
    "tests/integration/test_openapi_and_app.py",
    "tests/integration/test_observability.py",
    "tests/integration/test_cli_and_seed.py",
    "tests/integration/test_migrations.py",
    "tests/docs",  # links into renamed paths, and to README headings the generator removes
]


@pytest.fixture(scope="module")
def service(upstream: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(upstream, tmp_path_factory.mktemp("generated") / "bookmarks")


def test_rename_keeps_each_spelling_in_its_place() -> None:
    names = Names(NAME, SLUG)
    assert rename_text('title="Conduit API"', names) == 'title="Bookmarks API"'
    assert rename_text("conduit_http_requests_total", names) == "bookmarks_api_http_requests_total"
    assert rename_text("class ConduitUser(FastHttpUser):", names) == "class BookmarksApiUser(FastHttpUser):"
    assert rename_text("Welcome to Conduit.", names) == "Welcome to Bookmarks API."
    assert rename_text("CONDUIT_X and nginx/conduit/", names) == "BOOKMARKS_API_X and nginx/bookmarks_api/"
    assert rename_text("the conduit api, cOnDuIt", names) == "the bookmarks_api api, bookmarks_api"
    assert (
        rename_text("image: conduit-app, Job conduit-migrate", names)
        == "image: bookmarks-api-app, Job bookmarks-api-migrate"
    )
    assert rename_text("operations.md#conduitreplicadown", names) == "operations.md#bookmarksapireplicadown"
    assert (
        rename_text("${MARIADB_USER:-conduit}@db/conduit", names) == "${MARIADB_USER:-bookmarks_api}@db/bookmarks_api"
    )
    yaml = "name: conduit\nnamespace: conduit-dev\nzone: conduit_auth"
    assert (
        rename_text(yaml, names, kubernetes=True)
        == "name: bookmarks-api\nnamespace: bookmarks-api-dev\nzone: bookmarks_api_auth"
    )


def test_database_answer_sets_the_default_database_url(tmp_path: Path) -> None:
    (tmp_path / "service").mkdir()
    for relative in ("service/settings.py", ".env.example"):
        shutil.copy2(REPO / relative, tmp_path / relative)
    choose_database(tmp_path, "mariadb")
    for relative in ("service/settings.py", ".env.example"):
        text = (tmp_path / relative).read_text()
        assert DATABASE_URLS["mariadb"] in text and DATABASE_URLS["sqlite"] not in text, relative


@pytest.mark.parametrize(("title", "slug"), [("X", "a"), ("X" * 40, "x" * 20)], ids=["shortest", "longest"])
def test_python_stays_formatted_whatever_the_name_length(title: str, slug: str, tmp_path: Path) -> None:
    """ruff would wrap a line the rename lengthens, or join one it shortens: `make lint` would fail."""
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative in git("ls-files", "*.py", ":!starter", ":!tests/starter", cwd=REPO).split():
        text = (REPO / relative).read_text()
        if "conduit" in text.lower():
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_text(rename_text(text, Names(title, slug)))
    run(VENV / "bin" / "ruff", "format", "--check", "--diff", ".", cwd=tmp_path)
    run(VENV / "bin" / "ruff", "check", "--select=E501", ".", cwd=tmp_path)


def test_generated_service_names_nothing_conduit_but_its_answers(service: Path) -> None:
    assert files_naming_conduit(service) == [".copier-answers.yml"]
    assert (service / "nginx" / SLUG / "server.conf").is_file()
    assert 'title="Bookmarks API"' in (service / "service" / "openapi.py").read_text()
    assert (
        f'DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/{SLUG}.db"' in (service / "service/settings.py").read_text()
    )
    assert not (service / "starter").exists() and not (service / "copier.yml").exists()
    assert not (service / "mk" / "starter.mk").exists()
    readme = (service / "README.md").read_text()
    assert "## Later improvements of the template" in readme
    assert "make new-service" not in readme and "starter/" not in readme  # what the service does not have


def test_generated_service_passes_lint_and_its_fast_tests(service: Path) -> None:
    output = lint(service)
    assert "All checks passed!" in output and "Success: no issues found" in output, output  # ruff, then mypy
    pytest_ = VENV / "bin" / "pytest"
    # SQLite only; and not the real server's start (14 s), which the workflow's full run has.
    only_sqlite = "not postgresql and not mariadb and not serve_commands"
    summary = run(
        pytest_,
        "-q",
        "-p",
        "no:cacheprovider",
        *FAST_TESTS,
        "-k",
        only_sqlite,
        cwd=service,
        env={"PYTHONPATH": str(service)},
    ).splitlines()[-1]
    # Every test of the same selection here ran there and passed: none lost to the rename.
    collected = run(pytest_, "-q", "-p", "no:cacheprovider", "--collect-only", *FAST_TESTS, "-k", only_sqlite, cwd=REPO)
    expected = re.search(r"(\d+)(?:/\d+)? tests collected", collected)
    assert expected, collected.splitlines()[-1]
    assert re.match(rf"{expected.group(1)} passed, \d+ deselected in ", summary), summary


@pytest.fixture
def project(upstream: Path, service: Path, tmp_path: Path) -> Path:
    """The generated service as its owner keeps it: in git, with a change of their own committed."""
    project = tmp_path / "bookmarks"
    shutil.copytree(service, project, ignore=shutil.ignore_patterns(".mypy_cache", ".ruff_cache", "var"))
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "-m", "generated", cwd=project)
    readme, operations = project / "README.md", project / "docs" / "operations.md"
    readme.write_text(readme.read_text() + "\nOur own notes.\n")
    operations.write_text("<!-- Our on-call rota is in the wiki. -->\n" + operations.read_text())
    git("commit", "--quiet", "-am", "our notes", cwd=project)
    return project


def test_copier_update_brings_an_upstream_change_without_conflicts(upstream: Path, project: Path) -> None:
    """Upstream commit B changes a file the project never touched (in a renamed folder) and the end
    of one whose beginning the project changed: both merge without a conflict."""
    operations = upstream / "docs" / "operations.md"
    operations.write_text(operations.read_text() + "\nConduit's runbook gained a line upstream.\n")
    nginx = upstream / "nginx" / "conduit" / "proxy.conf"
    nginx.write_text("# proxy settings for the conduit app\n" + nginx.read_text())
    git("commit", "--quiet", "-am", "upstream improvement", cwd=upstream)
    try:
        run(COPIER, "update", "--trust", "--defaults", "--quiet", cwd=project)
    finally:
        git("reset", "--quiet", "--hard", "HEAD~1", cwd=upstream)  # the module's other tests use commit A

    assert "Bookmarks API's runbook gained a line upstream." in (project / "docs/operations.md").read_text()
    assert (
        (project / "nginx" / SLUG / "proxy.conf").read_text().startswith("# proxy settings for the bookmarks_api app\n")
    )
    assert "Our own notes." in (project / "README.md").read_text()
    assert (project / "docs/operations.md").read_text().startswith("<!-- Our on-call rota is in the wiki. -->\n")
    changed = sorted(line[3:] for line in git("status", "--porcelain", cwd=project).splitlines())
    assert changed == [".copier-answers.yml", "docs/operations.md", f"nginx/{SLUG}/proxy.conf"]
    assert files_naming_conduit(project) == [".copier-answers.yml"]
    for relative in changed:
        assert "<<<<<<<" not in (project / relative).read_text(), relative
