"""Prometheus metrics: requests by route template, latency, requests in flight, the DB pool, build info.

Each app owns its registry (tests build many apps in one process). With one worker the request
series are plain numbers turned into Prometheus families at scrape time (cheap per request). With
several workers `serve` exports PROMETHEUS_MULTIPROC_DIR: prometheus-client then keeps each
worker's values in files there and /metrics sums them, so any worker answers for all.
"""

from __future__ import annotations

import os
import platform
import tempfile
from bisect import bisect_left
from collections.abc import AsyncGenerator, Iterator
from contextlib import asynccontextmanager
from itertools import accumulate
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

PREFIX = "conduit"  # of every series name
LABELS = ("method", "route", "status")
REQUESTS = (f"{PREFIX}_http_requests", "HTTP requests answered")
LATENCY = (f"{PREFIX}_http_request_duration_seconds", "Time from the request's arrival to the end of its response")
IN_FLIGHT = (f"{PREFIX}_http_requests_in_flight", "Requests being handled now")
# From a cached read (~1 ms) to the statement timeout (5 s) and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BUCKET_LABELS = [*(floatToGoString(bound) for bound in LATENCY_BUCKETS), "+Inf"]  # type: ignore[no-untyped-call]


class RequestSeries(Collector):
    """Request counts, latency buckets and in-flight requests as plain numbers, turned into
    Prometheus families only when scraped: a third of the per-request cost of prometheus-client's
    locked, per-child values, which matters on the trivial endpoint's 20% budget. One worker only:
    several workers use prometheus-client's file-backed values instead (see Metrics)."""

    def __init__(self) -> None:
        self.in_flight = 0
        # (method, route, status) -> [count, sum of seconds, per-bucket counts (last: above all bounds)]
        self.series: dict[tuple[str, str, int], list[Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        entry = self.series.get((method, route, status))
        if entry is None:
            entry = self.series[(method, route, status)] = [0, 0.0, [0] * (len(LATENCY_BUCKETS) + 1)]
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(REQUESTS[0], REQUESTS[1], labels=LABELS)
        latency = HistogramMetricFamily(LATENCY[0], LATENCY[1], labels=LABELS)
        for (method, route, status), (count, total, buckets) in list(self.series.items()):
            labels = [method, route, str(status)]
            requests.add_metric(labels, count)
            latency.add_metric(labels, list(zip(_BUCKET_LABELS, accumulate(buckets), strict=True)), total)
        yield requests
        yield latency
        yield GaugeMetricFamily(IN_FLIGHT[0], IN_FLIGHT[1], value=self.in_flight)


class _FileRequestSeries:
    """The same series through prometheus-client, whose values live in PROMETHEUS_MULTIPROC_DIR."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(*REQUESTS, LABELS, registry=registry)
        self.latency = Histogram(*LATENCY, LABELS, buckets=LATENCY_BUCKETS, registry=registry)
        self.in_flight_gauge = Gauge(*IN_FLIGHT, registry=registry, multiprocess_mode="livesum")

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class Metrics:
    """The service's series, registered in one registry."""

    def __init__(self, version: str, multiprocess_dir: str = "") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Files only if prometheus-client itself found the variable at import (see prepare_multiprocess_dir).
        self.multiprocess_dir = "" if values.ValueClass is values.MutexValue else multiprocess_dir
        self._engine: AsyncEngine | None = None
        r = self.registry
        self._local: RequestSeries | None = None
        self._files: _FileRequestSeries | None = None
        if self.multiprocess_dir:
            self._files = _FileRequestSeries(r)
        else:
            self._local = RequestSeries()
            r.register(self._local)
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

    def request_started(self) -> None:
        if self._local:
            self._local.in_flight += 1
        elif self._files:
            self._files.in_flight_gauge.inc()

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        if self._local:
            self._local.in_flight -= 1
            self._local.observe(method, route, status, seconds)
        elif self._files:
            self._files.in_flight_gauge.dec()
            self._files.observe(method, route, status, seconds)

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
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncGenerator[None, None]:
        """On a clean worker exit, drop its in-flight and pool gauges from the shared directory."""
        try:
            yield
        finally:
            if self.multiprocess_dir:
                mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def prepare_multiprocess_dir(configured: str, workers: int) -> None:
    """Before the server forks: give several workers one metrics directory, emptied of the last run.

    The variable is exported (not only read by settings.py) because prometheus-client reads it in
    each worker at import time to decide where values live.
    """
    if not configured and workers <= 1:
        return
    directory = Path(configured or tempfile.mkdtemp(prefix="conduit-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def create_metrics_route(metrics: Metrics) -> HTTPRouteHandler:
    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def exposition() -> Response[bytes]:
        """Prometheus exposition. Keep it private: NGINX refuses it from outside (docs/operations.md)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return exposition
