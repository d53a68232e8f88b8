"""Reads across tiers for the query API (async): the locator first, then the tier it names.

Every answer carries the tier that served it. Guarantees:
- an order is answered from the one tier its locator entry names (never from a stale
  copy a move left behind), so moves and crashes are invisible to readers;
- a customer's history is one sorted sequence (newest first, order id tie-break) across
  hot, warm and cold, paged by the locator's `search_after` values;
- an order not (yet) in the locator is looked up in hot, so answers stay correct while
  the write path's locator updates trail behind;
- free-text search over hot + warm (`authoritative`) drops hits from a tier the locator
  does not name;
- every order served is recorded by the `ReadRecorder` (in memory, flushed later).
Cold Parquet reads run in a worker thread so the event loop never blocks on files; rows
already decoded in memory are answered on the loop (no I/O, no thread hand-off).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adapters.cold_store import ColdStore
from adapters.search_engine import AsyncSearchEngine, EngineError
from order_domain.tier_policy import Tier
from retention.locator import customer_query, reference_query
from retention.read_recorder import ReadRecorder
from retention.storage import TierNames

ANSWER_EXCLUDES = ("stamps", "search", "facts")


@dataclass(frozen=True)
class TieredOrder:
    order_id: str
    tier: Tier
    document: dict[str, Any]


@dataclass(frozen=True)
class HistoryPage:
    orders: list[TieredOrder]
    next_after: list[Any] | None


def _answer(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ANSWER_EXCLUDES}


def names_index(entry: dict[str, Any], index: str) -> bool:
    """Whether a locator entry names the engine index a hit came from (the one answering copy)."""
    if entry["tier"] == Tier.WARM:
        return bool(index == entry["location"])
    return entry["tier"] == Tier.HOT and "-warm-" not in index


class TierReader:
    def __init__(self, engine: AsyncSearchEngine, names: TierNames, cold: ColdStore,
                 recorder: ReadRecorder | None = None) -> None:
        self.engine = engine
        self.names = names
        self.cold = cold
        self.recorder = recorder

    async def by_reference(self, reference: str) -> TieredOrder | None:
        hits = (await self.engine.search(self.names.locator, reference_query(reference)))["hits"]["hits"]
        if not hits:
            return await self._hot_fallback(reference)
        found = await self.fetch([hits[0]["_source"]])
        return found[0] if found else None

    async def _hot_fallback(self, reference: str) -> TieredOrder | None:
        body = {"size": 1, "_source": {"excludes": list(ANSWER_EXCLUDES)}, "query": {"bool": {"should": [
            {"term": {"order_id": reference}}, {"term": {"search.refs": reference}}], "minimum_should_match": 1}}}
        hits = (await self.engine.search(self.names.hot.orders, body))["hits"]["hits"]
        if not hits:
            return None
        return self._served(TieredOrder(hits[0]["_id"], Tier.HOT, hits[0]["_source"]))

    async def customer_history(self, keys: Iterable[str], *, size: int = 20,
                               after: list[Any] | None = None) -> HistoryPage:
        body = customer_query(keys, size=size, after=after)
        hits = (await self.engine.search(self.names.locator, body))["hits"]["hits"]
        orders = await self.fetch([hit["_source"] for hit in hits])
        return HistoryPage(orders, hits[-1]["sort"] if len(hits) == size else None)

    async def timeline(self, order_id: str, *, with_events: bool = False,
                       ) -> tuple[Tier, list[dict[str, Any]]] | None:
        """The order's timeline entries, oldest first, from the tier that answers for it;
        `with_events` keeps each entry's original event (as-of replays need it)."""
        hits = (await self.engine.search(self.names.locator, reference_query(order_id)))["hits"]["hits"]
        entry = hits[0]["_source"] if hits else {"tier": Tier.HOT, "location": self.names.hot.orders}
        tier = Tier(entry["tier"])
        if tier is Tier.COLD:
            rows = await asyncio.to_thread(self.cold.read, entry["location"], int(entry["row_group"] or 0),
                                           [entry["order_id"]])
            timeline = rows[entry["order_id"]].timeline if rows else []
            if not with_events:
                timeline = [{k: v for k, v in e.items() if k != "event"} for e in timeline]
        else:
            index = self.names.hot.events if tier is Tier.HOT else entry["location"].replace(
                "-orders-warm-", "-order-events-warm-", 1)
            body = {"size": 1000, "query": {"term": {"order_id": order_id}},
                    "_source": {"excludes": [] if with_events else ["event"]}}
            timeline = [hit["_source"] for hit in (await self.engine.search(index, body))["hits"]["hits"]]
        if not timeline and not hits:
            return None
        return tier, sorted(timeline, key=lambda e: (e["occurred_at"], e["entry_id"]))

    async def authoritative(self, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Search hits from hot and warm indices, minus stale copies the locator does not name."""
        if not hits:
            return []
        answer = await self.engine.request("POST", f"/{self.names.locator}/_mget",
                                           body={"ids": sorted({h["_id"] for h in hits})})
        where = {doc["_id"]: doc["_source"] for doc in answer["docs"] if doc.get("found")}
        return [hit for hit in hits if hit["_id"] not in where or names_index(where[hit["_id"]], hit["_index"])]

    async def fetch(self, entries: list[dict[str, Any]]) -> list[TieredOrder]:
        """Documents for locator entries, in the entries' order, each from its own tier (an
        order whose copy is gone meanwhile, moved or erased, is left out). Hot and warm
        documents come from one `_mget` whatever the number of indices (warm has one per
        month); a cold read not in memory runs in a worker thread meanwhile."""
        engine_docs = [{"_index": entry["location"], "_id": entry["order_id"]} for entry in entries
                       if entry["tier"] in (Tier.HOT, Tier.WARM)]
        by_group: dict[tuple[str, int], list[str]] = defaultdict(list)
        for entry in entries:
            if entry["tier"] == Tier.COLD:
                by_group[(entry["location"], int(entry["row_group"] or 0))].append(entry["order_id"])
        cached = self._cached_cold(by_group)
        cold = asyncio.to_thread(self._read_cold, by_group) if cached is None else None
        documents: dict[str, dict[str, Any]] = dict(cached or {})
        reads = await asyncio.gather(self._engine_documents(engine_docs), *([cold] if cold is not None else []))
        for read in reads:
            documents.update(read)
        tiers = {entry["order_id"]: Tier(entry["tier"]) for entry in entries}
        return [self._served(TieredOrder(i, tiers[i], documents[i])) for i in tiers if i in documents]

    async def _engine_documents(self, docs: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
        """Hot and warm documents, by (index, id), in one round trip."""
        if not docs:
            return {}
        answer = await self.engine.request("POST", "/_mget", body={"docs": docs},
                                           params={"_source_excludes": ",".join(ANSWER_EXCLUDES)})
        for doc in answer["docs"]:  # an index gone is a copy gone (left out); any other error is raised
            if "error" in doc and "index_not_found" not in str(doc["error"]):
                raise EngineError(500, f"mget {doc.get('_index')}/{doc.get('_id')}: {str(doc['error'])[:2000]}")
        return {doc["_id"]: doc["_source"] for doc in answer["docs"] if doc.get("found")}

    def _cached_cold(self, groups: dict[tuple[str, int], list[str]]) -> dict[str, dict[str, Any]] | None:
        """Every cold row already decoded in memory (a warm read): answered on the event loop,
        without the worker thread's hand-off; None sends the whole read to the thread."""
        out: dict[str, dict[str, Any]] = {}
        for (path, _), ids in groups.items():
            rows = self.cold.cached(path, ids)
            if rows is None:
                return None
            out.update({i: _answer(row.document) for i, row in rows.items()})
        return out

    def _read_cold(self, groups: dict[tuple[str, int], list[str]]) -> dict[str, dict[str, Any]]:
        return {i: _answer(row.document) for i, row in self.cold.read_groups(groups).items()}

    def _served(self, order: TieredOrder) -> TieredOrder:
        if self.recorder is not None:
            self.recorder.record(order.order_id, order.tier)
        return order

