"""SQL for the articles area: lists, single articles, tags and favorites.

A page of articles is one SELECT (author, flags, counts and tags come from correlated
subqueries) plus one COUNT, whatever the page size: no N+1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, delete, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.db_dialect import insert_ignore
from service.fields import format_timestamp
from service.models import Article, Tag, User, article_tags, favorites, follows
from service.profiles.repository import is_following
from service.profiles.schemas import Profile

from .schemas import Article as ArticleView
from .schemas import ArticleSummary

# Tags cannot contain control characters (fields.TagName), so this separator never collides.
_TAG_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
    feed_of: int | None = None  # only authors this user follows


def _favorited(viewer_id: int | None) -> ColumnElement[bool]:
    if viewer_id is None:
        return literal(False)
    return exists().where(favorites.c.article_id == Article.id, favorites.c.user_id == viewer_id)


def _article_select(viewer_id: int | None, *, with_body: bool) -> Select[*tuple[Any, ...]]:
    favorites_count = (
        select(func.count()).select_from(favorites).where(favorites.c.article_id == Article.id).scalar_subquery()
    )
    tag_names = (
        select(func.aggregate_strings(Tag.name, _TAG_SEPARATOR))
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
        _favorited(viewer_id).label("favorited"),
        favorites_count.label("favorites_count"),
        User.username,
        User.bio,
        User.image,
        is_following(viewer_id, Article.author_id).label("following"),
    ).join(User, User.id == Article.author_id)


def _conditions(where: ArticleFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.tag is not None:
        tagged = (
            select(article_tags.c.article_id).join(Tag, Tag.id == article_tags.c.tag_id).where(Tag.name == where.tag)
        )
        conditions.append(Article.id.in_(tagged))
    if where.author is not None:
        conditions.append(Article.author_id == select(User.id).where(User.username == where.author).scalar_subquery())
    if where.favorited_by is not None:
        favoriters = select(User.id).where(User.username == where.favorited_by).scalar_subquery()
        conditions.append(Article.id.in_(select(favorites.c.article_id).where(favorites.c.user_id == favoriters)))
    if where.feed_of is not None:
        conditions.append(
            Article.author_id.in_(select(follows.c.followee_id).where(follows.c.follower_id == where.feed_of))
        )
    return conditions


def _split_tags(joined: str | None) -> list[str]:
    return sorted(joined.split(_TAG_SEPARATOR)) if joined else []  # sorted: spec quirk Q2


def _author(row: Row[Any]) -> Profile:
    return Profile(username=row.username, bio=row.bio, image=row.image, following=bool(row.following))


def _summary_fields(row: Row[Any]) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tag_list": _split_tags(row.tag_names),
        "created_at": format_timestamp(row.created_at),
        "updated_at": format_timestamp(row.updated_at),
        "favorited": bool(row.favorited),
        "favorites_count": row.favorites_count,
        "author": _author(row),
    }


def _summary(row: Row[Any]) -> ArticleSummary:
    return ArticleSummary(**_summary_fields(row))


def _full(row: Row[Any]) -> ArticleView:
    return ArticleView(**_summary_fields(row), body=row.body)


class ArticleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_page(
        self, where: ArticleFilter, viewer_id: int | None, limit: int, offset: int
    ) -> tuple[list[ArticleSummary], int]:
        conditions = _conditions(where)
        count = await self.session.scalar(select(func.count()).select_from(Article).where(*conditions))
        if not count or offset >= count:
            return [], count or 0
        query = (
            _article_select(viewer_id, with_body=False)
            .where(*conditions)
            .order_by(Article.created_at.desc(), Article.id.desc())  # newest first, ties by id (Q9)
            .limit(limit)
            .offset(offset)
        )
        rows = (await self.session.execute(query)).all()
        return [_summary(row) for row in rows], count

    async def get_view(self, slug: str, viewer_id: int | None) -> ArticleView | None:
        row = (
            await self.session.execute(_article_select(viewer_id, with_body=True).where(Article.slug == slug))
        ).first()
        return None if row is None else _full(row)

    async def get_by_slug(self, slug: str) -> Article | None:
        return await self.session.scalar(select(Article).where(Article.slug == slug))

    async def get_id_by_slug(self, slug: str) -> int | None:
        return await self.session.scalar(select(Article.id).where(Article.slug == slug))

    async def is_slug_taken(self, slug: str) -> bool:
        return bool(await self.session.scalar(select(exists().where(Article.slug == slug))))

    async def add(self, article: Article, tag_names: Sequence[str]) -> Article:
        self.session.add(article)
        await self.session.flush()
        if tag_names:
            tag_ids = await self._ensure_tags(tag_names)
            await self.session.execute(
                article_tags.insert(), [{"article_id": article.id, "tag_id": tag_id} for tag_id in tag_ids]
            )
        return article

    async def save(self, article: Article) -> None:
        await self.session.flush()

    async def delete(self, article: Article) -> None:
        await self.session.delete(article)  # tags links, favorites and comments go by ON DELETE CASCADE
        await self.session.flush()

    async def favorite(self, user_id: int, article_id: int) -> None:
        # ON CONFLICT DO NOTHING: favoriting twice, or two racing requests, count once.
        await self.session.execute(
            insert_ignore(self.session, favorites).values(user_id=user_id, article_id=article_id)
        )

    async def unfavorite(self, user_id: int, article_id: int) -> None:
        await self.session.execute(
            delete(favorites).where(favorites.c.user_id == user_id, favorites.c.article_id == article_id)
        )

    async def list_tags(self) -> list[str]:
        """Tags in use, most used first."""
        usage = func.count(article_tags.c.article_id)
        query = select(Tag.name).join(article_tags, article_tags.c.tag_id == Tag.id).group_by(Tag.name)
        return list(await self.session.scalars(query.order_by(usage.desc(), Tag.name)))

    async def _ensure_tags(self, names: Sequence[str]) -> list[int]:
        # ON CONFLICT DO NOTHING because two requests may create the same new tag at once.
        await self.session.execute(insert_ignore(self.session, Tag.__table__), [{"name": name} for name in names])  # type: ignore[arg-type]
        return list(await self.session.scalars(select(Tag.id).where(Tag.name.in_(names))))
