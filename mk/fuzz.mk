# Property-based fuzzing with raw requests (tests/fuzz/). `make test` already runs it through pytest
# with a small, derandomized budget; `make fuzz` runs the same fuzzer longer, with fresh randomness,
# and replays any failure it saved in .hypothesis/ first. Both databases unless FUZZ_ARGS="-k sqlite".

FUZZ_EXAMPLES ?= 500
FUZZ_ARGS ?=

.PHONY: fuzz

fuzz: venv ## Fuzz every operation, fresh randomness: FUZZ_EXAMPLES=5000 make fuzz (per operation and database)
	@FUZZ_PROFILE=deep FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz -p no:cacheprovider \
		--hypothesis-show-statistics $(FUZZ_ARGS)
