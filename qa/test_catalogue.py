"""Every row of the bad-input catalogue is sent to the service; qa/README.md's table is its rendering."""

from __future__ import annotations

import httpx
import pytest

from qa.catalogue import CATALOGUE, BadInput, render_table
from qa.conftest import QA_DIR, User, answered_by_proxy, past_proxy_rate_limit

BEGIN, END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"


def readme_table() -> str:
    text = (QA_DIR / "README.md").read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


@pytest.mark.parametrize("row", CATALOGUE, ids=[row.id for row in CATALOGUE])
def test_bad_input_gets_the_catalogued_answer(
    client: httpx.Client, author: User, article: dict[str, object], row: BadInput
) -> None:
    path = row.path.format(slug=article["slug"])
    headers = {**dict(row.headers), **(author.auth if row.auth else {})}

    def send() -> httpx.Response:
        request = client.build_request(row.method, path, content=row.payload(), headers=headers)
        if row.content_type is None:
            del request.headers["Content-Type"]  # the client sends JSON's by default
        else:
            request.headers["Content-Type"] = row.content_type
        return client.send(request)

    response = past_proxy_rate_limit(send)
    status, error_key = row.status, row.error_key
    if row.proxy_status and answered_by_proxy(response):
        status, error_key = row.proxy_status, "body"
    assert response.status_code == status, f"{row.id}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body = response.json()
    assert set(body) == {"errors"}, body
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["errors"].values()), body
    if error_key:
        assert error_key in body["errors"], f"{row.id}: {body}"
    if row.method == "POST" and row.path == "/api/articles":
        # Nothing was written: the author still has only the fixture article.
        listed = client.get("/api/articles", params={"author": author.username}).json()
        assert listed["articlesCount"] == 1


def test_readme_table_is_the_catalogue() -> None:
    assert readme_table() == render_table(), "qa/README.md is out of date: run `make qa-catalogue`"


def test_catalogue_ids_are_unique() -> None:
    ids = [row.id for row in CATALOGUE]
    assert len(ids) == len(set(ids))
