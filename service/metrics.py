"""Prometheus metrics: requests by route template, latency, requests in flight, the DB pool, build info.

Each app owns its registry (tests build many apps in one process). With several server workers,
set PROMETHEUS_MULTIPROC_DIR in the process environment: prometheus-client then keeps each
worker's values in files there and /metrics sums them, so any worker answers for all.
"""

from __future__ import annotations

import platform

from litestar import Response, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

LABELS = ("method", "route", "status")
# From a cached read (~1 ms) to the statement timeout (5 s) and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's series, registered in one registry."""

    def __init__(self, version: str, multiprocess_dir: str = "") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = multiprocess_dir
        self._engine: AsyncEngine | None = None
        r = self.registry
        self.requests = Counter("conduit_http_requests", "HTTP requests answered", LABELS, registry=r)
        self.latency = Histogram(
            "conduit_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response",
            LABELS,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "conduit_http_requests_in_flight", "Requests being handled now", registry=r, multiprocess_mode="livesum"
        )
        self.pool_in_use = Gauge(
            "conduit_db_pool_connections_in_use",
            "Database connections checked out of the pool",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_overflow = Gauge(
            "conduit_db_pool_overflow_connections",
            "Connections open beyond DB_POOL_SIZE (at most DB_MAX_OVERFLOW)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "conduit_db_pool_size", "Configured pool size (DB_POOL_SIZE)", registry=r, multiprocess_mode="livesum"
        )
        self.build_info = Gauge(
            "conduit_build_info",
            "Always 1; labels name the build",
            ("version", "python"),
            registry=r,
            multiprocess_mode="max",
        )
        self.build_info.labels(version=version, python=platform.python_version()).set(1)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Report the pool of `engine`, sampled at each checkout, at the end of each request and at
        each scrape. (A checkin event fires before the pool counts the connection as returned, and
        sampling only at scrape time would show one worker's pool in multiprocess mode.)"""
        if not isinstance(engine.sync_engine.pool, QueuePool):
            return  # SQLite in memory and NullPool have no size to report
        self._engine = engine
        self.pool_size.set(engine.sync_engine.pool.size())
        event.listen(engine.sync_engine, "checkout", lambda *_: self.sample_pool())

    def sample_pool(self) -> None:
        engine = self._engine
        if engine is None:
            return
        pool = engine.sync_engine.pool  # read each time: engine.dispose() swaps in a new pool
        if isinstance(pool, QueuePool):
            self.pool_in_use.set(pool.checkedout())
            self.pool_overflow.set(max(pool.overflow(), 0))

    def exposition(self) -> bytes:
        self.sample_pool()
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def create_metrics_route() -> HTTPRouteHandler:
    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics(state: State) -> Response[bytes]:
        """Prometheus exposition. Keep it private: NGINX refuses it from outside (docs/operations.md)."""
        return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics
