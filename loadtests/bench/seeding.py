"""Write a bench-compare data set into any RealWorld back-end, through its public API only.

Only what the RealWorld spec defines is used (`{"user": {...}}` envelopes, `Authorization: Token
<jwt>`, the slugs the back-end returns), so other implementations can be seeded the same way.
Requests run concurrently, bounded by a semaphore; the first refused request stops the seeding.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from loadtests.bench.dataset import PASSWORD, ArticleKey, DataSet, PlannedArticle, PlannedComment

T = TypeVar("T")
Json = dict[str, Any]
TIMEOUT_SECONDS = 30.0
# "Not now, try again": a busy SQLite back-end answers 503 when a writer waited out its lock, a
# rate limit 429. Both mean the request was not carried out, so it is sent again, a few times.
RETRIED_STATUSES = frozenset({429, 503})
ATTEMPTS = 4
LONGEST_WAIT_SECONDS = 5.0


class ApiError(RuntimeError):
    """The target refused or failed a request; the message names the request and its answer."""


class ApiClient:
    """An HTTP client for one target's API base URL (`http://host:port/api`), at most `concurrency` requests at once."""

    def __init__(self, api: str, concurrency: int) -> None:
        limits = httpx.Limits(max_connections=concurrency)
        self.http = httpx.AsyncClient(base_url=api.rstrip("/"), timeout=TIMEOUT_SECONDS, limits=limits)
        self.slots = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, token: str | None = None, body: Json | None = None) -> Json:
        """The JSON answer of a 2xx; an ApiError for anything else, the connection failing included."""
        headers = {"Authorization": f"Token {token}"} if token else {}
        for attempt in range(1, ATTEMPTS + 1):
            async with self.slots:
                try:
                    response = await self.http.request(method, path, headers=headers, json=body)
                except httpx.HTTPError as exc:
                    raise ApiError(f"{method} {path}: {exc!r}") from exc
            if response.status_code not in RETRIED_STATUSES or attempt == ATTEMPTS:
                break
            await asyncio.sleep(_retry_after(response))  # outside the slot: others may go on meanwhile
        if not response.is_success:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ApiError(f"{method} {path}: not a JSON object: {response.text[:300]!r}")
        return answer


def _retry_after(response: httpx.Response) -> float:
    """The wait the target asks for (Retry-After in seconds), within reason; 1 s when it names none."""
    try:
        return min(float(response.headers.get("Retry-After", "1")), LONGEST_WAIT_SECONDS)
    except ValueError:  # an HTTP date: not worth parsing for a seeding pause
        return 1.0


def text_at(answer: Json, envelope: str, key: str) -> str:
    """answer[envelope][key] as a string; an ApiError when a back-end answers another shape."""
    inner = answer.get(envelope)
    value = inner.get(key) if isinstance(inner, dict) else None
    if not isinstance(value, str):
        raise ApiError(f"expected a string at {envelope}.{key}, got {str(answer)[:300]}")
    return value


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the target answered while being seeded: one token per user, one slug per article."""

    dataset: DataSet
    tokens: list[str]
    slugs: dict[ArticleKey, str]


async def concurrently(calls: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Results in order; the first ApiError cancels the remaining calls and is raised alone."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except ExceptionGroup as failed:
        refused = failed.subgroup(ApiError)
        if refused is None:
            raise
        raise refused.exceptions[0] from None
    return [task.result() for task in tasks]


async def _register(api: ApiClient, dataset: DataSet, user: int) -> str:
    body = {"user": {"username": dataset.username(user), "email": dataset.email(user), "password": PASSWORD}}
    answer = await api.request("POST", "/users", body=body)
    return text_at(answer, "user", "token")


async def _create(api: ApiClient, token: str, article: PlannedArticle) -> str:
    fields = {"title": article.title, "description": article.description, "body": article.body}
    answer = await api.request("POST", "/articles", token, {"article": {**fields, "tagList": list(article.tags)}})
    return text_at(answer, "article", "slug")


async def _comment(api: ApiClient, seeded: Seeded, comment: PlannedComment) -> None:
    path = f"/articles/{seeded.slugs[comment.article]}/comments"
    await api.request("POST", path, seeded.tokens[comment.author], {"comment": {"body": comment.body}})


async def _relations(api: ApiClient, seeded: Seeded) -> None:
    dataset, tokens = seeded.dataset, seeded.tokens
    users = range(dataset.size.users)
    follows = [
        api.request("POST", f"/profiles/{dataset.username(followed)}/follow", tokens[user])
        for user in users
        for followed in dataset.followed_by(user)
    ]
    favorites = [
        api.request("POST", f"/articles/{seeded.slugs[key]}/favorite", tokens[user])
        for user in users
        for key in dataset.favorited_by(user)
    ]
    comments = [_comment(api, seeded, comment) for comment in dataset.comments]
    await concurrently([*follows, *favorites, *comments])


async def seed(api_url: str, dataset: DataSet, concurrency: int = 8) -> Seeded:
    """Register the users, then write their articles, then follows, favorites and comments."""
    async with ApiClient(api_url, concurrency) as api:
        tokens = await concurrently(_register(api, dataset, user) for user in range(dataset.size.users))
        articles = list(dataset.articles.values())
        slugs = await concurrently(_create(api, tokens[article.key[0]], article) for article in articles)
        seeded = Seeded(dataset, tokens, {article.key: slug for article, slug in zip(articles, slugs, strict=True)})
        await _relations(api, seeded)
    return seeded
