"""Use cases of the articles area: list, feed, write, edit, delete, favorite, tags."""

from __future__ import annotations

from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.articles.repository import ArticleFilter, ArticleRepository
from service.articles.schemas import Article as ArticleView
from service.articles.schemas import ArticleSummary, NewArticle, UpdateArticle
from service.articles.slugs import slugify, with_suffix
from service.db import utcnow
from service.errors import Forbidden, InvalidInput, NotFound
from service.models import Article, User


class ArticleService:
    def __init__(self, session: AsyncSession) -> None:
        self.articles = ArticleRepository(session)

    async def list_articles(
        self, where: ArticleFilter, viewer_id: int | None, limit: int, offset: int
    ) -> tuple[list[ArticleSummary], int]:
        return await self.articles.list_page(where, viewer_id, limit, offset)

    async def get(self, slug: str, viewer_id: int | None) -> ArticleView:
        view = await self.articles.get_view(slug, viewer_id)
        if view is None:
            raise NotFound("article")
        return view

    async def create(self, author: User, new: NewArticle) -> ArticleView:
        now = utcnow()
        article = Article(
            slug=await self._free_slug(new.title),
            title=new.title,
            description=new.description,
            body=new.body,
            author_id=author.id,
            created_at=now,
            updated_at=now,
        )
        await self.articles.add(article, list(dict.fromkeys(new.tag_list)))  # duplicates dropped, order kept
        return await self.get(article.slug, author.id)

    async def update(self, author: User, slug: str, changes: UpdateArticle) -> ArticleView:
        article = await self._owned(author, slug)
        if changes.title is UNSET and changes.description is UNSET and changes.body is UNSET:
            raise InvalidInput("article", "must change at least one field")
        if changes.title is not UNSET:
            if slugify(changes.title) != slugify(article.title):  # the slug follows the title
                article.slug = await self._free_slug(changes.title)
            article.title = changes.title
        if changes.description is not UNSET:
            article.description = changes.description
        if changes.body is not UNSET:
            article.body = changes.body
        article.updated_at = utcnow()
        await self.articles.save(article)
        return await self.get(article.slug, author.id)

    async def delete(self, author: User, slug: str) -> None:
        await self.articles.delete(await self._owned(author, slug))

    async def favorite(self, user: User, slug: str) -> ArticleView:
        await self.articles.favorite(user.id, await self._require_id(slug))
        return await self.get(slug, user.id)

    async def unfavorite(self, user: User, slug: str) -> ArticleView:
        await self.articles.unfavorite(user.id, await self._require_id(slug))
        return await self.get(slug, user.id)

    async def tags(self) -> list[str]:
        return await self.articles.list_tags()

    async def _owned(self, author: User, slug: str) -> Article:
        article = await self.articles.get_by_slug(slug)
        if article is None:
            raise NotFound("article")
        if article.author_id != author.id:
            raise Forbidden("article", "can only be changed by its author")
        return article

    async def _require_id(self, slug: str) -> int:
        article_id = await self.articles.get_id_by_slug(slug)
        if article_id is None:
            raise NotFound("article")
        return article_id

    async def _free_slug(self, title: str) -> str:
        slug = slugify(title)
        # A racing request can still take the same slug before we commit; the unique
        # constraint then fails and errors.py answers 422 "title must be unique".
        return with_suffix(slug) if await self.articles.is_slug_taken(slug) else slug
