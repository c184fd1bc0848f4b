"""In-process limiter for failed logins: slows password guessing without any extra server."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from service.errors import TooManyAttempts


class FailedLoginLimiter:
    """Counts failed logins per (client address, e-mail) in a sliding window.

    Each worker process keeps its own counts, so with N workers an attacker gets up to N times the
    budget; NGINX's `limit_req` on the login route bounds the total (see nginx/).
    """

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str) -> None:
        """Raise TooManyAttempts while `key` has used up its failures in the window."""
        recent = self._recent(key)
        if len(recent) >= self.max_failures:
            retry_after = recent[0] + self.window_seconds - self._clock()
            raise TooManyAttempts(max(1, math.ceil(retry_after)))

    def record_failure(self, key: str) -> None:
        self._recent(key).append(self._clock())
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:  # bounded memory under a flood of distinct keys
            self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        attempts = self._failures.setdefault(key, deque())
        cutoff = self._clock() - self.window_seconds
        while attempts and attempts[0] <= cutoff:
            attempts.popleft()
        return attempts
