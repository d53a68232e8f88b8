"""`TierReader.fetch`: hot and warm documents in one multi-index `_mget`, cold rows from Parquet,
each order from the tier its locator entry names, in the entries' order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore
from adapters.search_engine import EngineError
from retention.cold_codec import TypedOrderCodec
from retention.storage import TierNames
from retention.tier_reader import TierReader


class _Engine:
    """Answers `_mget` from a dict of indices; records every request."""

    def __init__(self, indices: dict[str, dict[str, dict[str, Any]]], errors: dict[str, Any] | None = None) -> None:
        self.indices = indices
        self.errors = errors or {}
        self.requests: list[tuple[str, str, Any]] = []

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        self.requests.append((method, path, body))
        docs = []
        for doc in body["docs"]:
            index, order_id = doc["_index"], doc["_id"]
            if order_id in self.errors:
                docs.append({"_index": index, "_id": order_id, "error": self.errors[order_id]})
            elif index not in self.indices:
                docs.append({"_index": index, "_id": order_id, "error": {"type": "index_not_found_exception"}})
            elif order_id in self.indices[index]:
                docs.append({"_index": index, "_id": order_id, "found": True, "_source": self.indices[index][order_id]})
            else:
                docs.append({"_index": index, "_id": order_id, "found": False})
        return {"docs": docs}


def _entry(order_id: str, tier: str, location: str, row_group: int | None = None) -> dict[str, Any]:
    return {"order_id": order_id, "tier": tier, "location": location, "row_group": row_group}


@pytest.fixture
def cold(tmp_path: Path) -> tuple[ColdStore, str]:
    store = ColdStore(str(tmp_path), codec=TypedOrderCodec())
    written = store.write_part("2025.01", [ColdRow("c1", "customer:a", "2025-01-02", {"order_id": "c1", "n": 1},
                                                   [{"entry_id": "c1-e1"}])])
    assert written is not None
    return store, written.path


def test_hot_and_warm_of_several_months_come_from_one_mget_and_cold_from_its_part(
        cold: tuple[ColdStore, str]) -> None:
    store, part = cold
    engine = _Engine({"p-orders": {"h1": {"order_id": "h1", "stamps": {}}},
                      "p-orders-warm-2025.02": {"w2": {"order_id": "w2"}},
                      "p-orders-warm-2025.03": {"w3": {"order_id": "w3"}}})
    reader = TierReader(engine, TierNames("p"), store)  # type: ignore[arg-type]
    entries = [_entry("w3", "warm", "p-orders-warm-2025.03"), _entry("c1", "cold", part, 0),
               _entry("h1", "hot", "p-orders"), _entry("w2", "warm", "p-orders-warm-2025.02"),
               _entry("gone", "warm", "p-orders-warm-2024.12")]
    found = asyncio.run(reader.fetch(entries))
    assert [(o.order_id, str(o.tier), o.document) for o in found] == [
        ("w3", "warm", {"order_id": "w3"}), ("c1", "cold", {"order_id": "c1", "n": 1}),
        ("h1", "hot", {"order_id": "h1", "stamps": {}}), ("w2", "warm", {"order_id": "w2"})]
    assert [(method, path) for method, path, _ in engine.requests] == [("POST", "/_mget")]
    assert [doc["_id"] for doc in engine.requests[0][2]["docs"]] == ["w3", "h1", "w2", "gone"]


def test_an_item_error_other_than_a_missing_index_is_raised(cold: tuple[ColdStore, str]) -> None:
    store, _ = cold
    engine = _Engine({"p-orders": {"h1": {"order_id": "h1"}}}, errors={"h1": {"type": "shard_failure"}})
    reader = TierReader(engine, TierNames("p"), store)  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="shard_failure"):
        asyncio.run(reader.fetch([_entry("h1", "hot", "p-orders")]))


def test_only_cold_entries_ask_the_engine_nothing(cold: tuple[ColdStore, str]) -> None:
    store, part = cold
    engine = _Engine({})
    reader = TierReader(engine, TierNames("p"), store)  # type: ignore[arg-type]
    for _ in range(2):  # from the file, then from the decoded rows in memory
        found = asyncio.run(reader.fetch([_entry("c1", "cold", part, 0)]))
        assert [(o.order_id, o.document) for o in found] == [("c1", {"order_id": "c1", "n": 1})]
    assert engine.requests == []
