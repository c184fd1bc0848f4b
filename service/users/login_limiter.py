"""Failed-login limiter: slows password guessing, counted in the database so every worker and
replica shares one count (a per-process count would multiply the budget by the process count)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, case, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import UTCDateTime, upsert, utcnow
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

        One statement counts and decides, so N simultaneous attempts check at most `max_failures`
        passwords: reading the count and then writing it would let them all read the same count. A
        successful login then calls `reset`. The key's row stays locked until the request commits,
        so attempts for one key queue behind each other (other keys are not held up).
        """
        now = self._clock()
        await self._sweep(now)
        window_start = bindparam("window_start", now - self.window, type_=UTCDateTime)
        started = bindparam("now", now, type_=UTCDateTime)
        expired = LoginFailure.window_started_at <= window_start
        statement = (
            upsert(self.session, _FAILURES)
            .values(key_hash=key, failures=1, window_started_at=started)
            .on_conflict_do_update(
                index_elements=[_FAILURES.c.key_hash],
                set_={
                    "failures": case((expired, 1), else_=LoginFailure.failures + 1),
                    "window_started_at": case((expired, started), else_=LoginFailure.window_started_at),
                },
                # Past the limit the row is left as it is and no row comes back: the attempt is refused.
                where=or_(expired, LoginFailure.failures < self.max_failures),
            )
            .returning(_FAILURES.c.failures)
        )
        if (await self.session.execute(statement)).first() is None:
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
