"""HTTP routes of the articles area: /articles, the feed, favorites, and /tags."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.articles.schemas import (
    ArticleListResponse,
    ArticleResponse,
    NewArticleRequest,
    TagsResponse,
    UpdateArticleRequest,
)
from service.articles.service import ArticleService
from service.idempotency import idempotent_post
from service.models import User
from service.openapi import OPTIONAL_AUTH, REQUIRED_AUTH, responses
from service.state import AppState


async def provide_article_service(db_session: NamedDependency[AsyncSession], state: AppState) -> ArticleService:
    return ArticleService(db_session, state.settings.max_page_size)


# The page size cap is a setting (MAX_PAGE_SIZE); 1000 is the hard ceiling the schema documents.
Limit = Annotated[int, Parameter(ge=1, le=1000, description="Page size (capped at MAX_PAGE_SIZE)")]
Offset = Annotated[int, Parameter(ge=0, le=2_000_000_000, description="Articles to skip")]
# No NUL: PostgreSQL refuses it in text, so the query would fail instead of matching nothing.
FilterValue = Annotated[str | None, Parameter(max_length=255, pattern=r"^[^\x00]*$")]


class ArticleController(Controller):
    path = "/articles"
    tags = ["articles"]
    dependencies = {"article_service": Provide(provide_article_service)}

    @get(summary="List articles", security=OPTIONAL_AUTH, responses=responses(401, 422))
    async def list_articles(
        self,
        article_service: NamedDependency[ArticleService],
        viewer_id: NamedDependency[int | None],
        tag: FilterValue = None,
        author: FilterValue = None,
        favorited: FilterValue = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> ArticleListResponse:
        page = await article_service.list_articles(
            tag=tag, author=author, favorited=favorited, viewer_id=viewer_id, limit=limit, offset=offset
        )
        return ArticleListResponse(*page)

    @get("/feed", summary="Feed", security=REQUIRED_AUTH, responses=responses(401, 422))
    async def feed(
        self,
        article_service: NamedDependency[ArticleService],
        current_user: NamedDependency[User],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> ArticleListResponse:
        return ArticleListResponse(*await article_service.feed(current_user, limit, offset))

    @idempotent_post(
        summary="Create an article",
        status_code=201,
        security=REQUIRED_AUTH,
        responses=responses(401, 413, 422),
    )
    async def create(
        self,
        data: JSONBody[NewArticleRequest],
        current_user: NamedDependency[User],
        article_service: NamedDependency[ArticleService],
    ) -> ArticleResponse:
        return ArticleResponse(await article_service.create(current_user, data.article))

    @get(
        "/{slug:str}",
        summary="Get an article",
        security=OPTIONAL_AUTH,
        responses=responses(401, 404),
    )
    async def get_article(
        self,
        slug: FromPath[str],
        viewer_id: NamedDependency[int | None],
        article_service: NamedDependency[ArticleService],
    ) -> ArticleResponse:
        return ArticleResponse(await article_service.get(slug, viewer_id))

    @put(
        "/{slug:str}",
        summary="Update an article",
        security=REQUIRED_AUTH,
        responses=responses(401, 403, 404, 413, 422),
    )
    async def update(
        self,
        slug: FromPath[str],
        data: JSONBody[UpdateArticleRequest],
        current_user: NamedDependency[User],
        article_service: NamedDependency[ArticleService],
    ) -> ArticleResponse:
        return ArticleResponse(await article_service.update(current_user, slug, data.article))

    @delete(
        "/{slug:str}",
        summary="Delete an article",
        status_code=204,
        security=REQUIRED_AUTH,
        responses=responses(401, 403, 404),
    )
    async def delete_article(
        self, slug: FromPath[str], current_user: NamedDependency[User], article_service: NamedDependency[ArticleService]
    ) -> None:
        await article_service.delete(current_user, slug)

    @idempotent_post(
        "/{slug:str}/favorite",
        summary="Favorite an article",
        status_code=200,
        security=REQUIRED_AUTH,
        responses=responses(401, 404, 422),  # 422: an Idempotency-Key reused with another request
    )
    async def favorite(
        self, slug: FromPath[str], current_user: NamedDependency[User], article_service: NamedDependency[ArticleService]
    ) -> ArticleResponse:
        return ArticleResponse(await article_service.favorite(current_user, slug))

    @delete(
        "/{slug:str}/favorite",
        summary="Unfavorite an article",
        status_code=200,
        security=REQUIRED_AUTH,
        responses=responses(401, 404),
    )
    async def unfavorite(
        self, slug: FromPath[str], current_user: NamedDependency[User], article_service: NamedDependency[ArticleService]
    ) -> ArticleResponse:
        return ArticleResponse(await article_service.unfavorite(current_user, slug))


class TagController(Controller):
    path = "/tags"
    tags = ["tags"]

    @get(
        summary="List tags in use, most used first",
        security=[],
        dependencies={"article_service": Provide(provide_article_service)},
    )
    async def list_tags(self, article_service: NamedDependency[ArticleService]) -> TagsResponse:
        return TagsResponse(await article_service.tags())
