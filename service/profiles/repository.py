"""SQL for the profiles area: users as others see them, and follows."""

from __future__ import annotations

from sqlalchemy import delete, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from service.db_dialect import insert_ignore
from service.models import User, follows
from service.profiles.schemas import Profile


def is_following(
    viewer_id: int | None, author_id: ColumnElement[int] | InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """SQL for "does the viewer follow this author", for use in any select."""
    if viewer_id is None:
        return literal(False)
    return exists().where(follows.c.follower_id == viewer_id, follows.c.followee_id == author_id)


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_id_by_username(self, username: str) -> int | None:
        return await self.session.scalar(select(User.id).where(User.username == username))

    async def get_profile(self, username: str, viewer_id: int | None) -> Profile | None:
        query = select(User.username, User.bio, User.image, is_following(viewer_id, User.id)).where(
            User.username == username
        )
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else Profile(row[0], row[1], row[2], bool(row[3]))

    async def follow(self, follower_id: int, followee_id: int) -> None:
        # ON CONFLICT DO NOTHING: following twice (or two racing requests) is not an error.
        await self.session.execute(
            insert_ignore(self.session, follows).values(follower_id=follower_id, followee_id=followee_id)
        )

    async def unfollow(self, follower_id: int, followee_id: int) -> None:
        await self.session.execute(
            delete(follows).where(follows.c.follower_id == follower_id, follows.c.followee_id == followee_id)
        )
