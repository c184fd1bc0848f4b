"""HTTP routes of the comments area: /articles/{slug}/comments."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.comments.schemas import CommentListResponse, CommentResponse, NewCommentRequest
from service.comments.service import CommentService
from service.idempotency import idempotent_post
from service.models import ID_MAX, User
from service.openapi import OPTIONAL_AUTH, REQUIRED_AUTH, responses


async def provide_comment_service(db_session: NamedDependency[AsyncSession]) -> CommentService:
    return CommentService(db_session)


CommentId = Annotated[int, Parameter(ge=1, le=ID_MAX)]


class CommentController(Controller):
    path = "/articles/{slug:str}/comments"
    tags = ["comments"]
    dependencies = {"comment_service": Provide(provide_comment_service)}

    @idempotent_post(
        summary="Comment on an article",
        status_code=200,  # the spec says 200 here, not 201
        security=REQUIRED_AUTH,
        responses=responses(401, 404, 413, 422),
    )
    async def add(
        self,
        slug: FromPath[str],
        data: JSONBody[NewCommentRequest],
        current_user: NamedDependency[User],
        comment_service: NamedDependency[CommentService],
    ) -> CommentResponse:
        return CommentResponse(await comment_service.add(current_user, slug, data.comment))

    @get(
        summary="Comments of an article, oldest first",
        security=OPTIONAL_AUTH,
        responses=responses(401, 404),
    )
    async def list_comments(
        self,
        slug: FromPath[str],
        viewer_id: NamedDependency[int | None],
        comment_service: NamedDependency[CommentService],
    ) -> CommentListResponse:
        return CommentListResponse(await comment_service.list_comments(slug, viewer_id))

    @delete(
        "/{comment_id:int}",
        summary="Delete a comment",
        status_code=204,
        security=REQUIRED_AUTH,
        responses=responses(401, 403, 404, 422),
    )
    async def delete_comment(
        self,
        slug: FromPath[str],
        comment_id: CommentId,
        current_user: NamedDependency[User],
        comment_service: NamedDependency[CommentService],
    ) -> None:
        await comment_service.delete(current_user, slug, comment_id)
