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

load: venv ## Gated Locust run (LOAD_SHAPE=smoke|ramp|spike|soak) on LOAD_HOST, or on a fresh local app; reports/load/
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape $(LOAD_SHAPE) $(LOAD_TARGET)

load-distributed: venv ## The same run with a Locust master and WORKERS=2 worker processes
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape $(LOAD_SHAPE) --workers $(WORKERS) $(LOAD_TARGET)

load-compare: venv ## Compare two runs: make load-compare BASE=reports/load/A CURRENT=reports/load/B [MARGIN=0.10]
	@$(BIN)/python -m loadtests.compare $(BASE) $(CURRENT) --margin $(or $(MARGIN),0.10)

test-load: venv ## Smoke run with its gate on a fresh local app, then the load tooling's own tests (distributed, compare)
	@$(LOAD_SMOKE_ENV) $(BIN)/python -m loadtests.run --shape smoke --local-app
	@$(BIN)/pytest loadtests/tests -q -p no:cacheprovider

bench: venv ## Benchmark (not part of make test): 1 pinned worker, wrk, a fresh seeded database; BENCH_DB=postgresql|mariadb|sqlite|all
	@$(BIN)/python -m loadtests.bench --db $(BENCH_DB) $(BENCH_ARGS)

bench-compare: venv ## Seed, check, wrk several back-ends side by side (not in make test): TARGETS="a=http://127.0.0.1:8001/api b=..."
	@$(if $(strip $(TARGETS)),,$(error TARGETS is empty: make bench-compare TARGETS="a=http://127.0.0.1:8001/api b=http://127.0.0.1:8002/api"))
	@$(BIN)/python -m loadtests.bench.compare $(TARGETS) $(BENCH_COMPARE_ARGS)
