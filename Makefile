# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve http://127.0.0.1:$${CCMS_PORT:-8000}/graphql on SQLite under ./var (migrates and seeds first).
run: install
	$(BIN)/ccms serve

## The whole suite: SQLite always, PostgreSQL and Redis when they answer (required under CI=true).
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check api cli core schema services models workers tests bench
	$(BIN)/ruff format --check api cli core schema services models workers tests bench

## Reprint the committed GraphQL schema after changing the code.
schema: install
	$(BIN)/python -m schema.printer > schema.graphql

clean:
	rm -rf $(VENV) var .pytest_cache
