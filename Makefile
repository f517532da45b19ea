# The two commands of the README: `make demo` and `make test`. Each creates .venv from the
# repo's own files on first use (and again whenever either pyproject.toml changes).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two distributions: the product (pyproject.toml) and its sandboxes (sandboxes/pyproject.toml).
PROJECTS := pyproject.toml sandboxes/pyproject.toml
STAMP  := $(VENV)/.installed-$(shell cat $(PROJECTS) | cksum | cut -d' ' -f1)
# The JavaScript tools of tests/ecosystem (composition, a router, a graphql-ws client), pinned
# by its package-lock.json; `npm ci` empties node_modules, stamp included, before installing.
ECO       := tests/ecosystem
ECO_STAMP := $(ECO)/node_modules/.installed-$(shell cksum < $(ECO)/package-lock.json | cut -d' ' -f1)
HAVE_NODE := $(and $(shell command -v node),$(shell command -v npm))

# GraphiQL's browser files (web/graphiql, see gateway/graphiql): `npm ci` once per lock,
# stamped on its checksum. Without npm, `make demo` still starts and GraphiQL's page says
# how to install them; `make test` then skips the browser tests.
GRAPHIQL := web/graphiql
GRAPHIQL_STAMP := $(GRAPHIQL)/node_modules/.installed-$(shell cksum < $(GRAPHIQL)/package-lock.json | cut -d' ' -f1)
NPM := $(shell command -v npm 2>/dev/null)
GRAPHIQL_FILES := $(if $(NPM),$(GRAPHIQL_STAMP),graphiql-without-npm)

.PHONY: demo test check lint types layers docs bench clean ecosystem graphiql graphiql-without-npm

$(STAMP): $(PROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandboxes
	@rm -f $(VENV)/.installed-*
	@touch $@

$(GRAPHIQL_STAMP): $(GRAPHIQL)/package.json $(GRAPHIQL)/package-lock.json
	npm ci --prefix $(GRAPHIQL) --no-audit --no-fund --loglevel=error
	@rm -f $(GRAPHIQL)/node_modules/.installed-*
	@touch $@

## Install GraphiQL's browser files from the lock (the gateway serves them: works offline)
graphiql: $(GRAPHIQL_FILES)

graphiql-without-npm:
	@echo "npm not found: GraphiQL's files are not installed (GET /graphql says how)."

## Start the gateway with its embedded demo (sandboxes + in-memory store): GraphiQL at :8000/graphql
demo: $(STAMP) $(GRAPHIQL_FILES)
	$(BIN)/omnigate demo $(ARGS)

$(ECO_STAMP): $(ECO)/package.json $(ECO)/package-lock.json
	npm ci --prefix $(ECO) --no-audit --no-fund
	@touch $@

## Install the JavaScript tools of tests/ecosystem (needs node and npm)
ecosystem: $(ECO_STAMP)

## Run the whole test suite (with node and npm, tests/ecosystem's tools and GraphiQL's files first; without, those tests skip)
test: $(STAMP) $(GRAPHIQL_FILES) $(if $(HAVE_NODE),ecosystem)
	$(BIN)/python -m pytest $(ARGS)

## Guard rails: lint, types, layer contract
check: lint types layers

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

## Regenerate docs/schema.graphql, docs/schema.federation.graphql and the README's configuration reference
docs: $(STAMP)
	$(BIN)/omnigate schema --output docs/schema.graphql
	$(BIN)/omnigate schema --federation --output docs/schema.federation.graphql
	$(BIN)/python scripts/readme_settings.py

bench: $(STAMP)
	$(BIN)/python bench/customer360.py
	$(BIN)/python bench/stock.py
	$(BIN)/python bench/loyalty.py
	$(BIN)/python bench/replicas.py
	$(BIN)/python bench/analytics.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(ECO)/node_modules $(GRAPHIQL)/node_modules
