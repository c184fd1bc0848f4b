# The two commands a newcomer needs are `make run` and `make test`; `make help` lists the rest.
# Every target bootstraps the virtual environment from uv.lock first, so a fresh machine with
# only Python 3.11+ and make needs nothing else.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# uv syncs this environment (not another one it would find or create) and never downloads a Python.
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONPATH := $(CURDIR)

# Extra suites (QA, load smoke, stack, static checks) append themselves here from mk/*.mk.
TEST_SUITES :=

-include mk/*.mk

.PHONY: help venv run migrate seed test test-py lint format lock clean

# The column is as wide as the longest target name, so no name runs into its description.
help: ## List the commands
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "} \
		{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  \033[36m%-*s\033[0m  %s\n", width, name[i], text[i] }'

# uv comes first, from requirements/bootstrap.lock (pip checks its hashes); it then makes .venv
# exactly what uv.lock says: every dependency group (the image leaves them out) and the project
# itself, editable. Compiled to bytecode, as in the image: a process that must compile what it
# imports (PYTHONDONTWRITEBYTECODE, a read-only tree) starts slower and holds ~6 MiB more.
$(BIN)/.uv-installed: requirements/bootstrap.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required; set PYTHON=python3.x")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.lock
	@touch $@

$(BIN)/.installed: $(BIN)/.uv-installed uv.lock pyproject.toml
	@$(UV) sync --locked --compile-bytecode --quiet
	@touch $@

venv: $(BIN)/.installed ## Create .venv from uv.lock (every target does this first)

run: venv ## Migrate the database named by DATABASE_URL (SQLite by default) and serve the API on HOST:PORT
	@$(BIN)/python -m service.cli migrate
	@$(BIN)/python -m service.cli serve --host $(HOST) --port $(PORT)

migrate: venv ## Apply all migrations (alembic upgrade head) to DATABASE_URL
	@$(BIN)/python -m service.cli migrate

seed: venv ## Load a small, friendly demo data set (a few users, articles, comments, follows)
	@$(BIN)/python -m service.cli migrate
	@$(BIN)/python -m service.cli seed

test: venv test-py $(TEST_SUITES) ## Run every test: unit + integration (SQLite, PostgreSQL, MariaDB) with coverage, then the extra suites

# Test files spread over TEST_WORKERS processes (pytest-xdist), a file's tests kept together: most
# of the time is spent waiting on servers (races, fuzzing, faults), so two processes on two cores
# take ~6 min where one took ~10. Each process makes its own databases. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2

test-py: venv ## Unit and integration tests (SQLite, PostgreSQL, MariaDB) with coverage of service/ (fails under 90%)
	@mkdir -p reports
	@$(BIN)/pytest tests -n $(TEST_WORKERS) --dist loadfile --cov=service --cov-report=term --cov-report=xml:reports/coverage.xml --junitxml=reports/tests.xml

lint: venv ## ruff (lint + format check) and mypy
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

# Formatting first: it fixes long lines that `ruff check --fix` cannot. Then the fixable rules,
# and formatting again for what the fixes moved; the exit status is non-zero only for what is
# left for a person (ruff check lists it).
format: venv ## Format with ruff and apply its fixable rules; fails only for what needs a person
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .; status=$$?; $(BIN)/ruff format --quiet . && exit $$status

# One command for every pin: uv.lock from pyproject.toml, the file pip bootstraps uv from, and .venv.
lock: $(BIN)/.uv-installed ## Re-resolve uv.lock after changing pyproject.toml (UPGRADE=1: newest allowed versions), export requirements/bootstrap.lock, sync .venv
	@$(UV) lock $(if $(UPGRADE),--upgrade)
	@$(UV) export --frozen --only-group bootstrap --no-emit-project --format requirements-txt --quiet -o requirements/bootstrap.lock
	@$(MAKE) --no-print-directory venv

clean: ## Remove the virtual environment, local databases and reports
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage reports
