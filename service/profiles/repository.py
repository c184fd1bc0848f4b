"""SQL for the profiles area: users as others see them, and follows."""

from __future__ import annotations

from typing import Protocol, cast

from sqlalchemy import bindparam, delete, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from service.dialects import keep_existing
from service.models import User, follows


class AuthorRow(Protocol):
    """A user as others see them, as every query that shows an author returns it (profiles, the
    authors of articles and comments): three columns of `users` and the viewer's `following`."""

    username: str
    bio: str | None
    image: str | None
    following: bool


def is_following(author_id: ColumnElement[int] | InstrumentedAttribute[int], personal: bool) -> ColumnElement[bool]:
    """SQL for "does the viewer follow this author", for any select; the viewer is the bound
    parameter `viewer_id`. Anonymous (`personal` false): a constant false, no subquery."""
    if not personal:
        return literal(False)
    return exists().where(follows.c.follower_id == bindparam("viewer_id"), follows.c.followee_id == author_id)


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_profile(self, username: str, viewer_id: int | None) -> AuthorRow | None:
        query = select(
            User.username, User.bio, User.image, is_following(User.id, viewer_id is not None).label("following")
        )
        row = (await self.session.execute(query.where(User.username == username), {"viewer_id": viewer_id})).first()
        return cast(AuthorRow | None, row)

    async def follow(self, follower_id: int, username: str) -> None:
        """Follow `username`; nothing happens when there is no such user or the follow exists.

        One INSERT ... SELECT with ON CONFLICT DO NOTHING: following twice, or two racing requests,
        count once, and no "does the user exist" read comes first. Following yourself fails the
        table's CHECK constraint (errors.py answers 422).
        """
        followee = select(literal(follower_id), User.id).where(User.username == username)
        await self.session.execute(
            keep_existing(self.session, follows, follows.c.follower_id).from_select(
                ["follower_id", "followee_id"], followee
            )
        )

    async def unfollow(self, follower_id: int, username: str) -> None:
        followee_id = select(User.id).where(User.username == username).scalar_subquery()
        await self.session.execute(
            delete(follows).where(follows.c.follower_id == follower_id, follows.c.followee_id == followee_id)
        )
