# Two commands for a fresh clone: `make run` and `make test`. Everything they need is installed
# here, into .venv (Python) and tests/node/node_modules (the Node.js reference checks), and
# Debian's chromium package for the GraphiQL browser check when /usr/bin/chromium is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NODE_CHECKS := tests/node
BENCH_PEERS := benchmarks/peers
# graphql-core 3.2.6 (the newest gql 3 accepts), apart from the project's 3.3, for
# tests/gateway/test_schema_tools.py: the schema must load in older GraphQL libraries too.
LEGACY_GRAPHQL := $(VENV)/graphql-core-3.2/graphql/__init__.py
# tests/gateway/test_graphiql_browser.py drives this browser (it reads CHROMIUM too).
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck pytest fuzz bench schema clean

run: $(VENV)/.run-installed
	CATALOG_DEMO=$${CATALOG_DEMO:-true} CATALOG_EMULATOR_PORT=$${CATALOG_EMULATOR_PORT:-8001} \
		$(BIN)/catalog-gateway serve

test: $(VENV)/.dev-installed $(NODE_CHECKS)/node_modules/.package-lock.json $(LEGACY_GRAPHQL) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed $(NODE_CHECKS)/node_modules/.package-lock.json $(LEGACY_GRAPHQL) $(CHROMIUM)
	$(BIN)/pytest

# The schema fuzz of `make test` (tests/fuzz) with 10,000 operations of each kind instead of 200.
fuzz: $(VENV)/.dev-installed
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-10000} $(BIN)/pytest tests/fuzz -p no:cacheprovider

# The committed GraphQL contract and the possibleTypes client caches need;
# tests/schema/test_contract.py and test_cache_identity.py fail when they are stale.
schema: $(VENV)/.run-installed
	$(BIN)/catalog-gateway schema > schema.graphql
	$(BIN)/python -m schema.possible_types > docs/possible-types.json

# benchmarks/peers: the Node.js peers the gateway benchmark compares with (Apollo Server,
# graphql-jit), installed from their lock file.
bench: $(VENV)/.dev-installed $(BENCH_PEERS)/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks

$(BENCH_PEERS)/node_modules/.package-lock.json: $(BENCH_PEERS)/package-lock.json
	npm ci --prefix $(BENCH_PEERS) --no-audit --no-fund --loglevel=error

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=…)")'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "$(PYTHON) cannot create virtual environments: on Debian/Ubuntu, apt-get install python3-venv" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[embedded,emulator]"
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[embedded,emulator,dev]"
	touch $@ $(VENV)/.run-installed

$(LEGACY_GRAPHQL): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/graphql-core-3.2 "graphql-core==3.2.6"

$(NODE_CHECKS)/node_modules/.package-lock.json: $(NODE_CHECKS)/package-lock.json
	npm ci --prefix $(NODE_CHECKS) --no-audit --no-fund --loglevel=error

# Debian's Chromium (CI runs as root on Debian 12); anyone else is told what to install.
$(CHROMIUM):
	@command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { \
		echo "$(CHROMIUM) is missing: the GraphiQL browser test needs Debian's chromium package" \
			"(as root: apt-get install --no-install-recommends chromium), or set CHROMIUM" >&2; \
		exit 1; }
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

clean:
	rm -rf $(VENV) $(NODE_CHECKS)/node_modules $(BENCH_PEERS)/node_modules .mypy_cache .ruff_cache .pytest_cache
