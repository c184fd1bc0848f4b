"""Use cases of the profiles area: view, follow, unfollow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import InvalidInput, NotFound
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
        followee_id = await self._require_user_id(username)
        if followee_id == follower.id:
            raise InvalidInput("username", "cannot follow yourself")
        await self.profiles.follow(follower.id, followee_id)
        return await self.get(username, follower.id)

    async def unfollow(self, follower: User, username: str) -> Profile:
        followee_id = await self._require_user_id(username)
        await self.profiles.unfollow(follower.id, followee_id)
        return await self.get(username, follower.id)

    async def _require_user_id(self, username: str) -> int:
        user_id = await self.profiles.get_id_by_username(username)
        if user_id is None:
            raise NotFound("profile")
        return user_id
