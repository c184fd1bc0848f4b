"""The bench-compare table: one row per endpoint, one group of columns per target (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.bench.__main__ import Result

ENDPOINT_WIDTH = 32
CELL_HEADER = f"{'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'ratio':>6}"


@dataclass(frozen=True, slots=True)
class ComparedTarget:
    name: str
    api: str
    problems: list[str]  # why the target is left out (seeding or read-back); empty when it passed
    results: list[Result]  # one per endpoint, in the same order for every target; empty when left out

    @property
    def is_measured(self) -> bool:
        return not self.problems and bool(self.results)


def ratios(compared: Sequence[ComparedTarget]) -> dict[str, list[float | None]]:
    """req/s of each measured target over the first measured target's, endpoint by endpoint.

    The first target listed is the reference; when it was left out, the next measured one is.
    None where the reference served nothing (a ratio to zero would mean nothing).
    """
    measured = [c for c in compared if c.is_measured]
    if not measured:
        return {}
    reference = measured[0].results
    return {
        c.name: [mine.rps / base.rps if base.rps else None for mine, base in zip(c.results, reference, strict=True)]
        for c in measured
    }


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _left_out(compared: Sequence[ComparedTarget]) -> list[str]:
    return [
        f"left out: {c.name} ({c.api}): {len(c.problems)} problem(s), first: {c.problems[0]}"
        for c in compared
        if c.problems
    ]


def render_text(compared: Sequence[ComparedTarget]) -> str:
    measured = [c for c in compared if c.is_measured]
    if not measured:
        return "\n".join(["no target passed its check: nothing to compare", *_left_out(compared)])
    by_target = ratios(compared)
    width = len(CELL_HEADER)
    names = " | ".join(f"{c.name:<{width}.{width}}" for c in measured)
    lines = [f"{'':<{ENDPOINT_WIDTH}} | {names}".rstrip()]
    lines.append(f"{'endpoint':<{ENDPOINT_WIDTH}} | " + " | ".join(CELL_HEADER for _ in measured))
    lines.append("-" * len(lines[-1]))
    for row, result in enumerate(measured[0].results):
        cells = [
            f"{r.rps:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.errors:>6} {_ratio(by_target[c.name][row]):>6}"
            for c in measured
            for r in (c.results[row],)
        ]
        lines.append(f"{result.name:<{ENDPOINT_WIDTH}} | " + " | ".join(cells))
    lines.append(f"ratio: req/s over {measured[0].name}'s")
    return "\n".join([*lines, *_left_out(compared)])


def render_markdown(compared: Sequence[ComparedTarget]) -> str:
    measured = [c for c in compared if c.is_measured]
    by_target = ratios(compared)
    labels = ("req/s", "p50 ms", "p99 ms", "errors", "ratio")
    columns = ["endpoint"] + [f"{c.name} {label}" for c in measured for label in labels]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row, result in enumerate(measured[0].results if measured else []):
        cells = [
            f"{r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | {_ratio(by_target[c.name][row])}"
            for c in measured
            for r in (c.results[row],)
        ]
        lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    notes = [f"- {c.name}: {c.api}" for c in measured]
    if measured:
        notes.append(f"- ratio: req/s over {measured[0].name}'s")
    return "\n".join([*lines, "", *notes, *(f"- {line}" for line in _left_out(compared))])
