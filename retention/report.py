"""What each tier holds: orders and bytes per tier per creation month, and per-order sizes.

Orders per tier and month come from the locator (one aggregation). Bytes: warm month
indices and cold parts are partitioned by month, so theirs are exact; hot indices are
not, so a month's hot bytes are its share of the hot store (orders x bytes per order).
Sizes include each order's timeline.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from adapters.cold_store import ColdStore, month_of_part
from adapters.search_engine import SearchEngine
from order_domain.tier_policy import Tier
from retention.storage import TierNames


@dataclass(frozen=True)
class TierMonth:
    tier: str
    month: str
    orders: int
    bytes: int


def orders_per_tier_month(engine: SearchEngine, names: TierNames) -> dict[tuple[str, str], int]:
    body = {"size": 0, "aggs": {"tier": {"terms": {"field": "tier", "size": 10}, "aggs": {
        "month": {"terms": {"field": "created_month", "size": 10_000}}}}}}
    buckets = engine.search(names.locator, body)["aggregations"]["tier"]["buckets"]
    return {(t["key"], m["key"]): int(m["doc_count"]) for t in buckets for m in t["month"]["buckets"]}


def _store_bytes(engine: SearchEngine, pattern: str) -> dict[str, int]:
    rows = engine.request("GET", f"/_cat/indices/{pattern}",
                          params={"format": "json", "bytes": "b", "h": "index,store.size"})
    return {row["index"]: int(row["store.size"] or 0) for row in rows}


def bytes_per_tier_month(engine: SearchEngine, names: TierNames, cold: ColdStore) -> dict[tuple[str, str], int]:
    sizes: Counter[tuple[str, str]] = Counter()
    for index, size in _store_bytes(engine, f"{names.prefix}-*-warm-*").items():
        sizes[(str(Tier.WARM), names.month_of_warm_index(index))] += size
    for part in cold.parts():
        sizes[(str(Tier.COLD), month_of_part(part))] += cold.size_of(part)
    return dict(sizes)


def hot_bytes(engine: SearchEngine, names: TierNames) -> int:
    hot = names.hot
    return sum(_store_bytes(engine, f"{hot.orders},{hot.events}").values())


def tier_report(engine: SearchEngine, names: TierNames, cold: ColdStore) -> list[TierMonth]:
    orders = orders_per_tier_month(engine, names)
    sizes = bytes_per_tier_month(engine, names, cold)
    hot_orders = sum(n for (tier, _), n in orders.items() if tier == Tier.HOT)
    per_hot_order = hot_bytes(engine, names) / hot_orders if hot_orders else 0.0
    rows = [TierMonth(tier, month, n, int(n * per_hot_order) if tier == Tier.HOT else sizes.get((tier, month), 0))
            for (tier, month), n in orders.items()]
    return sorted(rows, key=lambda r: (Tier(r.tier).rank, r.month))


def bytes_per_order(rows: list[TierMonth]) -> dict[str, float]:
    """Average bytes per order in each tier that holds any."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        totals[row.tier][0] += row.orders
        totals[row.tier][1] += row.bytes
    return {tier: size / orders for tier, (orders, size) in totals.items() if orders}
