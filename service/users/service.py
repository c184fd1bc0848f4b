"""Use cases of the users area: register, log in, update the current user."""

from __future__ import annotations

from argon2 import PasswordHasher
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import utcnow
from service.errors import InvalidInput, LoginFailed
from service.fields import PASSWORD_MIN_LENGTH
from service.models import User
from service.settings import Settings
from service.users.login_limiter import FailedLoginLimiter, limiter_key
from service.users.repository import UserRepository
from service.users.schemas import LoginUser, NewUser, UpdateUser
from service.users.security import encode_token, hash_password, verify_password


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
        password_hash = await hash_password(self.hasher, new_user.password)
        # No "is it taken?" query first: two sign-ups could both hear "free". The unique
        # constraints decide, and errors.py turns their violation into 422 "has already been taken".
        user = User(username=new_user.username, email=normalize_email(new_user.email), password_hash=password_hash)
        return await self.users.add(user)

    async def login(self, credentials: LoginUser, client: str) -> User:
        email = normalize_email(credentials.email)
        key = limiter_key(client, email)
        await self.login_limiter.count_attempt(key)  # 429 past the limit, before any password is checked
        user = await self.users.get_by_email(email)
        # Verify against a real hash even for an unknown e-mail, so timing does not reveal accounts.
        verdict = await verify_password(
            self.hasher, user.password_hash if user else await self._dummy_hash(), credentials.password
        )
        if user is None or not verdict.is_valid:
            raise LoginFailed()  # the counted attempt is committed with the 401 (keeps_writes)
        await self.login_limiter.reset(key)
        if verdict.needs_rehash:  # the Argon2 parameters changed since this hash was made
            user.password_hash = await hash_password(self.hasher, credentials.password)
            await self.users.save(user)
        return user

    async def update(self, user: User, changes: UpdateUser) -> User:
        fields = {name for name in changes.__struct_fields__ if getattr(changes, name) is not UNSET}
        if not fields:
            raise InvalidInput("user", "must change at least one field")
        if changes.email is not UNSET:
            user.email = normalize_email(changes.email)
        if changes.username is not UNSET:
            user.username = changes.username
        if changes.password:  # "" (what real clients send for "not changed") keeps the password
            if len(changes.password) < PASSWORD_MIN_LENGTH:
                raise InvalidInput("password", f"is too short (minimum is {PASSWORD_MIN_LENGTH} characters)")
            user.password_hash = await hash_password(self.hasher, changes.password)
        if changes.bio is not UNSET:
            user.bio = changes.bio or None  # an emptied form field means "no bio", like a new user's
        if changes.image is not UNSET:
            user.image = changes.image or None
        user.updated_at = utcnow()
        # A taken e-mail or username fails this flush at its unique constraint (422), whoever
        # took it a moment ago; the caller's own values never conflict with themselves (Q7).
        return await self.users.save(user)

    async def _dummy_hash(self) -> str:
        """A hash made with this hasher's parameters, computed once per process."""
        key = (self.hasher.time_cost, self.hasher.memory_cost, self.hasher.parallelism)
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = await hash_password(self.hasher, "not anybody's password")
        return _DUMMY_HASHES[key]


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}
