"""Use cases of the profiles area: view, follow, unfollow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.models import User
from service.profiles.repository import ProfileRepository
from service.profiles.schemas import Profile


class ProfileService:
    def __init__(self, session: AsyncSession) -> None:
        self.profiles = ProfileRepository(session)

    async def get(self, username: str, viewer_id: int | None) -> Profile:
        profile = await self.profiles.get_profile(username, viewer_id)
        if profile is None:
            raise NotFound("profile")
        return profile

    async def follow(self, follower: User, username: str) -> Profile:
        await self.profiles.follow(follower.id, username)
        return await self.get(username, follower.id)  # 404 when there was nobody to follow

    async def unfollow(self, follower: User, username: str) -> Profile:
        await self.profiles.unfollow(follower.id, username)
        return await self.get(username, follower.id)
