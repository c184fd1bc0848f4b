# Operations (docs/operations.md): fault tests on a throwaway PostgreSQL cluster, observability tests,
# and the overhead benchmark. The tests also run inside `make test` (pytest collects tests/faults and
# tests/integration/test_observability.py), so nothing is appended to TEST_SUITES here.

BENCH_OBS_ARGS ?=

.PHONY: test-faults test-observability bench-observability

test-faults: venv ## Fault tests: DB down/back, restart under write load, slow DB, SIGTERM drain (own PostgreSQL cluster and MariaDB server), hostile clients; prints the measured figures
	@$(BIN)/pytest tests/faults -q -p no:cacheprovider

test-observability: venv ## Request ids, JSON request log, /metrics, plus the fault tests
	@$(BIN)/pytest tests/integration/test_observability.py tests/faults -q -p no:cacheprovider

bench-observability: venv ## CPU cost of request ids + request log + metrics on the article list and /health/live, on vs off (gate: 5% of the article list; BENCH_OBS_ARGS="--split --rounds 6")
	@$(BIN)/python -m loadtests.bench.observability $(BENCH_OBS_ARGS)
