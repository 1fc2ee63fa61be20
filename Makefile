# The two commands: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON_312 := $(shell scripts/find-python.sh 2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite:///./var/bank.db

.PHONY: help run test venv lint typecheck codegen sdk unit integration fuzz browser faults bench \
        migrate clean docker-check audit

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.lock requirements.lock pyproject.toml clients/python/pyproject.toml
	@test -n "$(PYTHON_312)" || { scripts/find-python.sh; exit 1; }
	test -x $(BIN)/python || $(PYTHON_312) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . -e ./clients/python
	touch $@

venv: $(BIN)/.installed ## Create the virtualenv from the lock files

run: venv ## Migrate DATABASE_URL (default SQLite under ./var) and serve on http://$(HOST):$(PORT)
	mkdir -p var
	$(BIN)/bank migrate
	HOST=$(HOST) PORT=$(PORT) LOG_FORMAT=$${LOG_FORMAT:-console} $(BIN)/bank serve

migrate: venv ## Apply migrations to DATABASE_URL
	$(BIN)/bank migrate

test: venv ## Lint, types, drift, unit, integration (SQLite + PostgreSQL), fuzzing, browser, coverage
	$(BIN)/nox --no-venv -s lint typecheck codegen migrations tests fuzz browser faults sdk_check docker_check

lint: venv ## ruff, black, import layers, spec validation and lint
	$(BIN)/nox --no-venv -s lint

typecheck: venv ## mypy --strict on bank/
	$(BIN)/nox --no-venv -s typecheck

codegen: venv ## Regenerate generated/ from the spec (CI fails on a diff)
	$(BIN)/nox --no-venv -s codegen -- --write

sdk: venv ## Regenerate the Python and TypeScript SDKs and the frontend bundle
	scripts/sdk-python.sh
	scripts/sdk-typescript.sh

unit integration: venv
	$(BIN)/nox --no-venv -s tests

fuzz: venv ## Schemathesis against the production server command
	$(BIN)/nox --no-venv -s fuzz

faults: venv ## Fault injection: killed worker, PostgreSQL restart, SQLite writers, slow clients
	$(BIN)/nox --no-venv -s faults

browser: venv ## Playwright + Debian Chromium against the live service
	$(BIN)/nox --no-venv -s browser

docker-check: venv ## hadolint, compose schema, container commands natively
	$(BIN)/nox --no-venv -s docker_check

audit: venv ## pip-audit of the locked dependencies
	$(BIN)/nox --no-venv -s audit

bench: venv ## Load benchmark with money audit (SQLite and PostgreSQL, c=1..64)
	$(BIN)/python -m tests.perf.bench $(BENCH_ARGS)

clean: ## Remove caches, reports and the local database
	rm -rf var reports .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
