# The two commands a newcomer needs are `make run` and `make test`; `make help` lists the rest.
# Every target bootstraps the virtual environment from the lock files first, so a fresh
# machine with only Python 3.11+ and make needs nothing else.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONPATH := $(CURDIR)

# Extra suites (QA, load smoke, stack, static checks) append themselves here from mk/*.mk.
TEST_SUITES :=

-include mk/*.mk

.PHONY: help venv run migrate seed test test-py lint format lock clean

help: ## List the commands
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/dev.lock requirements/bootstrap.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required; set PYTHON=python3.x")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bootstrap.lock
	@$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements/dev.lock
	@touch $@

venv: $(BIN)/.installed ## Create .venv from the lock files (every target does this first)

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

format: venv ## Apply ruff's fixes and formatting
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

lock: venv ## Re-resolve requirements/*.lock from pyproject.toml (after changing dependencies)
	@$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 -q -o requirements/prod.lock
	@$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -q -o requirements/dev.lock

clean: ## Remove the virtual environment, local databases and reports
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage reports
