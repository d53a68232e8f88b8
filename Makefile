# The two README commands are `make demo` and `make test`; everything else is a step of them.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup console-assets demo test engine-matrix engine-matrix-es7 engine-matrix-es8 unit integration stack-up stack-down bench clean

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

test: setup  ## every suite on OpenSearch (starts the local stack if it is not running), then the Elasticsearch leg
	$(BIN)/python -m pytest
	$(MAKE) engine-matrix

# The Elasticsearch legs of the engine matrix, one after the other, each node stopped after its leg:
# - 7.10: a real Elasticsearch 7.10.2 node from Maven Central with its standard modules (full feature set);
# - 8.x: Elastic's own core-only 8.x build (integ-test-zip), run as a non-root service user; tests of what
#   it lacks (analysis-common, painless, ...) are skipped with the reason, and its lifecycle is tested too.
ES_URL ?= http://127.0.0.1:$${ORDERREPO_STACK_ELASTICSEARCH_HTTP_PORT:-19201}
ES8_URL ?= http://127.0.0.1:$${ORDERREPO_STACK_ELASTICSEARCH8_HTTP_PORT:-19202}
# Tiering (moves, reads across tiers, crash safety, erasure, the tiered API), the identity graph and the
# timeline run on both legs; on the 8.x core build the tests that need painless or _delete_by_query skip
# with the reason (tests marked engine_features). The 8.x leg also proves data-tier allocation on a
# two-node cluster of its own (the Apache-2.0 7.10 build has no data tiers).
ENGINE_MATRIX_TESTS ?= tests/contract tests/integration/test_real_servers.py tests/integration/test_ingest_pipeline.py \
	tests/integration/test_rebuild.py tests/integration/test_query_api.py tests/integration/test_reconcile.py \
	tests/integration/test_tiering.py tests/integration/test_tiering_pipeline.py tests/integration/test_tiering_safety.py \
	tests/integration/test_tiered_api.py tests/integration/test_identity_graph.py tests/integration/test_timeline_order.py tests/integration/test_tier_storage_forms.py
engine-matrix: engine-matrix-es7 engine-matrix-es8

engine-matrix-es7: setup
	$(BIN)/orderrepo stack up --engine elasticsearch
	ELASTICSEARCH_URL=$(ES_URL) $(BIN)/python -m pytest $(ENGINE_MATRIX_TESTS); \
	status=$$?; $(BIN)/orderrepo stack down --only elasticsearch; exit $$status

engine-matrix-es8: setup
	$(BIN)/orderrepo stack up --engine elasticsearch8
	ELASTICSEARCH_URL=$(ES8_URL) $(BIN)/python -m pytest $(ENGINE_MATRIX_TESTS) tests/integration/test_elasticsearch8_node.py \
		tests/integration/test_elasticsearch_data_tiers.py; \
	status=$$?; $(BIN)/orderrepo stack down --only elasticsearch8; exit $$status

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
