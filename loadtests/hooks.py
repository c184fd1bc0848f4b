"""Locust hooks: when a run ends, the master (or the single local process) prints the summary table,
names every gate that failed and sets a non-zero exit code. With LOAD_SUMMARY_JSON set it also
writes the verdict and the workers that reported in (the distributed test reads it).
LOAD_BUDGETS=report (`python -m loadtests.run --behaviour-only`, what `make test` runs) prints the
latency figures but gates only on errors; the default, enforce, gates on the budgets too.

Kept apart from gates.py because importing Locust monkey-patches the process (gevent).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtests.gates import DEFAULT_GATES, EndpointStats, evaluate, load_gates, summary_table

GATE_FAILED_EXIT_CODE = 3


def stats_from_locust(environment: Environment) -> list[EndpointStats]:
    result = []
    for entry in environment.stats.entries.values():
        if not entry.num_requests:
            continue
        result.append(
            EndpointStats(
                endpoint=f"{entry.method} {entry.name}",
                requests=entry.num_requests,
                failures=entry.num_failures,
                p50_ms=entry.get_response_time_percentile(0.50) or 0.0,
                p95_ms=entry.get_response_time_percentile(0.95) or 0.0,
                p99_ms=entry.get_response_time_percentile(0.99) or 0.0,
                rps=entry.total_rps,
            )
        )
    return result


def install(environment: Environment) -> None:
    """Evaluate the gates when the run ends (master or local process only)."""
    if isinstance(environment.runner, WorkerRunner):
        return
    path = Path(os.environ.get("LOAD_GATES", str(DEFAULT_GATES)))
    gates = load_gates(path)
    enforce_budgets = os.environ.get("LOAD_BUDGETS", "enforce") != "report"
    reporting_workers: dict[str, int] = {}

    @events.worker_report.add_listener
    def _on_worker_report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        requests = sum(entry.get("num_requests", 0) for entry in data.get("stats", []))
        reporting_workers[client_id] = reporting_workers.get(client_id, 0) + requests

    @events.quitting.add_listener
    def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
        stats = stats_from_locust(environment)
        verdict = evaluate(gates, stats, enforce_budgets)
        print("\n" + summary_table(gates, stats))
        if not enforce_budgets:
            print("\nLatency and request-count budgets reported, not gated (LOAD_BUDGETS=report; make load gates them)")
        if not verdict.passed:
            print(f"\nGATES FAILED ({path}):\n  " + "\n  ".join(verdict.failures))
            environment.process_exit_code = GATE_FAILED_EXIT_CODE
        else:
            print(f"\nGATES PASSED ({path})")
            if environment.runner is not None and not environment.runner.exceptions:
                # The gate, not Locust's "any failure at all" rule, decides; a crash in a scenario still fails.
                environment.process_exit_code = 0
        summary_path = os.environ.get("LOAD_SUMMARY_JSON")
        if summary_path:
            summary = {
                "passed": verdict.passed,
                "budgets_enforced": enforce_budgets,
                "failures": verdict.failures,
                "endpoints": [asdict(s) for s in stats],
                "workers": reporting_workers,
            }
            Path(summary_path).write_text(json.dumps(summary, indent=2))
