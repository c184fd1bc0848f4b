"""Use cases of the comments area: add, list and delete comments on an article."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.articles.repository import ArticleRepository
from service.comments.repository import CommentRepository
from service.comments.schemas import Comment as CommentView
from service.comments.schemas import NewComment
from service.db import utcnow
from service.errors import Forbidden, NotFound
from service.models import Comment, User


class CommentService:
    def __init__(self, session: AsyncSession) -> None:
        self.comments = CommentRepository(session)
        self.articles = ArticleRepository(session)

    async def add(self, author: User, slug: str, new: NewComment) -> CommentView:
        now = utcnow()
        article_id = await self._require_article_id(slug)
        comment = Comment(body=new.body, article_id=article_id, author_id=author.id, created_at=now, updated_at=now)
        await self.comments.add(comment)
        return await self.comments.get_view(comment.id, author.id)

    async def list_comments(self, slug: str, viewer_id: int | None) -> list[CommentView]:
        return await self.comments.list_for_article(await self._require_article_id(slug), viewer_id)

    async def delete(self, author: User, slug: str, comment_id: int) -> None:
        comment = await self.comments.get_in_article(comment_id, await self._require_article_id(slug))
        if comment is None:
            raise NotFound("comment")
        if comment.author_id != author.id:
            raise Forbidden("comment", "can only be deleted by its author")
        await self.comments.delete(comment)

    async def _require_article_id(self, slug: str) -> int:
        article_id = await self.articles.get_id_by_slug(slug)
        if article_id is None:
            raise NotFound("article")
        return article_id
