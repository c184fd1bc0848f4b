"""Failed-login limiter: slows password guessing, counted in the database so every worker and
replica shares one count (a per-process count would multiply the budget by the process count)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import utcnow
from service.errors import TooManyAttempts
from service.models import LoginFailure


def limiter_key(client: str, email: str) -> str:
    return hashlib.sha256(f"{client}|{email}".encode()).hexdigest()


class FailedLoginLimiter:
    """Allows `max_failures` failed logins per key within a sliding window of `window_seconds`."""

    def __init__(
        self, session: AsyncSession, max_failures: int, window_seconds: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session = session
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._clock = clock

    async def check(self, key: str) -> None:
        """Raise TooManyAttempts while `key` has used up its failures in the window."""
        now = self._clock()
        count, oldest = (
            await self.session.execute(
                select(func.count(), func.min(LoginFailure.failed_at)).where(
                    LoginFailure.key_hash == key, LoginFailure.failed_at > now - self.window
                )
            )
        ).one()
        if count >= self.max_failures:
            retry_after = (oldest + self.window - now).total_seconds()
            raise TooManyAttempts(max(1, math.ceil(retry_after)))

    async def record_failure(self, key: str) -> None:
        now = self._clock()
        self.session.add(LoginFailure(key_hash=key, failed_at=now))
        # Expired rows of every key go here, so the table stays as small as the window.
        await self.session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        await self.session.flush()

    async def reset(self, key: str) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.key_hash == key))
