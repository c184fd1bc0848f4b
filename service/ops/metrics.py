"""Prometheus metrics: requests by route template, latency, requests in flight, the DB pool, build
info, and prometheus-client's standard process, Python platform and garbage-collector series.

Each app owns its registry (tests build many apps in one process). With several workers `serve`
exports PROMETHEUS_MULTIPROC_DIR before they start: prometheus-client then keeps each worker's
values in files there and /metrics sums them, so any worker answers for all. The process and GC
collectors read only the process they run in, which that mode does not support ("custom collectors
do not work", prometheus-client's multiprocess docs); there each worker copies its own figures into
file-backed series (WorkerRuntime), summed over the workers like the request series.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Literal

from litestar import Litestar, Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "conduit"  # of every series name
LABELS = ("method", "route", "status")
# From a cached read (~1 ms) to the statement timeout (5 s) and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Several workers: how often each copies its process and GC figures (a scrape also copies the
# scraping worker's first). A few reads of /proc/self, ~0.2 ms.
RUNTIME_COPY_SECONDS = 5.0
# How a process gauge adds up over the workers; the others are summed over the live ones (memory,
# open files). The start time is the first worker's, so that it matches the summed counters.
GaugeMode = Literal["livesum", "livemax", "min"]
RUNTIME_GAUGE_MODES: dict[str, GaugeMode] = {
    "process_max_fds": "livemax",
    "process_start_time_seconds": "min",
}


class WorkerRuntime:
    """Several workers: this worker's process and GC figures, read by prometheus-client's own
    collectors, copied into file-backed series. At scrape time counters (CPU seconds, GC counts) add
    up over every worker of this run, exited ones included, as counters must; gauges as
    RUNTIME_GAUGE_MODES says."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.counters: dict[str, Counter] = {}
        self.gauges: dict[str, Gauge] = {}
        self.copied: dict[tuple[str, tuple[str, ...]], float] = {}  # counter values already added

    def copy(self) -> None:
        for source in (PROCESS_COLLECTOR, GC_COLLECTOR):
            for family in source.collect():
                for sample in family.samples:
                    labels = tuple(sample.labels.values())
                    if family.type == "counter":
                        counter = self._counter(family.name, family.documentation, tuple(sample.labels))
                        key = (family.name, labels)
                        (counter.labels(*labels) if labels else counter).inc(sample.value - self.copied.get(key, 0.0))
                        self.copied[key] = sample.value
                    else:
                        gauge = self._gauge(family.name, family.documentation, tuple(sample.labels))
                        (gauge.labels(*labels) if labels else gauge).set(sample.value)

    def _counter(self, name: str, documentation: str, labels: tuple[str, ...]) -> Counter:
        if name not in self.counters:
            self.counters[name] = Counter(name, documentation, labels, registry=self.registry)
        return self.counters[name]

    def _gauge(self, name: str, documentation: str, labels: tuple[str, ...]) -> Gauge:
        if name not in self.gauges:
            mode: GaugeMode = RUNTIME_GAUGE_MODES.get(name, "livesum")
            self.gauges[name] = Gauge(name, documentation, labels, registry=self.registry, multiprocess_mode=mode)
        return self.gauges[name]


