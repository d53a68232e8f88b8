"""`OrderReader` over every tier: the API answers an order the same way wherever it rests.

- Hot and warm are read by ONE engine query over both index families (`P-orders` and the
  warm month indices `P-orders-warm-*`): each hit says its tier by the index it came from,
  and hits pass through `TierReader.authoritative`, so a stale copy a move leaves behind for
  a moment is never shown beside the copy the locator names.
- Cold (Parquet) is found through the order locator (`query_api.cold_tier`).
- Reference lookups ask both at once, in one engine round trip with the locator's tiers for
  the orders found (`query_api.together`); customer histories resolve the customer's keys once
  over every tier (the identity graph: `retention.identity_links`), ask the same way, then merge
  both sorted pages into one newest-first sequence whose cursor stays the API's
  (`query_api.tier_merge`); timelines and as-of replays read the tier the locator names (hot
  when it has no entry yet), and a timeline of an order just answered from hot reads hot at once
  (asked by global id, in the lookup's own round trip: `find_with_timeline`).
- Free-text search and the analysts' order lists cover hot + warm, screened in the same round trip
  (`together.MOVES`); `include_cold` adds cold orders an exact reference
  names (a locator term lookup + one Parquet row group per match), on the first page only.
- Analytics and exports read hot + warm (cold is the archive: `orderrepo retention report`
  and the Parquet parts themselves serve bulk questions about it).
- Every order answered by reference and every history item is counted by the
  `ReadRecorder` (in memory; flushed off the request path), with the tier that served it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from order_domain.model import OrderStatus
from query_api.auth import Caller
from query_api import cold_tier
from query_api import queries as q
from query_api.cold_tier import ColdTier, facet_counts
from query_api.engine_reader import EngineOrderReader
from query_api import read_port as port
from query_api.read_port import OrderFilter, OrderHits, PageRequest, StoredOrder, Tier
from query_api.tier_merge import TierPage, merge_pages, newest_first_key, rank
from query_api.together import MOVES, LocatorScreen, search_together, where_by_keys, where_by_reference
from retention.read_recorder import ReadRecorder


def tier_of_index(index: str) -> Tier:
    """Warm month indices carry `-warm-` in their names; every other order index is hot."""
    return Tier.WARM if "-warm-" in index else Tier.HOT


def _newest_first(items: Iterable[StoredOrder]) -> list[StoredOrder]:
    return sorted(items, key=lambda item: rank(newest_first_key(item.document)))


class TieredOrderReader:
    def __init__(self, engine_tiers: EngineOrderReader, cold: ColdTier, *, hot: EngineOrderReader | None = None,
                 recorder: ReadRecorder | None = None) -> None:
        self.engine_tiers = engine_tiers  # hot + warm, screened by the locator
        self.cold = cold
        self.hot = hot  # the hot index family alone: timelines of orders just answered from hot
        self.recorder = recorder

    def _record(self, items: Iterable[StoredOrder]) -> None:
        if self.recorder is not None:
            for item in items:
                self.recorder.record(item.document["order_id"], item.tier)

    async def _together(self, engine_body: dict[str, Any], cold_body: dict[str, Any], where: dict[str, Any],
                        page: PageRequest | None = None, *, also: list[tuple[str, dict[str, Any]]] | None = None
                        ) -> tuple[OrderHits, list[dict[str, Any]], int, list[dict[str, Any]]]:
        """Hot + warm hits (screened), cold locator hits, their total and the answers to `also`: one
        engine round trip (`query_api.together`)."""
        engine, cold, located, moves, *extra = await search_together(self.engine_tiers.engine, [
            (self.engine_tiers.names.orders, engine_body), (self.cold.locator, cold_body), (self.cold.locator, where),
            (self.cold.locator, MOVES), *(also or [])])
        hits = await self.engine_tiers.order_hits(engine, page, screen=LocatorScreen(self.cold.tiers, located, moves))
        return hits, cold["hits"]["hits"], int(cold["hits"]["total"]["value"]), extra

    async def _screened(self, body: dict[str, Any], page: PageRequest) -> OrderHits:
        """Hot + warm hits of one order query, screened with the `MOVES` answer of the same round trip."""
        engine, moves = await search_together(self.engine_tiers.engine, [
            (self.engine_tiers.names.orders, body), (self.cold.locator, MOVES)])
        return await self.engine_tiers.order_hits(engine, page, screen=LocatorScreen(self.cold.tiers, None, moves))

    async def find_by_reference(self, reference: str, caller: Caller) -> list[StoredOrder]:
        return (await self._by_reference(reference, caller))[0]

    async def find_with_timeline(self, reference: str, caller: Caller, *,
                                 limit: int) -> tuple[list[StoredOrder], port.TimelineHits | None]:
        """`find_by_reference`, and in the same round trip the hot timeline of the order whose global
        id is `reference` (`port.TimelineLookup`)."""
        if self.hot is None:
            return await self.find_by_reference(reference, caller), None
        events = (self.hot.names.events, q.timeline_query(reference, size=limit))
        found, extra = await self._by_reference(reference, caller, also=[events])
        return found, self.hot.timeline_hits(reference, extra[0])

    async def _by_reference(self, reference: str, caller: Caller, *, also: list[tuple[str, dict[str, Any]]] | None
                            = None) -> tuple[list[StoredOrder], list[dict[str, Any]]]:
        engine, hits, _, extra = await self._together(q.reference_query(reference, caller),
                                                      cold_tier.reference_query(reference, caller),
                                                      where_by_reference(reference), also=also)
        cold = await self.cold.by_reference(hits, reference, caller)
        found = _newest_first(engine.items + cold)[:port.MAX_REFERENCE_MATCHES]
        self._record(found)
        return found, extra

    async def customer_history(self, customer_key: str, caller: Caller, *, filters: OrderFilter,
                               page: PageRequest) -> OrderHits:
        keys = await self.engine_tiers.linked_keys(customer_key, caller)  # the graph spans every tier
        engine, hits, cold_total, _ = await self._together(
            q.history_query(keys, caller, filters=filters, page=page),
            cold_tier.history_query(keys, caller, filters=filters, page=page), where_by_keys(keys, page), page)
        cold = self.cold.history_page(hits, page)
        engine_page: TierPage[Any] = TierPage([(newest_first_key(i.document), i) for i in engine.items],
                                              engine.next_after)
        taken, next_after = merge_pages([engine_page, cold], page.size)
        read = await self.cold.documents([e for e in taken if isinstance(e, dict)], caller, filters)
        items = [e if isinstance(e, StoredOrder) else read[e["order_id"]] for e in taken
                 if isinstance(e, StoredOrder) or e["order_id"] in read]
        self._record(items)
        return OrderHits(items, engine.total + cold_total, next_after)

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest,
                     include_cold: bool = False) -> OrderHits:
        engine_search = self._screened(q.search_query(text, caller, filters=filters, page=page), page)
        if not include_cold or page.after is not None:
            return await engine_search
        engine, (cold, cold_total) = await asyncio.gather(
            engine_search,
            self.cold.search(text, caller, filters=filters, size=page.size))
        facets = {name: dict(Counter(engine.facets.get(name, {})) + counts)
                  for name, counts in facet_counts(cold).items()}
        return OrderHits(cold + engine.items, engine.total + cold_total, engine.next_after, facets)

    async def timeline(self, order_id: str, *, limit: int, tier: Tier | None = None) -> port.TimelineHits:
        """An order just answered from hot (screened by the locator) is read from the hot timeline
        in one query; otherwise the locator names the tier to read."""
        if tier is Tier.HOT and self.hot is not None:
            return await self.hot.timeline(order_id, limit=limit)
        found = await self.cold.tiers.timeline(order_id)
        if found is None:
            return port.TimelineHits(order_id, [], Tier.HOT)
        tier, entries = found
        return port.TimelineHits(order_id, shown_entries(entries)[:limit], tier)

    async def as_of(self, order_id: str, at: datetime) -> StoredOrder | None:
        found = await self.cold.tiers.timeline(order_id, with_events=True)
        if found is None:
            return None
        tier, entries = found
        document = port.state_from_entries([e for e in entries if datetime.fromisoformat(e["occurred_at"]) <= at])
        return StoredOrder(document, tier) if document is not None else None

    async def list_orders(self, *, filters: OrderFilter, page: PageRequest) -> OrderHits:
        return await self._screened(q.orders_query(filters=filters, page=page), page)

    async def orders_in_state(self, status: OrderStatus, at: datetime, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        return await self._screened(q.in_state_query(status, at, filters=filters, page=page), page)

    async def sales(self, interval: port.Interval, filters: OrderFilter) -> list[port.SalesRow]:
        return await self.engine_tiers.sales(interval, filters)

    async def fulfillment_times(self, filters: OrderFilter) -> dict[str, port.FulfillmentTimes]:
        return await self.engine_tiers.fulfillment_times(filters)

    async def rates(self, filters: OrderFilter) -> dict[str, port.ChannelRates]:
        return await self.engine_tiers.rates(filters)

    async def journeys(self, filters: OrderFilter) -> list[port.Journey]:
        return await self.engine_tiers.journeys(filters)

    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> port.Pages:
        return self.engine_tiers.export_orders(filters, limit=limit)

    def export_timeline(self, filters: port.TimelineFilter, *, limit: int | None) -> port.Pages:
        return self.engine_tiers.export_timeline(filters, limit=limit)


def shown_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline as the hot engine query answers it, whatever tier stored it: significant
    entries only (every event is stored; older entries carry no flag and are shown), in
    event-time order (occurred_at, then source_version, then event_id)."""
    return sorted((entry for entry in entries if entry.get("significant") is not False),
                  key=lambda e: (e["occurred_at"], e.get("source_version") or 0, e.get("event_id") or ""))
