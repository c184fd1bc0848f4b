"""SQL for the comments area."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.comments.schemas import Comment as CommentView
from service.fields import format_timestamp
from service.models import Comment, User
from service.profiles.repository import is_following
from service.profiles.schemas import Profile


def _comment_select(viewer_id: int | None) -> Select[*tuple[Any, ...]]:
    return select(
        Comment.id,
        Comment.created_at,
        Comment.updated_at,
        Comment.body,
        User.username,
        User.bio,
        User.image,
        is_following(viewer_id, Comment.author_id).label("following"),
    ).join(User, User.id == Comment.author_id)


def _view(row: Row[Any]) -> CommentView:
    return CommentView(
        id=row.id,
        created_at=format_timestamp(row.created_at),
        updated_at=format_timestamp(row.updated_at),
        body=row.body,
        author=Profile(username=row.username, bio=row.bio, image=row.image, following=bool(row.following)),
    )


class CommentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_for_article(self, article_id: int, viewer_id: int | None) -> list[CommentView]:
        """Oldest first, so a thread reads top to bottom."""
        query = (
            _comment_select(viewer_id).where(Comment.article_id == article_id).order_by(Comment.created_at, Comment.id)
        )
        return [_view(row) for row in (await self.session.execute(query)).all()]

    async def get_view(self, comment_id: int, viewer_id: int | None) -> CommentView:
        row = (await self.session.execute(_comment_select(viewer_id).where(Comment.id == comment_id))).one()
        return _view(row)

    async def get_in_article(self, comment_id: int, article_id: int) -> Comment | None:
        return await self.session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)
        )

    async def add(self, comment: Comment) -> Comment:
        self.session.add(comment)
        await self.session.flush()
        return comment

    async def delete(self, comment: Comment) -> None:
        await self.session.delete(comment)
        await self.session.flush()
