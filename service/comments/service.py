"""Use cases of the comments area: add, list and delete comments on an article."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service import models
from service.articles.repository import ArticleRepository
from service.articles.service import article_id_or_404
from service.comments import schemas
from service.comments.repository import CommentRepository
from service.db import utcnow
from service.errors import Forbidden, NotFound


class CommentService:
    def __init__(self, session: AsyncSession) -> None:
        self.comments = CommentRepository(session)
        self.articles = ArticleRepository(session)

    async def add(self, author: models.User, slug: str, new: schemas.NewComment) -> schemas.Comment:
        comment_id = await self.comments.insert_under(slug, author.id, new.body, utcnow())
        if comment_id is None:
            raise NotFound("article")
        return schemas.Comment.from_row(await self.comments.get_view(comment_id, author.id))

    async def list_comments(self, slug: str, viewer_id: int | None) -> list[schemas.Comment]:
        rows = await self.comments.list_for_article(await article_id_or_404(self.articles, slug), viewer_id)
        return [schemas.Comment.from_row(row) for row in rows]

    async def delete(self, author: models.User, slug: str, comment_id: int) -> None:
        if await self.comments.delete_owned(comment_id, slug, author.id):
            return
        # Nothing matched: read only now, to say why (no such article, no such comment, not yours).
        comment_author_id = await self.comments.get_author_id(comment_id, await article_id_or_404(self.articles, slug))
        if comment_author_id is None:
            raise NotFound("comment")
        raise Forbidden("comment", "can only be deleted by its author")
