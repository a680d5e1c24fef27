# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench soak clean

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

# The long soak: 50 runs with random faults and mutations, on SQLite and PostgreSQL.
soak: $(VENV)/.test-deps
	COLLECTOR_SOAK_RUNS=50 scripts/with-postgres $(BIN)/python -m pytest -q tests/test_soak.py

bench: $(VENV)/.test-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info collector.db
