"""Use cases of the comments area: add, list and delete comments on an article."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.articles.repository import ArticleRepository
from service.comments.repository import CommentRepository
from service.comments.schemas import Comment as CommentView
from service.comments.schemas import NewComment
from service.db import utcnow
from service.errors import Forbidden, NotFound
from service.models import User


class CommentService:
    def __init__(self, session: AsyncSession) -> None:
        self.comments = CommentRepository(session)
        self.articles = ArticleRepository(session)

    async def add(self, author: User, slug: str, new: NewComment) -> CommentView:
        comment_id = await self.comments.insert_under(slug, author.id, new.body, utcnow())
        if comment_id is None:
            raise NotFound("article")
        return await self.comments.get_view(comment_id, author.id)

    async def list_comments(self, slug: str, viewer_id: int | None) -> list[CommentView]:
        return await self.comments.list_for_article(await self._require_article_id(slug), viewer_id)

    async def delete(self, author: User, slug: str, comment_id: int) -> None:
        if await self.comments.delete_owned(comment_id, slug, author.id):
            return
        # Nothing matched: read only now, to say why (no such article, no such comment, not yours).
        comment_author_id = await self.comments.get_author_id(comment_id, await self._require_article_id(slug))
        if comment_author_id is None:
            raise NotFound("comment")
        raise Forbidden("comment", "can only be deleted by its author")

    async def _require_article_id(self, slug: str) -> int:
        article_id = await self.articles.get_id_by_slug(slug)
        if article_id is None:
            raise NotFound("article")
        return article_id
