# The black-box QA suite (qa/) and the security audit. `make qa` starts its own app on a free port
# with a fresh SQLite database; `make qa BASE_URL=http://host:port` targets any running deployment.

BASE_URL ?=
QA_ARGS ?=
QA_PYTEST = -c qa/pytest.ini qa --junitxml=reports/qa/junit.xml $(QA_ARGS)

TEST_SUITES += qa

.PHONY: qa qa-catalogue audit

qa: venv ## Black-box QA suite: journeys, error paths, OWASP pack, Schemathesis, browser (its own app on QA_PORT, or BASE_URL=...)
	@mkdir -p reports/qa
ifeq ($(strip $(BASE_URL)),)
	@$(BIN)/python -m qa.run_local $(QA_PYTEST)
else
	@BASE_URL=$(BASE_URL) $(BIN)/pytest $(QA_PYTEST)
endif

qa-catalogue: venv ## Rewrite the bad-input table in qa/README.md from qa/catalogue.py
	@$(BIN)/python -m qa.render_catalogue

audit: venv ## Security lint of service/ (ruff S rules) and dependency scan (pip-audit; needs its vulnerability service)
	@echo "== ruff security rules (S) over service/"
	@$(BIN)/ruff check --select S --no-cache service
	@echo "== pip-audit over the image's packages (uv.lock without the dev groups)"
	@$(BIN)/python -m qa.audit
