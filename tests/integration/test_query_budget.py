"""A page of articles costs a fixed number of SQL statements, whatever its size (no N+1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from service.articles import repository
from tests.support import add_comment, auth, create_article, register

Client = TestClient[Litestar]
LIST_QUERIES = 1  # one SELECT: the page with authors, flags, counts and tags, and the total count


def _seed(client: Client, articles: int) -> dict[str, Any]:
    author = register(client, "author")
    reader = register(client, "reader")
    for i in range(articles):
        slug = create_article(client, author["token"], title=f"A{i}", tagList=[f"t{i % 3}", "all"])["slug"]
        client.post(f"/api/articles/{slug}/favorite", headers=auth(reader["token"]))
        add_comment(client, reader["token"], slug)
    client.post("/api/profiles/author/follow", headers=auth(reader["token"]))
    return reader


def test_list_and_feed_query_count_does_not_grow_with_page_size(
    client: Client, count_queries: Callable[[], Any]
) -> None:
    reader = _seed(client, 25)
    for path, headers in (
        ("/api/articles", {}),
        ("/api/articles", auth(reader["token"])),
        ("/api/articles/feed", auth(reader["token"])),
    ):
        counts = []
        for limit in (1, 5, 20):
            with count_queries() as counter:
                response = client.get(path, params={"limit": limit}, headers=headers)
            assert response.status_code == 200
            assert len(response.json()["articles"]) == limit
            counts.append(counter.count)
        extra = 1 if path.endswith("feed") else 0  # the feed loads the signed-in user
        assert counts == [LIST_QUERIES + extra] * 3, (path, counts)


def test_comments_list_is_one_query_plus_the_article_lookup(client: Client, count_queries: Callable[[], Any]) -> None:
    _seed(client, 1)
    slug = client.get("/api/articles").json()["articles"][0]["slug"]
    reader = register(client)
    for _ in range(5):
        add_comment(client, reader["token"], slug)
    with count_queries() as counter:
        assert len(client.get(f"/api/articles/{slug}/comments").json()["comments"]) == 6
    assert counter.count == 2


def _subquery_runs(database_url: str, sql: str) -> list[int]:
    """How many times each per-row subquery ran (ANALYZE, with real execution): PostgreSQL's SubPlan
    nodes, MariaDB's query blocks under "subqueries"."""
    mariadb = database_url.startswith("mysql")
    explain = "ANALYZE FORMAT=JSON " if mariadb else "EXPLAIN (ANALYZE, FORMAT JSON) "

    async def run() -> Any:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return (await connection.exec_driver_sql(explain + sql)).scalar()
        finally:
            await engine.dispose()

    plan = asyncio.run(run())
    runs: list[int] = []

    def walk(node: Any, in_subquery: bool) -> None:
        if isinstance(node, dict):
            if node.get("Parent Relationship") == "SubPlan":
                runs.append(node["Actual Loops"])
            if in_subquery and "query_block" in node:
                runs.append(node["query_block"]["r_loops"])
            for key, value in node.items():
                walk(value, in_subquery or key == "subqueries")
        elif isinstance(node, list):
            for item in node:
                walk(item, in_subquery)

    walk(json.loads(plan) if isinstance(plan, str) else plan, in_subquery=False)
    return runs


def test_a_page_computes_its_columns_for_its_own_rows_only(client: Client, database_url: str) -> None:
    """Author, tags and counts are computed for the page's rows, not for every article that matches.

    MariaDB's planner did the latter (430 ms for a page of 10,000 articles) until the page's ids
    were chosen first (`_page_statement`)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's EXPLAIN has no counts of what ran")
    articles, page = 40, 10
    _seed(client, articles)
    where = repository.ArticleFilter()
    shape = repository._Shape.of(where, None)
    values = {**repository._params(where, None), "limit": page, "offset": 0}
    dialect = mysql.dialect() if database_url.startswith("mysql") else postgresql.dialect()  # type: ignore[no-untyped-call]
    statement = repository._page_statement(shape).params(**values)
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})).replace("%%", "%")
    runs = _subquery_runs(database_url, sql)
    assert runs, "no per-row subquery found in the plan"
    assert max(runs) <= page, runs  # once per row of the page, not once per matching article
