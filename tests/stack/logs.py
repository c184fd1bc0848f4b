"""Reading the native stack's JSON logs (NGINX access log, app logs) by request id."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from deploy.stack import Stack


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a log file (lines that are not JSON are skipped)."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def access_entries(stack: Stack, request_ids: set[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5  # nginx writes the line when the response is done
    while True:
        found = [e for e in log_lines(stack.access_log) if e.get("request_id") in request_ids]
        if len(found) >= len(request_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def app_lines_with(stack: Stack, port: int, request_ids: set[str]) -> list[dict[str, Any]]:
    """One replica's log lines carrying these ids (waits briefly: a line may follow the answer)."""
    deadline = time.monotonic() + 5
    while True:
        found = [e for e in log_lines(stack.app_log(port)) if e.get("request_id") in request_ids]
        if {e["request_id"] for e in found} == request_ids or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
