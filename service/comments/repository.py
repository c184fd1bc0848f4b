"""SQL for the comments area."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Select, Table, delete, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import UTCDateTime, affected_rows
from service.dialects import insert_returning_id
from service.models import Article, Comment, User
from service.profiles.repository import AuthorRow, is_following


class CommentRow(AuthorRow, Protocol):
    """A comment as the queries return it, with its author (AuthorRow)."""

    id: int
    created_at: datetime
    updated_at: datetime
    body: str


def _comment_select(personal: bool) -> Select[*tuple[Any, ...]]:
    return select(
        Comment.id,
        Comment.created_at,
        Comment.updated_at,
        Comment.body,
        User.username,
        User.bio,
        User.image,
        is_following(Comment.author_id, personal).label("following"),
    ).join(User, User.id == Comment.author_id)


class CommentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_for_article(self, article_id: int, viewer_id: int | None) -> Sequence[CommentRow]:
        """Oldest first, so a thread reads top to bottom."""
        query = (
            _comment_select(viewer_id is not None)
            .where(Comment.article_id == article_id)
            .order_by(Comment.created_at, Comment.id)
        )
        return cast(Sequence[CommentRow], (await self.session.execute(query, {"viewer_id": viewer_id})).all())

    async def get_view(self, comment_id: int, viewer_id: int | None) -> CommentRow:
        query = _comment_select(viewer_id is not None).where(Comment.id == comment_id)
        return cast(CommentRow, (await self.session.execute(query, {"viewer_id": viewer_id})).one())

    async def get_author_id(self, comment_id: int, article_id: int) -> int | None:
        return await self.session.scalar(
            select(Comment.author_id).where(Comment.id == comment_id, Comment.article_id == article_id)
        )

    async def insert_under(self, slug: str, author_id: int, body: str, now: datetime) -> int | None:
        """The new comment's id, or None when there is no article `slug` (nothing is written).

        One INSERT ... SELECT: no "does the article exist" read that a delete could slip behind (if
        it goes between the SELECT and the foreign-key check, errors.py answers 404).
        """
        article = select(
            literal(body), Article.id, literal(author_id), literal(now, UTCDateTime), literal(now, UTCDateTime)
        ).where(Article.slug == slug)
        columns = ["body", "article_id", "author_id", "created_at", "updated_at"]
        comments: Table = Comment.__table__  # type: ignore[assignment]
        comment_id: int | None = await insert_returning_id(
            self.session, insert(comments).from_select(columns, article), comments
        )
        return comment_id

    async def delete_owned(self, comment_id: int, article_slug: str, author_id: int) -> bool:
        """Delete the comment if it is under `article_slug` and `author_id` wrote it; False otherwise.

        Two racing deletes cannot both succeed: the second matches no row.
        """
        article_id = select(Article.id).where(Article.slug == article_slug).scalar_subquery()
        deleted = await self.session.execute(
            delete(Comment).where(
                Comment.id == comment_id, Comment.article_id == article_id, Comment.author_id == author_id
            )
        )
        return affected_rows(deleted) == 1
