"""Failed-login limiter: slows password guessing, counted in the database so every worker and
replica shares one count (a per-process count would multiply the budget by the process count)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import UTCDateTime, affected_rows, utcnow
from service.dialects import keep_existing
from service.errors import TooManyAttempts
from service.models import LoginFailure

_FAILURES: Table = LoginFailure.__table__  # type: ignore[assignment]


def limiter_key(client: str, email: str) -> str:
    return hashlib.sha256(f"{client}|{email}".encode()).hexdigest()


class FailedLoginLimiter:
    """Allows `max_failures` failed logins per key in a window of `window_seconds` from the first one."""

    def __init__(
        self, session: AsyncSession, max_failures: int, window_seconds: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session = session
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._clock = clock

    async def count_attempt(self, key: str) -> None:
        """Count this attempt as a failure before the password is checked; TooManyAttempts past the limit.

        The UPDATE counts and decides at once (it adds one only while the count is under the limit,
        and its row count says whether it did), so N simultaneous attempts check at most
        `max_failures` passwords: reading the count and then writing it would let them all read the
        same count. The database orders them on the key's row, which stays locked until the request
        commits (other keys are not held up). A successful login then calls `reset`.
        """
        now = self._clock()
        await self._sweep(now)
        # The key's row, created at zero by the first attempt; an existing one is kept as it is.
        new_row = {"key_hash": key, "failures": 0, "window_started_at": now}
        await self.session.execute(keep_existing(self.session, _FAILURES, _FAILURES.c.key_hash).values(new_row))
        expired = LoginFailure.window_started_at <= bindparam("window_start", now - self.window, type_=UTCDateTime)
        started = bindparam("now", now, type_=UTCDateTime)
        counted = await self.session.execute(
            update(LoginFailure)
            .where(LoginFailure.key_hash == key, or_(expired, LoginFailure.failures < self.max_failures))
            .values(
                failures=case((expired, 1), else_=LoginFailure.failures + 1),
                window_started_at=case((expired, started), else_=LoginFailure.window_started_at),
            )
        )
        if affected_rows(counted) == 0:  # past the limit: the row was left as it is
            raise TooManyAttempts(await self._seconds_until_reset(key, now))

    async def reset(self, key: str) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.key_hash == key))

    async def _sweep(self, now: datetime) -> None:
        # Rows of windows that ended keep the table as small as the traffic of one window. First
        # statement of the request, so every login takes its locks in the same order (no deadlock).
        await self.session.execute(delete(LoginFailure).where(LoginFailure.window_started_at <= now - self.window))

    async def _seconds_until_reset(self, key: str, now: datetime) -> int:
        started = await self.session.scalar(select(LoginFailure.window_started_at).where(LoginFailure.key_hash == key))
        remaining = (started + self.window - now).total_seconds() if started else 1
        return max(1, math.ceil(remaining))
