"""SQL for the users area."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def is_email_taken(self, email: str, except_user_id: int | None = None) -> bool:
        query = exists().where(User.email == email)
        if except_user_id is not None:
            query = query.where(User.id != except_user_id)
        return bool(await self.session.scalar(select(query)))

    async def is_username_taken(self, username: str, except_user_id: int | None = None) -> bool:
        query = exists().where(User.username == username)
        if except_user_id is not None:
            query = query.where(User.id != except_user_id)
        return bool(await self.session.scalar(select(query)))

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()  # assigns the id and surfaces a unique violation now
        return user

    async def save(self, user: User) -> User:
        await self.session.flush()
        return user
