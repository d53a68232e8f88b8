"""The cold tier as the query API reads it: the order locator finds cold orders, and
`retention.tier_reader.TierReader` reads their documents from Parquet.

Cold orders are not in any engine index, so every question about them is asked of the
locator (one small always-hot entry per order: references, customer keys, placed date,
status, tier and location). Guarantees:
- only entries whose tier is `cold` are answered here (hot and warm orders are answered by
  the engine query over both index families), so an order is never answered twice;
- storefront isolation is part of the locator query (the token's customer keys) and is
  checked again on the document read;
- filters the locator cannot apply (channel, store) are applied to the documents read, so
  a history page may come back shorter while its cursor still moves on;
- reference lookups answer reference fields only (order id, references, tracking numbers),
  although the locator also indexes SKUs and emails for search.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from query_api.auth import Caller, Role
from query_api.queries import NEWEST_FIRST, paged, reference_spellings, time_range
from query_api.read_port import MAX_REFERENCE_MATCHES, OrderFilter, PageRequest, StoredOrder, Tier
from query_api.tier_merge import TierPage
from retention.tier_reader import TierReader

Entry = dict[str, Any]
COLD_ONLY = {"term": {"tier": str(Tier.COLD)}}


def _isolation(caller: Caller) -> list[dict[str, Any]]:
    if caller.role is Role.STOREFRONT:
        return [{"terms": {"customer_keys": list(caller.customer_keys)}}]
    return []


def _located(filters: OrderFilter) -> list[dict[str, Any]]:
    """The filters the locator can apply itself (it holds status and placed date)."""
    status = [{"term": {"status": str(filters.status)}}] if filters.status else []
    return status + time_range("placed_at", filters.placed_from, filters.placed_to)


def history_query(keys: list[str], caller: Caller, *, filters: OrderFilter, page: PageRequest) -> dict[str, Any]:
    query = {"bool": {"filter": [{"terms": {"customer_keys": keys}}, COLD_ONLY, *_isolation(caller),
                                 *_located(filters)]}}
    return paged({"query": query, "sort": NEWEST_FIRST, "track_total_hits": True}, page)


def reference_query(reference: str, caller: Caller, *, filters: OrderFilter | None = None,
                    size: int = MAX_REFERENCE_MATCHES) -> dict[str, Any]:
    """Cold entries naming `reference` (any spelling; the locator's refs are case-folded)."""
    should = [{"term": {"order_id": reference}}, {"terms": {"refs": reference_spellings(reference)}}]
    query = {"bool": {"should": should, "minimum_should_match": 1,
                      "filter": [COLD_ONLY, *_isolation(caller), *_located(filters or OrderFilter())]}}
    return {"size": size, "sort": NEWEST_FIRST, "track_total_hits": True, "query": query}


def carries_reference(document: dict[str, Any], reference: str) -> bool:
    """The engine's reference semantics: the global id exactly, references and tracking numbers
    in any case (and "#1042" = "1042")."""
    spellings = {value.lower() for value in reference_spellings(reference)}
    return (document.get("order_id") == reference
            or any(str(ref.get("value", "")).lower() in spellings for ref in document.get("references") or [])
            or any(str(s.get("tracking_number") or "").lower() == reference.lower()
                   for s in document.get("shipments") or []))


def admitted(document: dict[str, Any], caller: Caller, filters: OrderFilter) -> bool:
    if caller.role is Role.STOREFRONT and not set(document.get("identity_keys") or []) & set(caller.customer_keys):
        return False
    return all(document.get(field) == value for field, value in
               (("channel", filters.channel), ("store_id", filters.store_id)) if value)


def facet_counts(items: list[StoredOrder]) -> dict[str, Counter[str]]:
    """The search facets (channel, status, store) of orders read outside the engine."""
    counts: dict[str, Counter[str]] = {"channel": Counter(), "status": Counter(), "store": Counter()}
    for item in items:
        for facet, field in (("channel", "channel"), ("status", "status"), ("store", "store_id")):
            if item.document.get(field):
                counts[facet][str(item.document[field])] += 1
    return counts


class ColdTier:
    def __init__(self, tiers: TierReader) -> None:
        self.tiers = tiers
        self.engine = tiers.engine
        self.locator = tiers.names.locator

    async def _entries(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        answer = (await self.engine.search(self.locator, body))["hits"]
        return answer["hits"], int(answer["total"]["value"])

    @staticmethod
    def history_page(hits: list[dict[str, Any]], page: PageRequest) -> TierPage[Entry]:
        """The cold entries of a `history_query` answer (not yet read), in the API's sort order."""
        last = hits[-1]["sort"] if len(hits) == page.size else None
        return TierPage([(hit["sort"], hit["_source"]) for hit in hits], last)

    async def documents(self, entries: list[Entry], caller: Caller, filters: OrderFilter) -> dict[str, StoredOrder]:
        """The cold documents of `entries` (read in a worker thread), minus those filtered out."""
        if not entries:
            return {}
        read = await self.tiers.fetch(entries)
        return {order.order_id: StoredOrder(order.document, order.tier)
                for order in read if admitted(order.document, caller, filters)}

    async def by_reference(self, hits: list[dict[str, Any]], reference: str, caller: Caller) -> list[StoredOrder]:
        """The cold orders of a `reference_query` answer that really carry the reference."""
        found = await self.documents([hit["_source"] for hit in hits], caller, OrderFilter())
        return [found[i] for i in (hit["_id"] for hit in hits)
                if i in found and carries_reference(found[i].document, reference)]

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter,
                     size: int) -> tuple[list[StoredOrder], int]:
        """Cold orders an exact reference, tracking number, SKU, email or loyalty id names."""
        hits, total = await self._entries(reference_query(text, caller, filters=filters, size=size))
        found = await self.documents([hit["_source"] for hit in hits], caller, filters)
        return [found[hit["_id"]] for hit in hits if hit["_id"] in found], total
