"""Lab 5 check: bookmarks through the API, a fixed query budget, a reviewed migration, the ER diagram."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import Client, auth, create_article, register
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from service.cli import alembic_config
from service.db import Base


def _bookmark(client: Client, token: str, slug: str, method: str = "POST") -> Any:
    return client.request(method, f"/api/articles/{slug}/bookmark", headers=auth(token))


def _bookmarks(client: Client, token: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/user/bookmarks", headers=auth(token), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_bookmark_list_and_remove(client: Client) -> None:
    writer, reader = register(client, "writer"), register(client, "reader")
    first = create_article(client, writer["token"], title="First")["slug"]
    second = create_article(client, writer["token"], title="Second")["slug"]
    create_article(client, writer["token"], title="Not bookmarked")

    response = _bookmark(client, reader["token"], first)
    assert response.status_code == 200, response.text
    assert response.json()["article"]["slug"] == first
    assert _bookmark(client, reader["token"], first).status_code == 200, "bookmarking twice is fine"
    assert _bookmark(client, reader["token"], second).status_code == 200

    listed = _bookmarks(client, reader["token"])
    assert listed["articlesCount"] == 2, "twice is still one bookmark"
    assert [a["slug"] for a in listed["articles"]] == [second, first], "most recent article first"
    assert "body" not in listed["articles"][0], "list items omit the body, like GET /api/articles"
    assert listed["articles"][0]["author"]["username"] == "writer"
    page = _bookmarks(client, reader["token"], limit=1, offset=1)
    assert ([a["slug"] for a in page["articles"]], page["articlesCount"]) == ([first], 2)

    removed = _bookmark(client, reader["token"], first, "DELETE")
    assert removed.status_code == 200, removed.text
    assert removed.json()["article"]["slug"] == first
    assert _bookmark(client, reader["token"], first, "DELETE").status_code == 200, "removing twice is fine"
    assert [a["slug"] for a in _bookmarks(client, reader["token"])["articles"]] == [second]


def test_bookmarks_are_private(client: Client) -> None:
    writer, reader, other = register(client, "writer"), register(client, "reader"), register(client, "other")
    slug = create_article(client, writer["token"])["slug"]
    _bookmark(client, reader["token"], slug)
    assert _bookmarks(client, other["token"]) == {"articles": [], "articlesCount": 0}
    assert client.get("/api/user/bookmarks").status_code == 401
    assert client.post(f"/api/articles/{slug}/bookmark").status_code == 401


def test_unknown_article_is_404(client: Client) -> None:
    reader = register(client, "reader")
    for method in ("POST", "DELETE"):
        response = _bookmark(client, reader["token"], "no-such-article", method)
        assert response.status_code == 404, response.text
        assert response.json() == {"errors": {"article": ["not found"]}}


def test_deleting_the_article_deletes_its_bookmarks(client: Client) -> None:
    writer, reader = register(client, "writer"), register(client, "reader")
    slug = create_article(client, writer["token"])["slug"]
    _bookmark(client, reader["token"], slug)
    assert client.delete(f"/api/articles/{slug}", headers=auth(writer["token"])).status_code == 204
    assert _bookmarks(client, reader["token"]) == {"articles": [], "articlesCount": 0}


def test_the_list_has_a_fixed_query_budget(client: Client, count_queries: Callable[[], Any]) -> None:
    writer, reader = register(client, "writer"), register(client, "reader")
    costs = []
    for _ in range(2):
        for _ in range(4):
            _bookmark(client, reader["token"], create_article(client, writer["token"])["slug"])
        with count_queries() as log:
            _bookmarks(client, reader["token"])
        costs.append(log.count)
    assert costs[0] == costs[1], f"4 bookmarks cost {costs[0]} statements, 8 cost {costs[1]}: an N+1"


def test_the_table_comes_from_a_migration_that_matches_the_models(database_url: str) -> None:
    import service.models  # noqa: F401 - registers the tables

    assert "bookmarks" in Base.metadata.tables, "declare the bookmarks table in service/models.py"
    config = alembic_config(database_url)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    engine = create_engine(make_url(database_url).set(drivername="sqlite"))
    try:
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("bookmarks")}
            assert {"user_id", "article_id", "created_at"} <= columns
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert not drift, f"service/models.py and migrations/ disagree: {drift}"
        command.downgrade(config, "-1")
        with engine.connect() as connection:
            assert "bookmarks" not in inspect(connection).get_table_names(), "downgrade must drop the table"
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_the_er_diagram_shows_bookmarks() -> None:
    import service.models  # noqa: F401
    from tests.docs.er_diagram import check_tour_diagram

    problems = check_tour_diagram(Base.metadata)
    assert not problems, "update the diagram in docs/tour.md:\n" + "\n".join(problems)