class Metrics:
    """The service's series, registered in one registry."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # The variable prometheus-client itself reads when imported to keep values in files, read
        # the same way (not from settings, where it may come from .env, which prometheus-client never sees).
        self.multiprocess_dir = os.environ.get(MULTIPROC_DIR_VARIABLE, "")
        self._engine: AsyncEngine | None = None
        # No `<name>_created` series beside each counter and histogram: several workers have none,
        # and they would double the series Prometheus stores for nothing it alerts on.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        r = self.registry
        self.requests = Counter(f"{PREFIX}_http_requests", "HTTP requests answered", LABELS, registry=r)
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response",
            LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            f"{PREFIX}_http_requests_in_flight", "Requests being handled now", registry=r, multiprocess_mode="livesum"
        )
        # (method, route, status) -> that series' counter and histogram. `labels()` validates and
        # takes a lock each time (~5 us, twice per request); the series it returns never change.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.pool_in_use = Gauge(
            f"{PREFIX}_db_pool_connections_in_use",
            "Database connections checked out of the pool",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_overflow = Gauge(
            f"{PREFIX}_db_pool_overflow_connections",
            "Connections open beyond DB_POOL_SIZE (at most DB_MAX_OVERFLOW)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            f"{PREFIX}_db_pool_size", "Configured pool size (DB_POOL_SIZE)", registry=r, multiprocess_mode="livesum"
        )
        self.build_info = Gauge(
            f"{PREFIX}_build_info",
            "Always 1; labels name the build",
            ("version", "python"),
            registry=r,
            multiprocess_mode="max",
        )
        self.build_info.labels(version=version, python=platform.python_version()).set(1)
        # prometheus-client's own collectors (they hold no state, so one instance serves every registry).
        self.runtime: WorkerRuntime | None = None
        if self.multiprocess_dir:
            self.runtime = WorkerRuntime(r)
        else:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                r.register(collector)

    def request_started(self) -> None:
        self.in_flight.inc()

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self.in_flight.dec()
        series = self._series.get((method, route, status))
        if series is None:
            labels = (method, route, str(status))
            series = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._series[(method, route, status)] = series
        requests, latency = series
        requests.inc()
        latency.observe(seconds)

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Report the pool: read at scrape time by `exposition` with one worker; with several, each
        worker's gauges follow its pool's checkout and checkin events (a scrape reads only the
        scraping worker's pool). One worker skips the events: two gauge updates per request, ~3%
        of a single article's CPU, for a value the scrape reads fresh anyway."""
        pool = engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return  # SQLite in memory and NullPool have no size to report
        self._engine = engine
        self.pool_size.set(pool.size())
        if not self.multiprocess_dir:
            return
        event.listen(engine.sync_engine, "checkout", lambda *_: self.sample_pool())
        # The checkin event fires before the pool counts the connection as returned.
        event.listen(engine.sync_engine, "checkin", lambda *_: self.sample_pool(returning=1))

    def sample_pool(self, returning: int = 0) -> None:
        pool = self._engine.sync_engine.pool if self._engine else None  # engine.dispose() swaps pools
        if isinstance(pool, QueuePool):
            self.pool_in_use.set(pool.checkedout() - returning)
            self.pool_overflow.set(max(pool.overflow(), 0))

    def exposition(self) -> bytes:
        self.sample_pool()
        if not self.runtime:
            return generate_latest(self.registry)
        self.runtime.copy()  # this worker's own figures, fresh
        # prometheus-client's documented way: a new registry with only the files' sums in it.
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        merged.register(PLATFORM_COLLECTOR)  # python_info: the same in every worker
        return generate_latest(merged)

    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncGenerator[None, None]:
        """Several workers: copy this worker's process and GC figures every few seconds; on a clean
        exit, drop its live gauges (in flight, pool, memory) from the shared directory."""
        copying = asyncio.create_task(self._copy_runtime_every(RUNTIME_COPY_SECONDS)) if self.runtime else None
        try:
            yield
        finally:
            if copying:
                copying.cancel()
                with suppress(asyncio.CancelledError):
                    await copying
            if self.multiprocess_dir:
                mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    async def _copy_runtime_every(self, seconds: float) -> None:
        while self.runtime:
            self.runtime.copy()
            await asyncio.sleep(seconds)


def prepare_multiprocess_dir(configured: str, workers: int) -> None:
    """Before the server forks: give several workers one metrics directory, emptied of the last run.

    The variable is exported (not only read by settings.py) because prometheus-client reads it in
    each worker at import time to decide where values live.
    """
    if workers <= 1 and not os.environ.get(MULTIPROC_DIR_VARIABLE):
        return  # one worker in this process, where prometheus-client, already imported, keeps values in memory
    directory = Path(configured or tempfile.mkdtemp(prefix="conduit-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)


def create_metrics_route(metrics: Metrics) -> HTTPRouteHandler:
    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def exposition() -> Response[bytes]:
        """Prometheus exposition. Keep it private: NGINX refuses it from outside (docs/operations.md)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return exposition
