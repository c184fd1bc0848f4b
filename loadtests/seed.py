"""`make seed-load`: a realistic, deterministic data set written by bulk inserts (not the HTTP API).

Every load user has the same known password (LOAD_PASSWORD). It is hashed once, with the service's
own Argon2 settings, and the hash is reused: hashing 1,000 passwords at ~50 ms each would take
most of the time budget. Ids are assigned here (after any rows already present), so the inserts
need no RETURNING and run as plain executemany batches on SQLite, PostgreSQL and MariaDB alike;
what differs after the load (id sequences, ANALYZE) is in service/dialects.py.

A second run with the same sizes finds the load users there and changes nothing (exit 0); a run
with other sizes on a database that already holds a load data set stops with an error instead of
mixing two data sets.

    python -m loadtests.seed [--users 1000 --articles 10000 ...]   # DATABASE_URL as for the service
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.cli import migrate
from service.dialects import create_engine, follow_explicit_ids, refresh_statistics
from service.models import Article, Comment, Tag, User, article_tags, favorites, follows
from service.settings import Settings
from service.users.security import create_password_hasher, hash_password_sync

LOAD_PASSWORD = "load-password"  # noqa: S105 - documented credential of the generated load users
USERNAME_PREFIX = "loaduser"
EMAIL_DOMAIN = "load.example.com"
SEED = 20_260_101  # fixed: the same arguments give the same data set on every run
BATCH = 5_000
START = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = (  # noqa: SIM905 - a sentence is easier to read and edit than 36 quoted words
    "latency throughput index query cache pool worker event loop shard replica commit rollback "
    "schema migration tracing metric alert gateway proxy socket buffer thread process kernel "
    "python litestar sqlalchemy postgres sqlite nginx locust argon2 token profile article"
).split()


class AlreadySeeded(RuntimeError):
    """A load data set of other sizes is already in this database."""


@dataclass(frozen=True, slots=True)
class SeedSize:
    users: int = 1_000
    articles: int = 10_000
    tags: int = 50
    comments: int = 30_000
    follows_per_user: int = 10
    favorites_per_user: int = 20
    tags_per_article: int = 3


def username(index: int) -> str:
    """The name of load user `index` (0-based); the locustfile signs in with the same scheme."""
    return f"{USERNAME_PREFIX}_{index:05d}"


def email(index: int) -> str:
    return f"{username(index)}@{EMAIL_DOMAIN}"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def _next_id(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


async def _insert(connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        await connection.execute(table.insert(), batch)


def _users(first_id: int, size: SeedSize, password_hash: str) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + i,
            "username": username(i),
            "email": email(i),
            "password_hash": password_hash,
            "bio": f"Load user {i}" if i % 3 else None,  # some null bios, as real profiles have
            "image": None,
            "created_at": START,
            "updated_at": START,
        }
        for i in range(size.users)
    ]


def _articles(rng: random.Random, first_id: int, user_ids: list[int], size: SeedSize) -> list[dict[str, Any]]:
    rows = []
    for i in range(size.articles):
        created = START + timedelta(minutes=i, milliseconds=rng.randrange(1000))
        title = f"{_sentence(rng, 4).capitalize()} {i}"
        rows.append(
            {
                "id": first_id + i,
                "slug": f"load-{i}-{title.lower().replace(' ', '-')}",
                "title": title,
                "description": _sentence(rng, 10),
                "body": _sentence(rng, 120),
                "author_id": rng.choice(user_ids),
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _pairs(rng: random.Random, lefts: list[int], rights: list[int], per_left: int) -> list[tuple[int, int]]:
    """`per_left` distinct partners for each left id (never itself)."""
    pairs: list[tuple[int, int]] = []
    for left in lefts:
        chosen = {right for right in rng.sample(rights, min(per_left + 1, len(rights))) if right != left}
        pairs.extend((left, right) for right in sorted(chosen)[:per_left])
    return pairs


async def _load_users_present(connection: AsyncConnection) -> int:
    is_load_user = User.username.startswith(f"{USERNAME_PREFIX}_", autoescape=True)
    return int(await connection.scalar(select(func.count()).select_from(User).where(is_load_user)) or 0)


async def seed_load(settings: Settings, size: SeedSize) -> dict[str, int] | None:
    """Insert the data set into DATABASE_URL (already migrated); the row count per table, or None when
    the same data set is already there (nothing is written)."""
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            present = await _load_users_present(connection)
            if present == size.users:
                return None
            if present:
                raise AlreadySeeded(
                    f"this database holds a load data set of {present:,} users, not {size.users:,}: "
                    "seed a fresh database, or use the sizes it was seeded with"
                )
            plan = await _plan(connection, settings, size)
            for table, rows in plan:
                await _insert(connection, table, rows)
            await follow_explicit_ids(connection, (table for table, _ in plan if "id" in table.c))
        async with engine.begin() as connection:
            await refresh_statistics(connection, (table for table, _ in plan))
        return {table.name: len(rows) for table, rows in plan}
    finally:
        await engine.dispose()


async def _plan(
    connection: AsyncConnection, settings: Settings, size: SeedSize
) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Every row to insert, per table in foreign-key order; ids follow those already in the database."""
    rng = random.Random(SEED)
    password_hash = hash_password_sync(create_password_hasher(settings), LOAD_PASSWORD)
    user_first = await _next_id(connection, User.__table__)  # type: ignore[arg-type]
    users = _users(user_first, size, password_hash)
    user_ids = [row["id"] for row in users]
    tag_first = await _next_id(connection, Tag.__table__)  # type: ignore[arg-type]
    tags = [{"id": tag_first + i, "name": f"loadtag{i:02d}"} for i in range(size.tags)]
    tag_ids = [row["id"] for row in tags]
    articles = _articles(rng, await _next_id(connection, Article.__table__), user_ids, size)  # type: ignore[arg-type]
    article_ids = [row["id"] for row in articles]
    links = [
        {"article_id": article_id, "tag_id": tag_id}
        for article_id in article_ids
        for tag_id in rng.sample(tag_ids, min(size.tags_per_article, len(tag_ids)))
    ]
    comment_first = await _next_id(connection, Comment.__table__)  # type: ignore[arg-type]
    comments = []
    for i in range(size.comments):
        created = START + timedelta(days=30, seconds=i)
        comments.append(
            {
                "id": comment_first + i,
                "body": _sentence(rng, 20),
                "article_id": rng.choice(article_ids),
                "author_id": rng.choice(user_ids),
                "created_at": created,
                "updated_at": created,
            }
        )
    follow_rows = [
        {"follower_id": a, "followee_id": b} for a, b in _pairs(rng, user_ids, user_ids, size.follows_per_user)
    ]
    favorite_rows = [
        {"user_id": a, "article_id": b} for a, b in _pairs(rng, user_ids, article_ids, size.favorites_per_user)
    ]
    return [
        (User.__table__, users),  # type: ignore[list-item]
        (Tag.__table__, tags),  # type: ignore[list-item]
        (Article.__table__, articles),  # type: ignore[list-item]
        (article_tags, links),
        (Comment.__table__, comments),  # type: ignore[list-item]
        (follows, follow_rows),
        (favorites, favorite_rows),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__.splitlines()[0])
    defaults = SeedSize()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--articles", type=int, default=defaults.articles)
    parser.add_argument("--tags", type=int, default=defaults.tags)
    parser.add_argument("--comments", type=int, default=defaults.comments)
    parser.add_argument("--follows-per-user", type=int, default=defaults.follows_per_user)
    parser.add_argument("--favorites-per-user", type=int, default=defaults.favorites_per_user)
    parser.add_argument("--no-migrate", action="store_true", help="the schema is already at head")
    args = parser.parse_args(argv)
    size = SeedSize(
        users=args.users,
        articles=args.articles,
        tags=args.tags,
        comments=args.comments,
        follows_per_user=args.follows_per_user,
        favorites_per_user=args.favorites_per_user,
    )
    settings = Settings.from_env()
    started = time.perf_counter()
    if not args.no_migrate:
        migrate(settings.database_url)
    try:
        counts = asyncio.run(seed_load(settings, size))
    except AlreadySeeded as exc:
        raise SystemExit(f"seed-load: {exc}") from None
    elapsed = time.perf_counter() - started
    if counts is None:
        print(f"seed-load: the load data set ({size.users:,} users) is already there; nothing written")
        return
    summary = ", ".join(f"{count:,} {table}" for table, count in counts.items())
    print(f"seed-load: {summary} in {elapsed:.1f} s (password of every {USERNAME_PREFIX}_NNNNN: {LOAD_PASSWORD})")


if __name__ == "__main__":
    main()
