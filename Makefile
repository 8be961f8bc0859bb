# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := api cli core schema services models workers tests bench

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

## Style, types and layers: what CI runs before the tests.
lint: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy --strict core models services
	$(BIN)/mypy api cli schema workers tests bench
	$(BIN)/lint-imports

## Reprint the committed GraphQL schema after changing the code.
schema: install
	$(BIN)/python -m schema.printer > schema.graphql

clean:
	rm -rf $(VENV) var .pytest_cache
