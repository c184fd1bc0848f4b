"""Read a seeded bench-compare data set back through the target's API and list every mismatch.

A back-end that loses or alters data can be fast for the wrong reason, so its figures would mean
nothing; the comparison leaves it out and prints these mismatches instead. Only this run's users
and articles are looked at, so earlier runs (or other data) on the same target do not matter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any
from urllib.parse import quote

from loadtests.bench.dataset import ArticleKey
from loadtests.bench.seeding import ApiClient, ApiError, Json, Seeded

PAGE = 20  # the spec's default page size: some back-ends cap larger limits
SHOWN = 3  # differences quoted per mismatch


async def check(api_url: str, seeded: Seeded, concurrency: int = 8) -> list[str]:
    """Every mismatch found, one readable line each; empty when the target holds what was seeded."""
    dataset = seeded.dataset
    commented = sorted({comment.article for comment in dataset.comments})
    async with ApiClient(api_url, concurrency) as api:
        checks = [
            *(_author_articles(api, seeded, user) for user in range(dataset.size.users)),
            *(_single_article(api, seeded, key) for key in dataset.articles),
            _feed(api, seeded, follower=0),
            _favorited(api, seeded, user=0),
            *(_comments(api, seeded, key) for key in commented),
        ]
        found = await asyncio.gather(*(_reported(one) for one in checks))
    return [problem for problems in found for problem in problems]


async def _reported(one_check: Coroutine[Any, Any, list[str]]) -> list[str]:
    """A request the target refuses (a 404 for a seeded article, say) is a mismatch like any other."""
    try:
        return await one_check
    except ApiError as exc:
        return [str(exc)]


def _few(values: Iterable[object]) -> str:
    listed = sorted(map(str, values))
    more = f" and {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
    return ", ".join(listed[:SHOWN]) + more


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _differences(what: str, got: Iterable[str], expected: Iterable[str]) -> list[str]:
    got_set, expected_set = set(got), set(expected)
    problems = [f"{what}: missing {_few(expected_set - got_set)}"] if expected_set - got_set else []
    if got_set - expected_set:
        problems.append(f"{what}: unexpected {_few(got_set - expected_set)}")
    return problems


async def _list_all(api: ApiClient, path: str, expected: int, token: str | None = None) -> tuple[object, list[Json]]:
    """articlesCount and every item of a list endpoint, page by page; stops once past `expected` items."""
    separator = "&" if "?" in path else "?"
    count: object = None
    items: list[Json] = []
    while True:
        answer = await api.request("GET", f"{path}{separator}limit={PAGE}&offset={len(items)}", token)
        page, count = answer.get("articles"), answer.get("articlesCount")
        if not isinstance(page, list) or not isinstance(count, int):
            raise ApiError(f"GET {path}: expected articles and articlesCount, got {str(answer)[:300]}")
        items += [item for item in page if isinstance(item, dict)]
        if not page or len(items) >= count or len(items) > expected:
            return count, items


async def _listed(api: ApiClient, path: str, expected: list[str], key: str, token: str | None = None) -> list[str]:
    """The list at `path` holds exactly `expected` (compared on each item's `key`) and counts them right."""
    count, items = await _list_all(api, path, len(expected), token)
    problems = [f"GET {path}: articlesCount {count}, expected {len(expected)}"] if count != len(expected) else []
    return problems + _differences(f"GET {path}", (str(item.get(key)) for item in items), expected)


async def _author_articles(api: ApiClient, seeded: Seeded, user: int) -> list[str]:
    dataset = seeded.dataset
    titles = [article.title for article in dataset.articles_by(user)]
    return await _listed(api, f"/articles?author={quote(dataset.username(user))}", titles, "title")


async def _single_article(api: ApiClient, seeded: Seeded, key: ArticleKey) -> list[str]:
    planned, path = seeded.dataset.articles[key], f"/articles/{seeded.slugs[key]}"
    article = (await api.request("GET", path)).get("article")
    if not isinstance(article, dict):
        return [f"GET {path}: no article object"]
    author = article.get("author")
    got = {
        "title": article.get("title"),
        "description": article.get("description"),
        "body": article.get("body"),
        # The spec lists tags sorted; the order is a conformance matter, not a data one.
        "tagList": sorted(article["tagList"]) if isinstance(article.get("tagList"), list) else None,
        "favoritesCount": article.get("favoritesCount"),
        "author": author.get("username") if isinstance(author, dict) else None,
    }
    expected = {
        "title": planned.title,
        "description": planned.description,
        "body": planned.body,
        "tagList": list(planned.tags),
        "favoritesCount": seeded.dataset.favorites_count(key),
        "author": seeded.dataset.username(key[0]),
    }
    return [
        f"GET {path}: {field} is {_shown(got[field])}, expected {_shown(expected[field])}"
        for field in expected
        if got[field] != expected[field]
    ]


async def _feed(api: ApiClient, seeded: Seeded, follower: int) -> list[str]:
    dataset = seeded.dataset
    slugs = [seeded.slugs[a.key] for author in dataset.followed_by(follower) for a in dataset.articles_by(author)]
    return await _listed(api, "/articles/feed", slugs, "slug", seeded.tokens[follower])


async def _favorited(api: ApiClient, seeded: Seeded, user: int) -> list[str]:
    dataset = seeded.dataset
    slugs = [seeded.slugs[key] for key in dataset.favorited_by(user)]
    return await _listed(api, f"/articles?favorited={quote(dataset.username(user))}", slugs, "slug")


async def _comments(api: ApiClient, seeded: Seeded, key: ArticleKey) -> list[str]:
    dataset, path = seeded.dataset, f"/articles/{seeded.slugs[key]}/comments"
    comments = (await api.request("GET", path)).get("comments")
    if not isinstance(comments, list):
        return [f"GET {path}: no comments list"]
    got = [f"{(c.get('author') or {}).get('username')}: {c.get('body')}" for c in comments if isinstance(c, dict)]
    expected = [f"{dataset.username(c.author)}: {c.body}" for c in dataset.comments if c.article == key]
    problems = [f"GET {path}: {len(got)} comments, expected {len(expected)}"] if len(got) != len(expected) else []
    return problems + _differences(f"GET {path}", got, expected)
