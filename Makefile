# The two README commands are `make demo` and `make test`; everything else is a step of them.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup console-assets demo test unit integration stack-up stack-down bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml query_api/console/package-lock.json
	bin/ensure-prereqs
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(MAKE) console-assets
	touch $@

# the console's browser assets (charting library; axe-core for the browser tests), pinned by
# package-lock.json, into query_api/console/node_modules (git-ignored); skipped without node
console-assets:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix query_api/console --no-audit --no-fund --loglevel=error; \
	else echo "node/npm not found: the console runs without charts (install Node.js, then: make console-assets)"; fi

demo: setup  ## stack up, sample multichannel traffic through Kafka, ingest, API
	$(BIN)/orderrepo demo

test: setup  ## unit + integration tests (starts the local stack if it is not running)
	$(BIN)/python -m pytest

unit: setup
	$(BIN)/python -m pytest tests/unit

integration: setup
	$(BIN)/python -m pytest tests/integration

stack-up: setup
	$(BIN)/orderrepo stack up

stack-down: setup
	$(BIN)/orderrepo stack down

bench: setup
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
