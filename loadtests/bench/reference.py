"""The speed-of-light reference for `make bench`: the article list, the feed, one article and the tags,
served from the same PostgreSQL database with the same JSON, byte for byte, by the least code that can.

No framework, no ORM: a bare ASGI callable, asyncpg with one prepared statement per request, PyJWT
for the token and msgspec for the JSON. What the service costs beyond this is the price of its
framework, its ORM and its middleware; `make bench` prints the ratio per endpoint.

    uvicorn --factory loadtests.bench.reference:create_app   (REFERENCE_DSN, REFERENCE_SECRET_KEY)

Not a pattern to copy: it skips validation, error bodies, logging, metrics and most of the API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import jwt
import msgspec

ASGIMessage = dict[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
_ARTICLE = re.compile(r"/api/articles/([^/]+)")


class Profile(msgspec.Struct):
    username: str
    bio: str | None
    image: str | None
    following: bool


class Summary(msgspec.Struct, rename="camel"):
    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: str
    updated_at: str
    favorited: bool
    favorites_count: int
    author: Profile


class Article(Summary, rename="camel"):
    body: str


class Page(msgspec.Struct, rename="camel"):
    articles: list[Summary]
    articles_count: int


class One(msgspec.Struct):
    article: Article


class Tags(msgspec.Struct):
    tags: list[str]


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


_COLUMNS = """
    a.slug, a.title, a.description, {body}
    a.created_at, a.updated_at,
    (SELECT string_agg(t.name, E'\\x1f') FROM article_tags at JOIN tags t ON t.id = at.tag_id
      WHERE at.article_id = a.id) AS tag_names,
    EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = $1) AS favorited,
    (SELECT count(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count,
    u.username, u.bio, u.image,
    EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = a.author_id) AS following
"""
_LIST = f"""
SELECT {_COLUMNS.format(body="")}, (SELECT count(*) FROM articles) AS total
FROM articles a JOIN users u ON u.id = a.author_id
ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_FEED_WHERE = "a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)"
_FEED = f"""
SELECT {_COLUMNS.format(body="")}, (SELECT count(*) FROM articles a WHERE {_FEED_WHERE}) AS total
FROM articles a JOIN users u ON u.id = a.author_id WHERE {_FEED_WHERE}
ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_ONE = f"SELECT {_COLUMNS.format(body='a.body,')} FROM articles a JOIN users u ON u.id = a.author_id WHERE a.slug = $2"  # noqa: S608
_TAGS = """
SELECT t.name FROM tags t JOIN article_tags at ON at.tag_id = t.id
GROUP BY t.name ORDER BY count(at.article_id) DESC, t.name
"""


def _summary_values(row: asyncpg.Record) -> tuple[Any, ...]:
    tags = sorted(row["tag_names"].split("\x1f")) if row["tag_names"] else []
    author = Profile(row["username"], row["bio"], row["image"], row["following"])
    return (
        row["slug"],
        row["title"],
        row["description"],
        tags,
        _stamp(row["created_at"]),
        _stamp(row["updated_at"]),
        row["favorited"],
        row["favorites_count"],
        author,
    )


class ReferenceApp:
    def __init__(self, dsn: str, secret_key: str) -> None:
        self.dsn, self.secret_key = dsn, secret_key
        self.pool: asyncpg.Pool | None = None
        self.encode = msgspec.json.Encoder().encode

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        status, body = await self._answer(scope)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=10)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _viewer(self, scope: dict[str, Any]) -> int | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = value.decode().partition(" ")[2]
                return int(jwt.decode(token, self.secret_key, algorithms=["HS256"])["sub"])
        return None

    async def _answer(self, scope: dict[str, Any]) -> tuple[int, bytes]:
        assert self.pool is not None
        path, viewer = scope["path"], self._viewer(scope)
        query = parse_qs(scope["query_string"].decode())
        limit, offset = int(query.get("limit", ["20"])[0]), int(query.get("offset", ["0"])[0])
        async with self.pool.acquire() as connection:
            if path == "/api/tags":
                return 200, self.encode(Tags([row["name"] for row in await connection.fetch(_TAGS)]))
            if path in ("/api/articles", "/api/articles/feed"):
                statement = _FEED if path.endswith("/feed") else _LIST
                rows = await connection.fetch(statement, viewer, limit, offset)
                total = rows[0]["total"] if rows else 0
                return 200, self.encode(Page([Summary(*_summary_values(row)) for row in rows], total))
            match = _ARTICLE.fullmatch(path)
            row = await connection.fetchrow(_ONE, viewer, match.group(1)) if match else None
            if row is None:
                return 404, b'{"errors":{"article":["not found"]}}'
            article = Article(*_summary_values(row), row["body"])  # type: ignore[call-arg]  # mypy cannot count a starred tuple
            return 200, self.encode(One(article))


def create_app() -> ReferenceApp:
    return ReferenceApp(os.environ["REFERENCE_DSN"], os.environ["REFERENCE_SECRET_KEY"])
