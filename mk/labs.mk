# Mentoring labs (labs/README.md): `make lab N=1` checks one lab; `make labs-verify` proves every
# lab fails untouched and passes with its reference solution (part of `make test`).

.PHONY: lab lab-start labs labs-verify

labs: venv ## List the mentoring labs
	@$(BIN)/python labs/tool.py list

lab: venv ## Check mentoring lab N (make lab N=1): fails until the exercise is done
	@test -n "$(N)" || { echo "usage: make lab N=<number>  (make labs lists them)"; exit 2; }
	@$(BIN)/python labs/tool.py check $(N)

lab-start: venv ## Start break-it lab N (make lab-start N=3): applies its setup patch to your tree
	@test -n "$(N)" || { echo "usage: make lab-start N=<number>"; exit 2; }
	@$(BIN)/python labs/tool.py start $(N)

labs-verify: venv ## Prove, in scratch copies, that each lab's check fails untouched and passes with its solution
	@$(BIN)/python labs/tool.py verify

TEST_SUITES += labs-verify
