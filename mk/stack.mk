# The deployment stack (docker-compose.yml, Dockerfile, nginx/, .github/workflows/): static
# checks in `make test`, and the same topology as local processes for a person to use.

STACK_PORT ?= 8380
STACK_REPLICAS ?= 2
# NGINX's sign-up/login budget per client address (compose: NGINX_AUTH_RATE); raise it for fuzzing or load
STACK_AUTH_RATE ?= 10r/s

TEST_SUITES += stack-check

.PHONY: stack stack-down stack-check stack-test

stack: venv ## Run PostgreSQL db + migrations + STACK_REPLICAS app processes behind real NGINX on STACK_PORT (8380); prints the URL
	@$(BIN)/python -m deploy.stack up --port $(STACK_PORT) --replicas $(STACK_REPLICAS) --auth-rate $(STACK_AUTH_RATE)

stack-down: venv ## Stop what `make stack` started (the conduit_stack database is kept)
	@$(BIN)/python -m deploy.stack down

stack-check: venv ## Static checks: docker-compose config, hadolint, nginx -t, actionlint
	@$(BIN)/python -m deploy.checks

stack-test: venv ## The native stack test alone (also part of `make test` through pytest)
	@$(BIN)/pytest tests/stack -m stack -q
