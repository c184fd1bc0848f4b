# Load tests (loadtests/README.md): bulk seed, gated Locust runs, distributed mode, compare, benchmarks.

LOAD_SHAPE ?= smoke
# make bench: the engine (postgresql, mariadb, sqlite, or all three in turn) and extra flags (--duration 5...).
BENCH_DB ?= postgresql
BENCH_ARGS ?=
WORKERS ?= 2
# Short think times for the smoke run, so 15 seconds yield enough requests for the gate to mean something.
LOAD_SMOKE_ENV := LOAD_THINK_MIN=$${LOAD_THINK_MIN:-0.2} LOAD_THINK_MAX=$${LOAD_THINK_MAX:-1.0}
# Without LOAD_HOST the run starts its own app on a fresh seeded SQLite database.
LOAD_TARGET = $(if $(LOAD_HOST),--host $(LOAD_HOST),--local-app)

TEST_SUITES += test-load

.PHONY: seed-load load load-distributed load-compare test-load bench bench-compare

seed-load: venv ## Bulk-load 1,000 users, 10,000 articles, 30,000 comments... into DATABASE_URL (password: load-password; a second run writes nothing)
	@$(BIN)/python -m loadtests.seed

load: venv ## Gated Locust run (LOAD_SHAPE=smoke|ramp|spike|soak) on LOAD_HOST, or on a fresh local app (LOAD_PORT); reports/load/
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape $(LOAD_SHAPE) $(LOAD_TARGET)

load-distributed: venv ## The same run with a Locust master and WORKERS=2 worker processes
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape $(LOAD_SHAPE) --workers $(WORKERS) $(LOAD_TARGET)

# The noise margins (loadtests/compare.py): throughput may fall by MARGIN, p95/p99 grow by
# LATENCY_MARGIN (and MIN_DELTA_MS); endpoints under MIN_REQUESTS requests are named, not compared.
MARGIN ?= 0.25
LATENCY_MARGIN ?= 1.0
MIN_DELTA_MS ?= 20
MIN_REQUESTS ?= 100

load-compare: venv ## Compare two runs of one shape: make load-compare BASE=reports/load/A CURRENT=reports/load/B [MARGIN=0.25 LATENCY_MARGIN=1.0 MIN_REQUESTS=100]
	@$(if $(and $(BASE),$(CURRENT)),,$(error usage: make load-compare BASE=reports/load/<run> CURRENT=reports/load/<run>))
	@$(BIN)/python -m loadtests.compare $(BASE) $(CURRENT) --margin $(MARGIN) --latency-margin $(LATENCY_MARGIN) \
		--min-delta-ms $(MIN_DELTA_MS) --min-requests $(MIN_REQUESTS)

# Inside `make test` the smoke run checks behaviour (every scenario runs, errors stay under the
# gate, the reports are written) and prints its latencies without judging them: a busy machine
# must not turn the suite red. `make load` gates the same run on its latency budgets too.
test-load: venv ## Smoke run on a fresh local app, gated on errors only (latencies printed), then the load tooling's own tests
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape smoke --local-app --behaviour-only
	@$(BIN)/pytest loadtests/tests -q -p no:cacheprovider

bench: venv ## Benchmark (not part of make test): 1 pinned worker, wrk, a fresh seeded database; BENCH_DB=postgresql|mariadb|sqlite|all
	@$(BIN)/python -m loadtests.bench --db $(BENCH_DB) $(BENCH_ARGS)

bench-compare: venv ## Seed, check, wrk several back-ends side by side (not in make test): TARGETS="a=http://127.0.0.1:8001/api b=..."
	@$(if $(strip $(TARGETS)),,$(error TARGETS is empty: make bench-compare TARGETS="a=http://127.0.0.1:8001/api b=http://127.0.0.1:8002/api"))
	@$(BIN)/python -m loadtests.bench.compare $(TARGETS) $(BENCH_COMPARE_ARGS)
