"""The named load shapes: stages of (until second, users, spawn rate), each bounded in users and time.

LOAD_USERS_MAX scales ramp, spike and soak (default 100 users); LOAD_SOAK_MINUTES sets the soak's
length (default 10); LOAD_SMOKE_SECONDS the smoke's (default 15, at most 60), which stays small, for CI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Stage(NamedTuple):
    until: float  # seconds since the start
    users: int
    spawn_rate: float


class UnknownShape(ValueError):
    """LOAD_SHAPE names no shape."""


def _shapes(peak: int, soak_minutes: float, smoke_seconds: float) -> dict[str, list[Stage]]:
    step = max(peak // 5, 1)
    return {
        # A few users for a few seconds: does every scenario work, and is the gate met?
        "smoke": [Stage(smoke_seconds, 10, 5)],
        # Five steps of 30 s up to the peak, then a minute at the peak: where does latency bend?
        "ramp": [*(Stage(30 * (i + 1), step * (i + 1), step) for i in range(5)), Stage(210, peak, step)],
        # A calm base, a sudden burst to the peak, then calm again: does it recover?
        "spike": [Stage(30, step, step), Stage(60, peak, peak), Stage(120, step, peak)],
        # Half the peak for a long time: does memory or latency creep?
        "soak": [Stage(60 * soak_minutes, max(peak // 2, 1), step)],
    }


def stages(name: str, environ: Mapping[str, str] | None = None) -> list[Stage]:
    env = os.environ if environ is None else environ
    table = _shapes(
        int(env.get("LOAD_USERS_MAX", "100")),
        float(env.get("LOAD_SOAK_MINUTES", "10")),
        min(float(env.get("LOAD_SMOKE_SECONDS", "15")), 60),  # smoke stays short whatever is asked
    )
    if name not in table:
        raise UnknownShape(f"LOAD_SHAPE must be one of {', '.join(table)}, not {name!r}")
    return table[name]


def at(plan: Sequence[Stage], run_time: float) -> tuple[int, float] | None:
    """(users, spawn rate) at `run_time`, or None once the last stage is over (the run stops)."""
    for stage in plan:
        if run_time < stage.until:
            return stage.users, stage.spawn_rate
    return None


def duration(plan: Sequence[Stage]) -> float:
    return plan[-1].until
