# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-unit test-integration test-e2e lint typecheck bench soak clean

$(BIN)/collector: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/collector pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/collector
	$(BIN)/collector demo

lint: $(VENV)/.test-deps
	$(BIN)/ruff check collector migrations tests $(wildcard benchmarks)
	$(BIN)/ruff format --check collector migrations tests $(wildcard benchmarks)
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-deps
	$(BIN)/mypy

test: lint typecheck
	scripts/with-postgres $(BIN)/python -m pytest -q

# One layer of tests at a time (`make test` runs all three). Unit tests need no database
# server, no simulator and no subprocess; integration tests drive the store against SQLite
# and PostgreSQL; end-to-end tests run the CLI against the simulator.
test-unit: $(VENV)/.test-deps
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(VENV)/.test-deps
	scripts/with-postgres $(BIN)/python -m pytest -q tests/integration

test-e2e: $(VENV)/.test-deps
	scripts/with-postgres $(BIN)/python -m pytest -q tests/e2e

# The long soak: 50 runs with random faults and mutations, on SQLite and PostgreSQL.
soak: $(VENV)/.test-deps
	COLLECTOR_SOAK_RUNS=50 scripts/with-postgres $(BIN)/python -m pytest -q tests/e2e/test_soak.py

bench: $(VENV)/.test-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info collector.db
