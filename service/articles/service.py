"""Use cases of the articles area: list, feed, write, edit, delete, favorite, tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msgspec import UNSET, UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from service import models
from service.articles import schemas
from service.articles.repository import ArticleFilter, ArticleRepository, NewArticleRow, SlugTaken
from service.articles.slugs import is_slug_of, slug_candidates
from service.db import utcnow
from service.errors import DomainError, Forbidden, InvalidInput, NotFound

ArticlePage = tuple[list[schemas.ArticleSummary], int]


class ArticleService:
    def __init__(self, session: AsyncSession, max_page_size: int) -> None:
        self.articles = ArticleRepository(session)
        self.max_page_size = max_page_size

    async def list_articles(
        self,
        *,
        tag: str | None,
        author: str | None,
        favorited: str | None,
        viewer_id: int | None,
        limit: int,
        offset: int,
    ) -> ArticlePage:
        where = ArticleFilter(tag=tag, author=author, favorited_by=favorited)
        return await self._page(where, viewer_id, limit, offset)

    async def feed(self, reader: models.User, limit: int, offset: int) -> ArticlePage:
        return await self._page(ArticleFilter(feed_of=reader.id), reader.id, limit, offset)

    async def get(self, slug: str, viewer_id: int | None) -> schemas.Article:
        row = await self.articles.get_view(slug, viewer_id)
        if row is None:
            raise NotFound("article")
        return schemas.Article.from_row(row)

    async def create(self, author: models.User, new: schemas.NewArticle) -> schemas.Article:
        now = utcnow()
        # Titles are not unique, slugs are (spec quirk Q8): the first free candidate wins, and "free"
        # is decided by the insert itself, so racing requests with one title get different slugs.
        for slug in slug_candidates(new.title):
            row = NewArticleRow(slug, new.title, new.description, new.body, author.id, created_at=now, updated_at=now)
            article_id = await self.articles.insert(row)
            if article_id is not None:
                await self.articles.add_tags(article_id, list(dict.fromkeys(new.tag_list)))  # duplicates dropped
                return await self.get(slug, author.id)
        raise _no_free_slug()

    async def update(self, author: models.User, slug: str, changes: schemas.UpdateArticle) -> schemas.Article:
        values: dict[str, Any] = {
            name: getattr(changes, name) for name in changes.__struct_fields__ if getattr(changes, name) is not UNSET
        }
        if not values:
            raise InvalidInput("article", "must change at least one field")
        values["updated_at"] = utcnow()
        for new_slug in _slugs_after_edit(slug, changes.title):
            try:
                changed = await self.articles.update_owned(
                    slug, author.id, values if new_slug == slug else {**values, "slug": new_slug}
                )
            except SlugTaken:
                continue
            if not changed:
                raise await self._why_not_changed(slug, author.id)
            return await self.get(new_slug, author.id)
        raise _no_free_slug()

    async def delete(self, author: models.User, slug: str) -> None:
        if not await self.articles.delete_owned(slug, author.id):
            raise await self._why_not_changed(slug, author.id)

    async def favorite(self, user: models.User, slug: str) -> schemas.Article:
        await self.articles.favorite(user.id, slug)
        return await self.get(slug, user.id)  # 404 when there was no article to favorite

    async def unfavorite(self, user: models.User, slug: str) -> schemas.Article:
        await self.articles.unfavorite(user.id, slug)
        return await self.get(slug, user.id)

    async def tags(self) -> list[str]:
        return await self.articles.list_tags()

    async def _page(self, where: ArticleFilter, viewer_id: int | None, limit: int, offset: int) -> ArticlePage:
        # A larger page is capped, not refused: MAX_PAGE_SIZE bounds the work one request can ask for.
        rows, total = await self.articles.list_page(where, viewer_id, min(limit, self.max_page_size), offset)
        return [schemas.ArticleSummary.from_row(row) for row in rows], total

    async def _why_not_changed(self, slug: str, author_id: int) -> DomainError:
        """A write on the author's article matched no row: there is no such article, or it is not theirs.

        Read only after the write, to pick the error: the write itself never depended on a read.
        """
        owner_id = await self.articles.get_author_id(slug)
        if owner_id is None:
            return NotFound("article")
        return Forbidden("article", "can only be changed by its author")


def _slugs_after_edit(slug: str, title: str | UnsetType) -> Iterator[str]:
    """The slug follows the title; an edit that keeps the title's slug keeps the article's slug."""
    if isinstance(title, UnsetType) or is_slug_of(slug, title):
        yield slug
    else:
        yield from slug_candidates(title)


async def article_id_or_404(articles: ArticleRepository, slug: str) -> int:
    """The id of the article `slug`, for the areas that hang things under an article (comments)."""
    article_id = await articles.get_id_by_slug(slug)
    if article_id is None:
        raise NotFound("article")
    return article_id


def _no_free_slug() -> InvalidInput:
    # Reached only when every random suffix was taken too: a one-in-billions event, still a clear 422.
    return InvalidInput("title", "must be unique")
