"""Pass/fail gates for a load run: the error ratio and p95/p99 per endpoint group (gates.toml).

Pure functions on plain figures; loadtests/hooks.py feeds them Locust's statistics when a run ends.
The budgets (latency, request count) depend on the machine; `make test` checks behaviour only
(enforce_budgets=False: the run sent requests and few failed), `make load` enforces them too.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GATES = Path(__file__).with_name("gates.toml")


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    match: tuple[str, ...]
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class Gates:
    max_error_ratio: float
    min_requests: int
    groups: tuple[Group, ...]

    def group_of(self, endpoint: str) -> Group | None:
        return next((g for g in self.groups if any(fnmatch.fnmatchcase(endpoint, p) for p in g.match)), None)


@dataclass(frozen=True, slots=True)
class EndpointStats:
    endpoint: str  # "GET /api/articles/[slug]"
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_gates(path: Path = DEFAULT_GATES) -> Gates:
    raw = tomllib.loads(path.read_text())
    groups = tuple(
        Group(g["name"], tuple(g["match"]), float(g["p95_ms"]), float(g["p99_ms"])) for g in raw.get("group", [])
    )
    return Gates(float(raw["max_error_ratio"]), int(raw.get("min_requests", 1)), groups)


def evaluate(gates: Gates, stats: Sequence[EndpointStats], enforce_budgets: bool = True) -> Verdict:
    """Every threshold the run missed, each named with its group, endpoint, figure and limit.

    Without enforce_budgets only what a slow machine cannot change counts: the run sent at least
    one request, and no more than max_error_ratio of them failed.
    """
    verdict = Verdict()
    total = sum(s.requests for s in stats)
    failed = sum(s.failures for s in stats)
    min_requests = gates.min_requests if enforce_budgets else 1
    if total < min_requests:
        verdict.failures.append(f"min_requests: {total} requests < {min_requests}")
    ratio = failed / total if total else 0.0
    if ratio > gates.max_error_ratio:
        limit = gates.max_error_ratio
        verdict.failures.append(f"max_error_ratio: {ratio:.2%} of {total} requests failed > {limit:.2%}")
    for s in stats if enforce_budgets else ():
        group = gates.group_of(s.endpoint)
        if group is None or s.requests == 0:
            continue
        for label, value, limit in (("p95_ms", s.p95_ms, group.p95_ms), ("p99_ms", s.p99_ms, group.p99_ms)):
            if value > limit:
                verdict.failures.append(f"{group.name}.{label}: {s.endpoint} {value:.0f} ms > {limit:.0f} ms")
    return verdict


def summary_table(gates: Gates, stats: Sequence[EndpointStats]) -> str:
    header = f"{'endpoint':<48} {'group':<7} {'reqs':>7} {'fail':>5} {'rps':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    lines = [header, "-" * len(header)]
    for s in sorted(stats, key=lambda s: s.endpoint):
        group = gates.group_of(s.endpoint)
        lines.append(
            f"{s.endpoint:<48} {group.name if group else '-':<7} {s.requests:>7} {s.failures:>5} "
            f"{s.rps:>7.1f} {s.p50_ms:>6.0f} {s.p95_ms:>6.0f} {s.p99_ms:>6.0f}"
        )
    return "\n".join(lines)
