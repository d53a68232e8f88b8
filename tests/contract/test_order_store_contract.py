"""One contract for the order store port (`ingest.ports.OrderStore`), run on every implementation.

The writer's correctness rests on these semantics (create-if-absent, the seq_no guard,
per-item bulk results), so the in-memory fake used by unit tests must behave exactly as
the engines do: the same test class runs on the fake, on the configured engine (the
local stack's OpenSearch unless OPENSEARCH_URL says otherwise) and on the Elasticsearch
node at ELASTICSEARCH_URL (skipped, with the reason in the summary, when unset).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from adapters.search_engine import EngineKind, SearchEngine
from ingest.ports import OrderStore
from tests.fakes.order_store import InMemoryOrderStore

CONFLICT = "version_conflict_engine_exception"


def _action(index: str, doc_id: str, source: dict[str, Any], op: str = "index", **guard: int) -> dict[str, Any]:
    return {"_op_type": op, "_index": index, "_id": doc_id, "_source": source, **guard}


class OrderStoreContract:
    """Subclasses provide `store` (an OrderStore) and `index` (a fresh, empty index on it)."""

    def write(self, store: OrderStore, *actions: dict[str, Any]) -> list[Any]:
        return list(store.bulk(list(actions)))

    def test_create_stores_a_new_document_readable_by_mget(self, store: OrderStore, index: str) -> None:
        [result] = self.write(store, _action(index, "o1", {"order_id": "o1", "total": "12.50"}, op="create"))
        assert (result.ok, result.op, result.doc_id, result.status, result.error) == (True, "create", "o1", 201, None)
        found = store.mget(index, ["o1"])
        assert list(found) == ["o1"] and found["o1"]["_source"] == {"order_id": "o1", "total": "12.50"}
        assert isinstance(found["o1"]["_seq_no"], int) and found["o1"]["_primary_term"] >= 1

    def test_a_pre_encoded_json_value_is_stored_as_the_json_it_holds(self, store: OrderStore, index: str) -> None:
        """The writer sends an event as the JSON text pydantic wrote (`orjson.Fragment`), not as a dict."""
        event = orjson.Fragment(b'{"event_id":"e1","lines":[{"line_id":"L1","quantity":2}],"total":"12.50"}')
        [result] = self.write(store, _action(index, "o1", {"order_id": "o1", "event": event}, op="create"))
        assert result.ok
        assert store.mget(index, ["o1"])["o1"]["_source"] == {
            "order_id": "o1", "event": {"event_id": "e1", "lines": [{"line_id": "L1", "quantity": 2}], "total": "12.50"}}

    def test_create_of_an_existing_id_fails_with_409_and_keeps_the_stored_document(
        self, store: OrderStore, index: str
    ) -> None:
        self.write(store, _action(index, "o1", {"v": 1}, op="create"))
        [result] = self.write(store, _action(index, "o1", {"v": 2}, op="create"))
        assert (result.ok, result.status, result.doc_id) == (False, 409, "o1")
        assert result.error is not None and result.error.startswith(CONFLICT)
        assert store.mget(index, ["o1"])["o1"]["_source"] == {"v": 1}

    def test_a_guarded_index_with_the_current_seq_no_succeeds_and_moves_seq_no_on(
        self, store: OrderStore, index: str
    ) -> None:
        self.write(store, _action(index, "o1", {"v": 1}, op="create"))
        held = store.mget(index, ["o1"])["o1"]
        [result] = self.write(store, _action(index, "o1", {"v": 2}, if_seq_no=held["_seq_no"],
                                             if_primary_term=held["_primary_term"]))
        assert (result.ok, result.op, result.status) == (True, "index", 200)
        now = store.mget(index, ["o1"])["o1"]
        assert now["_source"] == {"v": 2} and now["_seq_no"] == held["_seq_no"] + 1
        assert now["_primary_term"] == held["_primary_term"]

    def test_a_stale_guard_fails_with_409_and_changes_nothing(self, store: OrderStore, index: str) -> None:
        self.write(store, _action(index, "o1", {"v": 1}, op="create"))
        held = store.mget(index, ["o1"])["o1"]
        guard = {"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]}
        first = self.write(store, _action(index, "o1", {"v": 2}, **guard))
        second = self.write(store, _action(index, "o1", {"v": 3}, **guard))
        assert first[0].ok and (second[0].ok, second[0].status) == (False, 409)
        assert second[0].error is not None and second[0].error.startswith(CONFLICT)
        assert store.mget(index, ["o1"])["o1"]["_source"] == {"v": 2}

    def test_a_guard_on_a_missing_document_fails_with_409(self, store: OrderStore, index: str) -> None:
        [result] = self.write(store, _action(index, "ghost", {"v": 1}, if_seq_no=0, if_primary_term=1))
        assert (result.ok, result.status) == (False, 409)
        assert store.mget(index, ["ghost"]) == {}

    def test_an_unguarded_index_overwrites(self, store: OrderStore, index: str) -> None:
        results = self.write(store, _action(index, "e1", {"v": 1}), _action(index, "e1", {"v": 2}))
        assert [(r.ok, r.status) for r in results] == [(True, 201), (True, 200)]
        assert store.mget(index, ["e1"])["e1"]["_source"] == {"v": 2}

    def test_mget_answers_only_found_documents(self, store: OrderStore, index: str) -> None:
        self.write(store, *(_action(index, f"o{i}", {"n": i}, op="create") for i in range(3)))
        found = store.mget(index, ["o2", "missing", "o0"])
        assert sorted(found) == ["o0", "o2"] and [found[k]["_source"]["n"] for k in ("o0", "o2")] == [0, 2]
        assert store.mget(index, []) == {}

    def test_bulk_yields_one_result_per_item_matched_by_id(self, store: OrderStore, index: str) -> None:
        self.write(store, _action(index, "taken", {"v": 0}, op="create"))
        actions = [_action(index, f"o{i}", {"n": i}, op="create") for i in range(5)]
        actions.insert(2, _action(index, "taken", {"v": 1}, op="create"))
        results = {r.doc_id: r for r in self.write(store, *actions)}
        assert sorted(results) == ["o0", "o1", "o2", "o3", "o4", "taken"]
        assert {k: r.status for k, r in results.items()} == {**{f"o{i}": 201 for i in range(5)}, "taken": 409}
        assert {r.index for r in results.values()} == {index}

    def test_delete_removes_and_a_missing_delete_answers_404(self, store: OrderStore, index: str) -> None:
        self.write(store, _action(index, "o1", {"v": 1}, op="create"))
        gone, missing = self.write(store, {"_op_type": "delete", "_index": index, "_id": "o1"},
                                   {"_op_type": "delete", "_index": index, "_id": "o1"})
        assert (gone.ok, gone.status) == (True, 200) and (missing.ok, missing.status) == (False, 404)
        assert store.mget(index, ["o1"]) == {}


class TestInMemoryOrderStore(OrderStoreContract):
    @pytest.fixture
    def store(self) -> OrderStore:
        return InMemoryOrderStore()

    @pytest.fixture
    def index(self) -> str:
        return "orders-v1"


def _fresh_index(engine: SearchEngine) -> Iterator[str]:
    index = f"t{uuid.uuid4().hex[:10]}-contract-orders"
    engine.create_index(index, {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    yield index
    engine.delete_index(index)


@pytest.mark.integration
class TestConfiguredEngineOrderStore(OrderStoreContract):
    """The configured engine: the local stack's OpenSearch unless OPENSEARCH_URL names another."""

    @pytest.fixture
    def store(self, engine: SearchEngine) -> OrderStore:
        return engine

    @pytest.fixture
    def index(self, engine: SearchEngine) -> Iterator[str]:
        yield from _fresh_index(engine)


@pytest.mark.integration
class TestElasticsearchOrderStore(OrderStoreContract):
    @pytest.fixture
    def store(self, elasticsearch_engine: SearchEngine) -> OrderStore:
        assert elasticsearch_engine.info.kind is EngineKind.ELASTICSEARCH
        return elasticsearch_engine

    @pytest.fixture
    def index(self, elasticsearch_engine: SearchEngine) -> Iterator[str]:
        yield from _fresh_index(elasticsearch_engine)
