"""HTTP routes of the profiles area: /profiles/{username} and its follow sub-resource."""

from __future__ import annotations

from litestar import Controller, delete, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.idempotency import idempotent_post
from service.models import User
from service.openapi import OPTIONAL_AUTH, REQUIRED_AUTH, responses
from service.profiles.schemas import ProfileResponse
from service.profiles.service import ProfileService


async def provide_profile_service(db_session: NamedDependency[AsyncSession]) -> ProfileService:
    return ProfileService(db_session)


class ProfileController(Controller):
    path = "/profiles/{username:str}"
    tags = ["profiles"]
    dependencies = {"profile_service": Provide(provide_profile_service)}

    @get(
        summary="Get a profile",
        security=OPTIONAL_AUTH,
        responses=responses(401, 404),
    )
    async def get_profile(
        self,
        username: FromPath[str],
        viewer_id: NamedDependency[int | None],
        profile_service: NamedDependency[ProfileService],
    ) -> ProfileResponse:
        return ProfileResponse(await profile_service.get(username, viewer_id))

    @idempotent_post(
        "/follow",
        status_code=200,
        summary="Follow a user",
        security=REQUIRED_AUTH,
        responses=responses(401, 404, 422),
    )
    async def follow(
        self,
        username: FromPath[str],
        current_user: NamedDependency[User],
        profile_service: NamedDependency[ProfileService],
    ) -> ProfileResponse:
        return ProfileResponse(await profile_service.follow(current_user, username))

    @delete(
        "/follow",
        status_code=200,
        summary="Unfollow a user",
        security=REQUIRED_AUTH,
        responses=responses(401, 404),
    )
    async def unfollow(
        self,
        username: FromPath[str],
        current_user: NamedDependency[User],
        profile_service: NamedDependency[ProfileService],
    ) -> ProfileResponse:
        return ProfileResponse(await profile_service.unfollow(current_user, username))
