"""SQL for the articles area: lists, single articles, tags and favorites.

A page of articles is one SELECT whatever the page size (no N+1): author, flags, counts and tags
come from correlated subqueries, and the total from an uncorrelated one the database runs once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Select, Table, bindparam, delete, exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.db import affected_rows
from service.dialects import insert_unless_taken, keep_existing
from service.errors import violated_constraint
from service.models import Article, Tag, User, article_tags, favorites, follows
from service.profiles.repository import AuthorRow, is_following

# Tags cannot contain control characters (fields.TagName), so this separator never collides.
TAG_SEPARATOR = "\x1f"
_ARTICLES: Table = Article.__table__  # type: ignore[assignment]


class SlugTaken(Exception):
    """Another article holds the slug a write asked for; the caller picks another."""


class ArticleRow(AuthorRow, Protocol):
    """An article as a page or a single view returns it: its columns, the viewer's flags, its
    favorite count and its author (AuthorRow). `tag_names` holds every tag, joined by TAG_SEPARATOR."""

    slug: str
    title: str
    description: str
    created_at: datetime
    updated_at: datetime
    tag_names: str | None
    favorited: bool
    favorites_count: int


class FullArticleRow(ArticleRow, Protocol):
    body: str


@dataclass(frozen=True, slots=True)
class NewArticleRow:
    slug: str
    title: str
    description: str
    body: str
    author_id: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
    feed_of: int | None = None  # only authors this user follows


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a statement has and whether it is personalised; the values are bound at run time."""

    tag: bool = False
    author: bool = False
    favorited_by: bool = False
    feed: bool = False
    personal: bool = False

    @classmethod
    def of(cls, where: ArticleFilter, viewer_id: int | None) -> _Shape:
        return cls(
            tag=where.tag is not None,
            author=where.author is not None,
            favorited_by=where.favorited_by is not None,
            feed=where.feed_of is not None,
            personal=viewer_id is not None,
        )


def _params(where: ArticleFilter, viewer_id: int | None) -> dict[str, Any]:
    return {
        "tag": where.tag,
        "author": where.author,
        "favorited_by": where.favorited_by,
        "feed_of": where.feed_of,
        "viewer_id": viewer_id,
    }


def _favorited(personal: bool) -> ColumnElement[bool]:
    if not personal:
        return literal(False)
    return exists().where(favorites.c.article_id == Article.id, favorites.c.user_id == bindparam("viewer_id"))


def _article_select(personal: bool, *, with_body: bool) -> Select[*tuple[Any, ...]]:
    favorites_count = (
        select(func.count()).select_from(favorites).where(favorites.c.article_id == Article.id).scalar_subquery()
    )
    tag_names = (
        select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
        .select_from(article_tags.join(Tag, Tag.id == article_tags.c.tag_id))
        .where(article_tags.c.article_id == Article.id)
        .scalar_subquery()
    )
    columns = [Article.slug, Article.title, Article.description]
    if with_body:
        columns.append(Article.body)
    return select(
        *columns,
        Article.created_at,
        Article.updated_at,
        tag_names.label("tag_names"),
        _favorited(personal).label("favorited"),
        favorites_count.label("favorites_count"),
        User.username,
        User.bio,
        User.image,
        is_following(Article.author_id, personal).label("following"),
    ).join(User, User.id == Article.author_id)


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.tag:
        tagged = (
            select(article_tags.c.article_id)
            .join(Tag, Tag.id == article_tags.c.tag_id)
            .where(Tag.name == bindparam("tag"))
        )
        conditions.append(Article.id.in_(tagged))
    if shape.author:
        author_id = select(User.id).where(User.username == bindparam("author")).scalar_subquery()
        conditions.append(Article.author_id == author_id)
    if shape.favorited_by:
        favoriters = select(User.id).where(User.username == bindparam("favorited_by")).scalar_subquery()
        conditions.append(Article.id.in_(select(favorites.c.article_id).where(favorites.c.user_id == favoriters)))
    if shape.feed:
        followed = select(follows.c.followee_id).where(follows.c.follower_id == bindparam("feed_of"))
        conditions.append(Article.author_id.in_(followed))
    return conditions


# Statements are built once per shape and reused: SQLAlchemy then finds their compiled form by a
# memoised cache key instead of rebuilding and re-hashing the whole tree on every request.
@cache
def _count_statement(shape: _Shape) -> Select[int]:
    return select(func.count()).select_from(Article).where(*_conditions(shape))


_NEWEST_FIRST = (Article.created_at.desc(), Article.id.desc())  # ties by id (Q9)


