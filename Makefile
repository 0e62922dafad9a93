# Two entry points that work on a fresh clone: `make demo` and `make test`.
# Each creates or updates .venv and installs what it needs: the demo mwx alone, the tests
# (and `make venv`, for working on mwx) mwx with its test tools, the `test` extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
OUT ?= demo-run

.PHONY: demo console test lint venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

venv: $(TEST_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/mwx demo --out $(OUT)

# The demo paced at 20x real time with a console per partner in the browser (URLs printed; Ctrl-C ends it).
console: $(RUN_STAMP)
	$(BIN)/mwx demo --out demo-live --force --http 8000 --speed 20

# Three workers on two cores: a third of the suite waits (NATS servers, paced runs, browsers), so a third
# worker fills the idle cores (measured: 838 s against 954 s with two); whole files per worker, so that a
# module's fixture is made once (tests/conftest.py puts the longest files first).
test: $(TEST_STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 3 --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(OUT) demo-live .pytest_cache .ruff_cache .hypothesis
