"""Use cases of the profiles area: view, follow, unfollow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service import models
from service.errors import NotFound
from service.profiles import schemas
from service.profiles.repository import ProfileRepository


class ProfileService:
    def __init__(self, session: AsyncSession) -> None:
        self.profiles = ProfileRepository(session)

    async def get(self, username: str, viewer_id: int | None) -> schemas.Profile:
        row = await self.profiles.get_profile(username, viewer_id)
        if row is None:
            raise NotFound("profile")
        return schemas.Profile.from_row(row)

    async def follow(self, follower: models.User, username: str) -> schemas.Profile:
        await self.profiles.follow(follower.id, username)
        return await self.get(username, follower.id)  # 404 when there was nobody to follow

    async def unfollow(self, follower: models.User, username: str) -> schemas.Profile:
        await self.profiles.unfollow(follower.id, username)
        return await self.get(username, follower.id)