@cache
def _page_statement(shape: _Shape) -> Select[*tuple[Any, ...]]:
    """One round trip: the page's rows, each carrying the total count (computed once by the database).

    The page's ids are chosen first, in a derived table, and only those rows get their author,
    tags and counts. PostgreSQL's planner finds that order by itself; MariaDB's computes the
    per-row subqueries for every matching article before it sorts and cuts the page (430 ms
    instead of 3 ms for the first page of 10,000 articles, docs/performance.md).
    """
    conditions = _conditions(shape)
    total = select(func.count()).select_from(Article).where(*conditions).scalar_subquery()
    page = (
        select(Article.id)
        .where(*conditions)
        .order_by(*_NEWEST_FIRST)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    return (
        _article_select(shape.personal, with_body=False)
        .add_columns(total.label("total"))
        .join(page, page.c.id == Article.id)
        .order_by(*_NEWEST_FIRST)
    )


@cache
def _view_statement(personal: bool) -> Select[*tuple[Any, ...]]:
    return _article_select(personal, with_body=True).where(Article.slug == bindparam("slug"))


# Built once, like the statements above: rebuilding it per request was 11% of a tags request's CPU.
_TAGS_BY_USE = (
    select(Tag.name)
    .join(article_tags, article_tags.c.tag_id == Tag.id)
    .group_by(Tag.name)
    .order_by(func.count(article_tags.c.article_id).desc(), Tag.name)
)


class ArticleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_page(
        self, where: ArticleFilter, viewer_id: int | None, limit: int, offset: int
    ) -> tuple[Sequence[ArticleRow], int]:
        """A page and the total count in one query; a second (the count alone) only for an empty page."""
        shape, params = _Shape.of(where, viewer_id), _params(where, viewer_id)
        # Core execution on the request's own connection: the statement selects columns, not
        # entities, so the ORM's result processing would only add cost.
        connection = await self.session.connection()
        rows = (await connection.execute(_page_statement(shape), {**params, "limit": limit, "offset": offset})).all()
        if rows:
            total: int = rows[0].total
            return cast(Sequence[ArticleRow], rows), total
        count = await connection.scalar(_count_statement(shape), params)
        return [], count or 0

    async def get_view(self, slug: str, viewer_id: int | None) -> FullArticleRow | None:
        connection = await self.session.connection()
        row = (
            await connection.execute(_view_statement(viewer_id is not None), {"slug": slug, "viewer_id": viewer_id})
        ).first()
        return cast(FullArticleRow | None, row)

    async def get_id_by_slug(self, slug: str) -> int | None:
        return await self.session.scalar(select(Article.id).where(Article.slug == slug))

    async def get_author_id(self, slug: str) -> int | None:
        return await self.session.scalar(select(Article.author_id).where(Article.slug == slug))

    async def insert(self, article: NewArticleRow) -> int | None:
        """The new article's id, or None when another article holds `article.slug` (nothing is written).

        Whether the slug is free is decided by the unique index at the moment of the insert, so two
        requests with one title cannot both take it.
        """
        article_id: int | None = await insert_unless_taken(
            self.session, _ARTICLES, dataclasses.asdict(article), key=_ARTICLES.c.id
        )
        return article_id

    async def add_tags(self, article_id: int, tag_names: Sequence[str]) -> None:
        if tag_names:
            tag_ids = await self._ensure_tags(tag_names)
            await self.session.execute(
                article_tags.insert(), [{"article_id": article_id, "tag_id": tag_id} for tag_id in tag_ids]
            )

    async def update_owned(self, slug: str, author_id: int, changes: Mapping[str, Any]) -> bool:
        """Apply `changes` to the article `slug` if `author_id` wrote it; False when no such row matched.

        Raises SlugTaken when `changes` gives it a slug another article holds; that statement alone is
        undone (a savepoint), so the caller can try another slug in the same transaction.
        """
        # The row count, not RETURNING: MariaDB has no UPDATE ... RETURNING. `changes` always sets
        # updated_at, so a matched row is a changed row on every database.
        statement = update(Article).where(Article.slug == slug, Article.author_id == author_id).values(**changes)
        if "slug" not in changes:
            return affected_rows(await self.session.execute(statement)) == 1
        try:
            async with self.session.begin_nested():
                return affected_rows(await self.session.execute(statement)) == 1
        except IntegrityError as error:
            if violated_constraint(error) == "uq_articles_slug":
                raise SlugTaken(changes["slug"]) from None
            raise

    async def delete_owned(self, slug: str, author_id: int) -> bool:
        """Delete the article `slug` if `author_id` wrote it; False when no such row matched.

        Tag links, favorites and comments go by ON DELETE CASCADE. Two racing deletes cannot both
        succeed: the second finds no row (PostgreSQL makes it wait for the first to commit).
        """
        deleted = await self.session.execute(
            delete(Article).where(Article.slug == slug, Article.author_id == author_id)
        )
        return affected_rows(deleted) == 1

    async def favorite(self, user_id: int, slug: str) -> None:
        """Favorite the article `slug`; nothing happens when there is none, or it is already a favorite.

        One INSERT ... SELECT: no "does it exist" read first that a delete could slip behind (if the
        article goes between the SELECT and the foreign-key check, errors.py answers 404).
        """
        article_id = select(literal(user_id), Article.id).where(Article.slug == slug)
        await self.session.execute(
            keep_existing(self.session, favorites, favorites.c.user_id).from_select(
                ["user_id", "article_id"], article_id
            )
        )

    async def unfavorite(self, user_id: int, slug: str) -> None:
        article_id = select(Article.id).where(Article.slug == slug).scalar_subquery()
        await self.session.execute(
            delete(favorites).where(favorites.c.user_id == user_id, favorites.c.article_id == article_id)
        )

    async def list_tags(self) -> list[str]:
        """Tags in use, most used first."""
        connection = await self.session.connection()  # Core, as list_page: names, not entities
        return list(await connection.scalars(_TAGS_BY_USE))

    async def _ensure_tags(self, names: Sequence[str]) -> list[int]:
        # ON CONFLICT DO NOTHING because two requests may create the same new tag at once.
        tags: Table = Tag.__table__  # type: ignore[assignment]
        await self.session.execute(keep_existing(self.session, tags, tags.c.name), [{"name": name} for name in names])
        return list(await self.session.scalars(select(Tag.id).where(Tag.name.in_(names))))
