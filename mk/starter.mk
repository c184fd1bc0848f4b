# The project generator (copier.yml, starter/): a new service from this repository's committed
# state, with the Copier version pinned in uv.lock. It asks the questions NAME and DATA
# do not answer (or takes their defaults when not run from a terminal). Not part of a generated service.

NAME ?= My Service

.PHONY: new-service

new-service: venv ## A new service from this repository: make new-service DEST=../bookmarks NAME="Bookmarks API" [DATA="database=postgresql"]
	@test -n "$(DEST)" || { echo 'make new-service needs DEST=<new directory>, e.g. DEST=../bookmarks NAME="Bookmarks API"' >&2; exit 2; }
	@$(BIN)/copier copy --trust --vcs-ref HEAD $$(test -t 0 || echo --defaults) --data project_name="$(NAME)" $(foreach item,$(DATA),--data $(item)) "$(CURDIR)" "$(DEST)"

# The variants' patches (starter/README.md, "When the repository changes: regenerate the patches").
STARTER_WORKTREE ?= var/starter-patches

.PHONY: starter-worktree starter-patches

starter-worktree: venv ## A worktree (var/starter-patches) with each generator variant applied by git apply -3, to resolve or edit
	@$(BIN)/python -m starter.patches prepare $(STARTER_WORKTREE)

starter-patches: venv ## Write starter/*.patch and starter/<variant>/ back from that worktree
	@$(BIN)/python -m starter.patches export $(STARTER_WORKTREE)
