"""`OrderReader` over one search engine index family (adapter side of the read port).

It sends the bodies of `query_api.queries` and turns engine answers into port answers.
One instance serves one index family, or several read as one (`query_api.tiered_reader` reads
hot and warm together: `tier_of` tags each hit with the tier of the index it came from, and
`screen` drops the stale copies a move leaves behind for a moment).
Exports read from a point in time with `search_after`: consistent, with no 10,000-hit window.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from adapters.search_engine import AsyncSearchEngine
from index_templates import IndexNames
from order_domain.model import OrderStatus
from query_api import queries as q
from query_api.auth import Caller, Role
from query_api.read_port import (
    ChannelRates,
    FulfillmentTimes,
    Interval,
    Journey,
    OrderFilter,
    OrderHits,
    PageRequest,
    Pages,
    SalesRow,
    StoredOrder,
    Tier,
    TimelineFilter,
    TimelineHits,
    state_from_entries,
)
from retention.identity_links import IdentitySources, component_of

EXPORT_PAGE = 2000
SALES_FIELDS = ",".join(f"aggregations.period.buckets.{field}" for field in (
    "key_as_string", "channel.buckets.key", "channel.buckets.doc_count", "channel.buckets.revenue.value"))
Hits = list[dict[str, Any]]
Screen = Callable[[Hits], Awaitable[Hits]]


def sales_rows(answer: dict[str, Any]) -> list[SalesRow]:
    """The rows of a `queries.sales_by_channel` answer trimmed to `SALES_FIELDS` (an empty answer has
    no `aggregations` at all), revenue as `round(value, 2)` gives it.

    Dict literals, not `SalesRow(...)` calls (hundreds of rows per answer, the keyword call is twice
    the cost), and the rounding without a `round(v, 2)` per cell where it is exact to do so: a sum of
    cents comes back as the double nearest to it, give or take the additions' error, so the cents `k`
    are `round(v * 100)`, and `k / 100` (a correctly rounded division) is the double `round(v, 2)`
    answers. That holds whenever `v * 100` is within 0.49 of `k`: the product's own error is below
    0.002 under 1e13 cents, so the exact value is within 0.5 of `k` and rounding it to cents gives `k`.
    Anything else (an int, zero cents and its sign, NaN, infinities, huge values, a value near half a
    cent) takes `round(v, 2)` itself (`tests/unit/test_sales_rows.py` checks both against it)."""
    rows: list[SalesRow] = []
    for period in answer.get("aggregations", {}).get("period", {}).get("buckets", ()):
        day = period["key_as_string"]
        rows += [{"period": day, "channel": channel["key"], "orders": channel["doc_count"],
                  "revenue": _to_cents(channel["revenue"]["value"])}
                 for channel in period.get("channel", {}).get("buckets", ())]
    return rows


def _to_cents(value: Any) -> Any:
    """`round(value, 2)`, by `k / 100` where that is provably the same float (see `sales_rows`)."""
    if type(value) is float and -1e11 < value < 1e11:
        cents = round(value * 100)
        if cents and abs(value * 100 - cents) < 0.49:
            return cents / 100
    return round(value, 2)


class EngineOrderReader:
    def __init__(self, engine: AsyncSearchEngine, names: IndexNames, *, tier: Tier = Tier.HOT,
                 tier_of: Callable[[str], Tier] | None = None, screen: Screen | None = None) -> None:
        self.engine = engine
        self.names = names
        self.tier = tier
        self.tier_of = tier_of or (lambda _index: tier)
        self.screen = screen

    async def _orders(self, body: dict[str, Any], page: PageRequest | None = None) -> OrderHits:
        return await self.order_hits(await self.engine.search(self.names.orders, body), page, screen=self.screen)

    async def order_hits(self, answer: dict[str, Any], page: PageRequest | None = None, *,
                         screen: Screen | None = None) -> OrderHits:
        """An engine answer to one of the order queries (sent here or batched by the caller) as
        port answers, hits passed through `screen` first."""
        hits = answer["hits"]["hits"]
        full = page is not None and len(hits) == page.size
        kept = await screen(hits) if screen is not None else hits
        return OrderHits(
            items=[StoredOrder(hit["_source"], self.tier_of(hit["_index"])) for hit in kept],
            total=answer["hits"]["total"]["value"] if "total" in answer["hits"] else len(hits),
            next_after=hits[-1]["sort"] if full else None,
            facets={name: {b["key"]: b["doc_count"] for b in agg["buckets"]}
                    for name, agg in answer.get("aggregations", {}).items()},
        )

    async def find_by_reference(self, reference: str, caller: Caller) -> list[StoredOrder]:
        return (await self._orders(q.reference_query(reference, caller))).items

    async def linked_keys(self, key: str, caller: Caller) -> list[str]:
        """The keys a history covers: a storefront's own keys; for staff, every key of `key`'s
        customer in the identity graph (any number of hops, every tier, unlinks honoured)."""
        if caller.role is Role.STOREFRONT:
            return list(caller.customer_keys)
        return (await component_of(self.engine, IdentitySources(self.names.prefix), key)).walk.keys

    async def history_of_keys(self, keys: list[str], caller: Caller, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        return await self._orders(q.history_query(keys, caller, filters=filters, page=page), page)

    async def customer_history(self, customer_key: str, caller: Caller, *, filters: OrderFilter,
                               page: PageRequest) -> OrderHits:
        keys = await self.linked_keys(customer_key, caller)
        return await self.history_of_keys(keys, caller, filters=filters, page=page)

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest,
                     include_cold: bool = False) -> OrderHits:
        """One engine tier has no cold part: `include_cold` only matters to the tier-merging reader."""
        return await self._orders(q.search_query(text, caller, filters=filters, page=page), page)

    async def timeline(self, order_id: str, *, limit: int, tier: Tier | None = None) -> TimelineHits:
        return self.timeline_hits(order_id, await self.engine.search(self.names.events,
                                                                     q.timeline_query(order_id, size=limit)))

    def timeline_hits(self, order_id: str, answer: dict[str, Any]) -> TimelineHits:
        """An engine answer to `queries.timeline_query` (sent here or batched by the caller)."""
        return TimelineHits(order_id, [hit["_source"] for hit in answer["hits"]["hits"]], self.tier)

    async def as_of(self, order_id: str, at: datetime) -> StoredOrder | None:
        hits = (await self.engine.search(self.names.events, q.as_of_query(order_id, at)))["hits"]["hits"]
        document = state_from_entries([hit["_source"] for hit in hits])
        return StoredOrder(document, self.tier) if document is not None else None

    async def list_orders(self, *, filters: OrderFilter, page: PageRequest) -> OrderHits:
        return await self._orders(q.orders_query(filters=filters, page=page), page)

    async def orders_in_state(self, status: OrderStatus, at: datetime, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        return await self._orders(q.in_state_query(status, at, filters=filters, page=page), page)

    async def _aggregations(self, body: dict[str, Any]) -> dict[str, Any]:
        return (await self.engine.search(self.names.orders, body))["aggregations"]

    async def sales(self, interval: Interval, filters: OrderFilter) -> list[SalesRow]:
        """The engine answers only the fields a row reads (`SALES_FIELDS`): hundreds of buckets
        parse in a fraction of the time."""
        body = q.sales_by_channel(interval, q.order_filters(filters))
        return sales_rows(await self.engine.search(self.names.orders, body, params={"filter_path": SALES_FIELDS}))

    async def fulfillment_times(self, filters: OrderFilter) -> dict[str, FulfillmentTimes]:
        types = (await self._aggregations(q.fulfillment_percentiles(q.order_filters(filters))))["type"]
        answer = {}
        for bucket in types["buckets"]:
            values = {float(k): v for k, v in bucket["hours"]["values"].items()}
            answer[bucket["key"]] = FulfillmentTimes(bucket["doc_count"], values.get(50.0), values.get(90.0),
                                                     values.get(99.0))
        return answer

    async def rates(self, filters: OrderFilter) -> dict[str, ChannelRates]:
        channels = (await self._aggregations(q.rates_by_channel(q.order_filters(filters))))["channel"]
        return {b["key"]: ChannelRates(b["doc_count"], b["cancelled"]["doc_count"], b["returned"]["doc_count"])
                for b in channels["buckets"]}

    async def journeys(self, filters: OrderFilter) -> list[Journey]:
        bought = (await self._aggregations(q.cross_channel_journeys(q.order_filters(filters))))["bought"]
        return [Journey(b["key"], r["key"], r["doc_count"])
                for b in bought["buckets"] for r in b["returned"]["buckets"]]

    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> Pages:
        query = {"bool": {"filter": q.order_filters(filters)}}
        return self._pages(self.names.orders, query, [{"order_id": "asc"}], limit)

    def export_timeline(self, filters: TimelineFilter, *, limit: int | None) -> Pages:
        return self._pages(self.names.events, q.timeline_export_query(filters), [{"entry_id": "asc"}], limit)

    async def _pages(self, index: str, query: dict[str, Any], sort: list[Any], limit: int | None) -> Pages:
        pit = await self.engine.open_pit(index)
        sent, after = 0, None
        try:
            while limit is None or sent < limit:
                size = EXPORT_PAGE if limit is None else min(EXPORT_PAGE, limit - sent)
                body = q.paged({"query": query, "sort": sort, "track_total_hits": False}, PageRequest(size, after))
                hits = (await self.engine.search_pit(pit, body))["hits"]["hits"]
                if not hits:
                    return
                sent, after = sent + len(hits), hits[-1]["sort"]
                yield [hit["_source"] for hit in hits]
        finally:
            await self.engine.close_pit(pit)
