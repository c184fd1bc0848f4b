"""Use cases of the users area: register, log in, update the current user."""

from __future__ import annotations

from argon2 import PasswordHasher
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import utcnow
from service.errors import InvalidInput, LoginFailed
from service.models import User
from service.ratelimit import FailedLoginLimiter, limiter_key
from service.security import encode_token, hash_password, verify_password
from service.settings import Settings
from service.users.repository import UserRepository
from service.users.schemas import LoginUser, NewUser, UpdateUser


def normalize_email(email: str) -> str:
    return email.strip().lower()


class UserService:
    def __init__(self, session: AsyncSession, settings: Settings, hasher: PasswordHasher) -> None:
        self.users = UserRepository(session)
        self.settings = settings
        self.hasher = hasher
        self.login_limiter = FailedLoginLimiter(
            session, settings.login_max_failures, settings.login_failure_window_seconds
        )

    def token_for(self, user: User) -> str:
        return encode_token(user.id, self.settings)

    async def register(self, new_user: NewUser) -> User:
        email = normalize_email(new_user.email)
        await self._ensure_available(email=email, username=new_user.username)
        password_hash = await hash_password(self.hasher, new_user.password)
        # A concurrent sign-up can still win between the check and the insert: the unique
        # constraint then fails the flush and errors.py answers 422, never 500.
        return await self.users.add(User(username=new_user.username, email=email, password_hash=password_hash))

    async def login(self, credentials: LoginUser, client: str) -> User:
        email = normalize_email(credentials.email)
        key = limiter_key(client, email)
        await self.login_limiter.check(key)
        user = await self.users.get_by_email(email)
        # Verify against a real hash even for an unknown e-mail, so timing does not reveal accounts.
        verdict = await verify_password(
            self.hasher, user.password_hash if user else await self._dummy_hash(), credentials.password
        )
        if user is None or not verdict.is_valid:
            await self.login_limiter.record_failure(key)
            raise LoginFailed()
        await self.login_limiter.reset(key)
        if verdict.needs_rehash:  # the Argon2 parameters were raised since this hash was made
            user.password_hash = await hash_password(self.hasher, credentials.password)
            await self.users.save(user)
        return user

    async def update(self, user: User, changes: UpdateUser) -> User:
        fields = {name for name in changes.__struct_fields__ if getattr(changes, name) is not UNSET}
        if not fields:
            raise InvalidInput("user", "must change at least one field")
        email = normalize_email(changes.email) if changes.email is not UNSET else UNSET
        username = changes.username
        await self._ensure_available(
            email=None if email is UNSET else email,
            username=None if username is UNSET else username,
            except_user_id=user.id,
        )
        if email is not UNSET:
            user.email = email
        if username is not UNSET:
            user.username = username
        if changes.password is not UNSET:
            user.password_hash = await hash_password(self.hasher, changes.password)
        if changes.bio is not UNSET:
            user.bio = changes.bio
        if changes.image is not UNSET:
            user.image = changes.image
        user.updated_at = utcnow()
        return await self.users.save(user)

    async def _ensure_available(
        self, email: str | None, username: str | None, except_user_id: int | None = None
    ) -> None:
        if email is not None and await self.users.is_email_taken(email, except_user_id):
            raise InvalidInput("email", "has already been taken")
        if username is not None and await self.users.is_username_taken(username, except_user_id):
            raise InvalidInput("username", "has already been taken")

    async def _dummy_hash(self) -> str:
        """A hash made with this hasher's parameters, computed once per process."""
        key = (self.hasher.time_cost, self.hasher.memory_cost, self.hasher.parallelism)
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = await hash_password(self.hasher, "not anybody's password")
        return _DUMMY_HASHES[key]


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}
