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

    async def get_profile(self, username: str, viewer_id: int | None) -> Profile | None:
        query = select(User.username, User.bio, User.image, is_following(viewer_id, User.id)).where(
            User.username == username
        )
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else Profile(row[0], row[1], row[2], bool(row[3]))

    async def follow(self, follower_id: int, username: str) -> None:
        """Follow `username`; nothing happens when there is no such user or the follow exists.

        One INSERT ... SELECT with ON CONFLICT DO NOTHING: following twice, or two racing requests,
        count once, and no "does the user exist" read comes first. Following yourself fails the
        table's CHECK constraint (errors.py answers 422).
        """
        followee = select(literal(follower_id), User.id).where(User.username == username)
        await self.session.execute(
            insert_ignore(self.session, follows).from_select(["follower_id", "followee_id"], followee)
        )

    async def unfollow(self, follower_id: int, username: str) -> None:
        followee_id = select(User.id).where(User.username == username).scalar_subquery()
        await self.session.execute(
            delete(follows).where(follows.c.follower_id == follower_id, follows.c.followee_id == followee_id)
        )
