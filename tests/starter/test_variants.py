"""The generator's variants (starter/README.md, "Variants"): with_conduit=false gives the users area
alone, with its own clean migration, suites and docs; with_teaching=false leaves the labs and the
tour out. Each is generated once; its full suites run in .github/workflows/starter.yml.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from starter.generate import USERS_ONLY, apply_patch
from tests.starter.generation import COPIER, REPO, SLUG, VENV, files_naming_conduit, generate, git, lint, run

USERS_ENDPOINTS = {
    ("post", "/api/users"),
    ("post", "/api/users/login"),
    ("get", "/api/user"),
    ("put", "/api/user"),
}
KEPT_TABLES = {"users", "login_failures", "idempotency_keys"}
# Unit and integration tests on SQLite; not the real server's start (14 s), which the workflow has.
FAST_SELECTION = ["tests/unit", "tests/integration", "-k", "not postgresql and not mariadb and not serve_commands"]


@pytest.fixture(scope="module")
def users_only(upstream: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(upstream, tmp_path_factory.mktemp("users-only") / "bookmarks", "with_conduit=false")


def python(service: Path, code: str, **env: str) -> str:
    """Python code run in the generated service, with its own `service` package."""
    return run(VENV / "bin" / "python", "-c", code, cwd=service, env={"PYTHONPATH": str(service), **env})


def test_users_only_names_nothing_conduit_and_has_no_demo(users_only: Path) -> None:
    assert files_naming_conduit(users_only) == [".copier-answers.yml"]
    for demo in ("service/articles", "service/comments", "service/profiles", "labs", "docs/tour.md"):
        assert not (users_only / demo).exists(), demo
    assert not list(users_only.rglob("*demo_data*"))
    versions = sorted(path.name for path in (users_only / "migrations" / "versions").glob("*.py"))
    assert versions == ["20261124_0001_create_users_tables.py"]
    assert "with_conduit: false" in (users_only / ".copier-answers.yml").read_text()


def test_users_only_routes_exactly_the_users_endpoints(users_only: Path, tmp_path: Path) -> None:
    listing = python(
        users_only,
        "import json\n"
        "from service.app import create_app\n"
        "paths = create_app().openapi_schema.to_schema()['paths']\n"
        "print(json.dumps([[m, p] for p, item in paths.items() for m in item if p.startswith('/api')]))",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'routes.db'}",
    )
    assert {(method, path) for method, path in json.loads(listing)} == USERS_ENDPOINTS


def test_users_only_migrations_create_exactly_the_kept_tables(users_only: Path, tmp_path: Path) -> None:
    database = tmp_path / "migrated.db"
    python(users_only, "from service.cli import migrate; migrate()", DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == KEPT_TABLES | {"alembic_version"}


def test_users_only_passes_lint_and_its_unit_and_integration_tests(users_only: Path) -> None:
    output = lint(users_only)
    assert "All checks passed!" in output and "Success: no issues found" in output, output  # ruff, then mypy
    pytest_ = VENV / "bin" / "pytest"
    output = run(
        pytest_, "-p", "no:cacheprovider", *FAST_SELECTION, cwd=users_only, env={"PYTHONPATH": str(users_only)}
    )
    selected = re.search(r"collected \d+ items / (\d+) deselected / (\d+) selected", output)
    assert selected, output[-2000:]
    deselected, expected = selected.groups()
    # Every selected test ran and passed: none skipped, none lost.
    summary = output.splitlines()[-1]
    assert re.fullmatch(rf"=+ {expected} passed, {deselected} deselected in [\d.]+s.* =+", summary), summary


def test_copier_update_brings_an_upstream_change_into_a_users_only_service(
    upstream: Path, users_only: Path, tmp_path: Path
) -> None:
    """Upstream commit B changes a kept file the patch leaves alone, and the end of one the patch
    edits further up: both reach the service without a conflict, and the patch still applies."""
    project = tmp_path / "bookmarks"
    shutil.copytree(users_only, project, ignore=shutil.ignore_patterns(".mypy_cache", ".ruff_cache", "var"))
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "-m", "generated", cwd=project)
    adr, support = upstream / "docs" / "adr" / "0006-nginx-in-front.md", upstream / "tests" / "support.py"
    adr.write_text(adr.read_text() + "\nConduit's NGINX record gained a line upstream.\n")
    support.write_text(support.read_text() + "# Shared by every suite of the conduit service.\n")
    git("commit", "--quiet", "-am", "upstream improvement", cwd=upstream)
    try:
        run(COPIER, "update", "--trust", "--defaults", "--quiet", cwd=project)
    finally:
        git("reset", "--quiet", "--hard", "HEAD~1", cwd=upstream)  # the other tests use commit A

    assert "Bookmarks API's NGINX record gained a line upstream." in (project / adr.relative_to(upstream)).read_text()
    updated_support = (project / "tests" / "support.py").read_text()
    assert updated_support.endswith(f"# Shared by every suite of the {SLUG} service.\n")
    assert "def create_article" not in updated_support  # the patch applied again on the new version
    changed = sorted(line[3:] for line in git("status", "--porcelain", cwd=project).splitlines())
    assert changed == [".copier-answers.yml", "docs/adr/0006-nginx-in-front.md", "tests/support.py"]
    assert files_naming_conduit(project) == [".copier-answers.yml"]
    for relative in changed:
        assert "<<<<<<<" not in (project / relative).read_text(), relative


def test_a_patch_that_no_longer_applies_stops_the_generation_naming_the_readme(tmp_path: Path) -> None:
    project = tmp_path / "service"
    shutil.copytree(REPO / "service", project / "service", ignore=shutil.ignore_patterns("__pycache__"))
    app = project / "service" / "app.py"
    app.write_text(app.read_text().replace("route_handlers=[UserController", "route_handlers=[Renamed"))
    with pytest.raises(SystemExit, match=r"users_only\.patch no longer applies.*starter/README\.md") as stopped:
        apply_patch(project, REPO, USERS_ONLY.patch(REPO))
    assert "service/app.py" in str(stopped.value)


def test_without_teaching_there_are_no_labs_and_the_docs_links_hold(upstream: Path, tmp_path: Path) -> None:
    service = generate(upstream, tmp_path / "bookmarks", "with_teaching=false")
    assert not (service / "labs").exists() and not (service / "docs" / "tour.md").exists()
    assert not (service / "mk" / "labs.mk").exists()
    assert (service / "docs" / "data-model.md").is_file()  # the diagram the tour held
    assert (service / "service" / "articles").is_dir()  # the demo itself stays
    assert files_naming_conduit(service) == [".copier-answers.yml"]
    docs = run(VENV / "bin" / "pytest", "-q", "-p", "no:cacheprovider", "tests/docs", cwd=service)
    assert re.search(r"^\d+ passed in ", docs.splitlines()[-1]), docs
