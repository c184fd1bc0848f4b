"""Benchmarks: `make bench` (the endpoints, python -m loadtests.bench) and `make bench-observability`."""
