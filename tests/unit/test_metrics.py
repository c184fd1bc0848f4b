"""The process and GC figures each worker copies for /metrics when several workers share it."""

from __future__ import annotations

import gc

from prometheus_client import PROCESS_COLLECTOR, CollectorRegistry

from service.ops.metrics import WorkerRuntime


def _own_cpu_seconds() -> float:
    return next(
        sample.value
        for family in PROCESS_COLLECTOR.collect()
        for sample in family.samples
        if sample.name == "process_cpu_seconds_total"
    )


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, f"{name} {labels} missing"
    return value


def test_each_copy_adds_only_what_the_counters_grew_by() -> None:
    registry = CollectorRegistry()
    runtime = WorkerRuntime(registry)
    cpu_before = _own_cpu_seconds()
    collected_before = gc.get_stats()[0]["collected"]
    runtime.copy()
    gc.collect(0)
    sum(i * i for i in range(200_000))  # some CPU time between the copies
    runtime.copy()
    # Equal to this process's own figures at the last copy: never the sum of the two readings.
    assert cpu_before <= _value(registry, "process_cpu_seconds_total") <= _own_cpu_seconds()
    collected = _value(registry, "python_gc_objects_collected_total", generation="0")
    assert collected_before <= collected <= gc.get_stats()[0]["collected"]
    assert _value(registry, "python_gc_collections_total", generation="0") >= 1


def test_gauges_take_the_last_reading() -> None:
    registry = CollectorRegistry()
    runtime = WorkerRuntime(registry)
    runtime.copy()
    runtime.copy()
    assert _value(registry, "process_resident_memory_bytes") > 0
    assert _value(registry, "process_max_fds") > _value(registry, "process_open_fds") > 0
    assert _value(registry, "process_start_time_seconds") > 0
