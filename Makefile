# The two commands a new user needs: `make demo` and `make test` (`make check` is the quick
# part of it, to run before pushing; `make fmt` formats and fixes what ruff can).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every install comes from the hashed locks in requirements/ (`make lock` regenerates them);
# the project itself is then installed alone, without its dependencies or build isolation.
PIP := $(BIN)/python -m pip install --quiet
VERSION = $(shell $(PYTHON) -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
IMAGE ?= appflow-inventory
# Where the image's source lives, for its label (say `make image SOURCE=https://...`).
SOURCE ?= unknown

.PHONY: demo test checks check fmt test-unit test-integration test-e2e lint lint-deploy typecheck \
	docs bench soak lock audit image clean

$(VENV)/.pip: requirements/pip.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements/pip.txt
	touch $@

$(BIN)/collector: $(VENV)/.pip requirements/runtime.txt requirements/build.txt pyproject.toml setup.py
	$(PIP) --require-hashes -r requirements/runtime.txt -r requirements/build.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

# The runtime lock's wheels, kept beside the virtualenv: the packaging test installs the
# wheel into a new virtualenv from them alone, so `make test` needs no network.
$(VENV)/wheelhouse/.done: $(VENV)/.pip requirements/runtime.txt
	rm -rf $(VENV)/wheelhouse
	$(BIN)/python -m pip download --quiet --require-hashes -r requirements/runtime.txt \
		-d $(VENV)/wheelhouse
	touch $@

$(VENV)/.test-deps: $(BIN)/collector requirements/test.txt $(VENV)/wheelhouse/.done
	$(PIP) --require-hashes -r requirements/test.txt
	touch $@

demo: $(BIN)/collector
	$(BIN)/collector demo

PYTHON_SOURCES := collector migrations tests scripts $(wildcard benchmarks) setup.py

lint: $(VENV)/.test-deps lint-deploy
	$(BIN)/ruff check $(PYTHON_SOURCES)
	$(BIN)/ruff format --check $(PYTHON_SOURCES)
	$(BIN)/lint-imports

# The deployment kit: the Dockerfile (hadolint), the IAM templates (cfn-lint) and the
# Kubernetes manifests as kustomize builds them (kubernetes-validate, offline schemas).
lint-deploy: $(VENV)/.test-deps
	$(BIN)/hadolint Dockerfile
	$(BIN)/cfn-lint deploy/cloudformation/*.yaml
	$(BIN)/python scripts/validate_kubernetes.py deploy/kubernetes

typecheck: $(VENV)/.test-deps
	$(BIN)/mypy

# The documentation site, into the git-ignored site/: --strict fails on a broken link, a
# missing anchor or a page left out of the navigation (the theme's notice about its future
# is silenced).
docs: $(VENV)/.test-deps
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# pytest's workers: the suite is bound by the CPU, and four workers keep both cores busy
# while some tests wait on servers, subprocesses and backoff (six used more CPU for the same
# wall time). Each test goes to whichever worker is free (`loadgroup`), so no worker is left
# with a long file at the end; but a file with a fixture made once per module (a built
# virtualenv, a stopped server, a stored history) is one group, kept on one worker, so that
# fixture is made once. The groups go out first, the largest first, then the tests marked
# `slow` (tests/conftest.py), then the rest.
# The suite starts a few hundred Python processes, and every worker imports every test
# module: bytecode caches (the git-ignored __pycache__ folders) spare each of them compiling
# the same sources again, so they are written even where the caller's environment says not to.
WORKERS ?= 4
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n $(WORKERS) --dist loadgroup

# Lint, types and the docs site, side by side (each check's output held until it ends).
checks: $(VENV)/.test-deps
	$(MAKE) --no-print-directory -j4 --output-sync=target lint typecheck docs

# Every test, on both databases, sealed from the caller's environment (which
# scripts/poisoned-environment poisons, to prove it) and measured for coverage.
test: checks
	scripts/with-postgres scripts/poisoned-environment $(PYTEST) --cov --cov-report=term:skip-covered

# The quick part: lint, types, and the unit and integration tests on SQLite alone.
check: $(VENV)/.test-deps
	$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck
	$(PYTEST) tests/unit tests/integration -m "not postgresql"

fmt: $(VENV)/.test-deps
	$(BIN)/ruff check --fix-only --quiet $(PYTHON_SOURCES)
	$(BIN)/ruff format $(PYTHON_SOURCES)

# One layer of tests at a time (`make test` runs all three). Unit tests need no database
# server, no simulator and no subprocess; integration tests drive the store against SQLite
# and PostgreSQL; end-to-end tests run the CLI against the simulator.
test-unit: $(VENV)/.test-deps
	$(PYTEST) tests/unit

test-integration: $(VENV)/.test-deps
	scripts/with-postgres $(PYTEST) tests/integration

test-e2e: $(VENV)/.test-deps
	scripts/with-postgres $(PYTEST) tests/e2e

# The long soak: 50 runs with random faults and mutations, on SQLite and PostgreSQL.
soak: $(VENV)/.test-deps
	COLLECTOR_SOAK_RUNS=50 scripts/with-postgres $(BIN)/python -m pytest -q tests/e2e/test_soak.py

bench: $(VENV)/.test-deps
	$(BIN)/python -m benchmarks

# Regenerate the hashed locks from pyproject.toml and requirements/*.in, keeping today's pins
# where they still fit; `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release.
COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS)
lock: $(VENV)/.test-deps
	$(COMPILE) requirements/pip.in -o requirements/pip.txt
	$(COMPILE) requirements/build.in -o requirements/build.txt
	$(COMPILE) pyproject.toml -o requirements/runtime.txt
	$(COMPILE) pyproject.toml --extra test -c requirements/pip.txt -c requirements/runtime.txt \
		-c requirements/build.txt -o requirements/test.txt

# Known vulnerabilities in the pinned dependencies (pip-audit, PyPI's advisory data). Fails
# (exit 3) when it could not audit every pin: run it where pypi.org is reachable. On a machine
# offline on purpose, `make audit AUDIT_ALLOW_OFFLINE=1` records a lock it could not audit at
# all as not audited and passes (a partial audit or a vulnerability still fails).
audit: $(VENV)/.test-deps
	$(BIN)/python scripts/audit.py $(if $(AUDIT_ALLOW_OFFLINE),--allow-offline) \
		requirements/runtime.txt requirements/test.txt

# Where a Docker engine runs: the image the Kubernetes manifests in deploy/ run.
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg SOURCE=$(SOURCE) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		-t $(IMAGE):$(VERSION) .

clean:
	rm -rf $(VENV) build dist site *.egg-info collector.db
