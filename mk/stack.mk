# The deployment stack (docker-compose*.yml, Dockerfile, nginx/, .github/workflows/, deploy/k8s/): static
# checks and the QA suite through the native stack in `make test`, and the same topology as
# local processes for a person to use.

STACK_PORT ?= 8380
# The database server of `make stack`: postgresql (TEST_POSTGRES_URL) or mariadb (TEST_MARIADB_URL)
STACK_DB ?= postgresql
STACK_REPLICAS ?= 2
# NGINX's sign-up/login budget per client address (compose: NGINX_AUTH_RATE); raise it for fuzzing or load
STACK_AUTH_RATE ?= 10r/s
# Where a stack keeps its pids, logs and rendered NGINX files; one stack per directory.
STACK_RUN_DIR ?= var/stack
# stack-qa's own directory, so a `make stack` left running in this checkout is not in its way.
STACK_QA_RUN_DIR := var/stack-qa

# Schemathesis (qa/test_contract.py) already ran against the same app in `make qa`; through the
# stack the other groups check what NGINX adds (its own errors, limits, headers). STACK_QA_ARGS=
# runs all of it.
STACK_QA_ARGS ?= --ignore=qa/test_contract.py

TEST_SUITES += stack-check stack-qa

.PHONY: stack stack-down stack-check stack-test stack-qa monitoring-check

stack: venv ## Run a fresh database (STACK_DB=postgresql, or mariadb) + migrations + STACK_REPLICAS app processes behind real NGINX on STACK_PORT (8380), and Prometheus after them; prints the URLs
	@$(BIN)/python -m deploy.stack --run-dir $(STACK_RUN_DIR) up --db $(STACK_DB) --port $(STACK_PORT) --replicas $(STACK_REPLICAS) --auth-rate $(STACK_AUTH_RATE)

stack-down: venv ## Stop what `make stack` started and drop its database (one named by STACK_DATABASE_URL is kept)
	@$(BIN)/python -m deploy.stack --run-dir $(STACK_RUN_DIR) down

stack-check: venv ## Static checks: docker-compose config (PostgreSQL and MariaDB variants), hadolint, nginx -t, actionlint, Kubernetes overlays (kubectl kustomize + strict schemas)
	@$(BIN)/python -m deploy.checks

monitoring-check: venv ## promtool check/test rules on deploy/prometheus/, its configurations, and the dashboard's PromQL (tests/prometheus, part of make test)
	@$(BIN)/pytest tests/prometheus -q

stack-test: venv ## The native stack test alone (also part of `make test` through pytest)
	@$(BIN)/pytest tests/stack -m stack -q

# The three commands docs/deployment.md gives a person, on free ports (another checkout may run
# its own stack), with the stack stopped and its database dropped whatever the QA run's outcome.
stack-qa: venv ## `make stack` on free ports (STACK_DB too), `make qa BASE_URL=<its URL>`, then `make stack-down` even on failure
	@port=$$($(BIN)/python -m deploy.stack free-port --replicas $(STACK_REPLICAS)) && \
	trap '$(MAKE) --no-print-directory stack-down STACK_RUN_DIR=$(STACK_QA_RUN_DIR)' EXIT && \
	$(MAKE) --no-print-directory stack STACK_PORT=$$port STACK_RUN_DIR=$(STACK_QA_RUN_DIR) && \
	$(MAKE) --no-print-directory qa BASE_URL=http://127.0.0.1:$$port QA_ARGS="$(STACK_QA_ARGS)"
