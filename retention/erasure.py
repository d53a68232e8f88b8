"""Erasure of one customer (right to be forgotten) across every tier.

Order of work, so that a crash at any point can be finished by running it again:
1. find the customer: the given key's component in the identity graph (every key joined to
   it by any order in any tier, transitively, minus unlinked pairs: exactly the keys a CSR's
   history of that key covers, `retention.identity_links`), then every order carrying one;
2. write tombstones first (order ids, and sha-256 hashes of the keys): from this instant
   the write guard blocks any replayed event of theirs;
3. delete their orders and timelines from hot and from every warm month index that holds
   a copy (stale copies of interrupted moves included);
4. delete their locator entries, then rewrite every cold part that still holds their rows
   (the cold sweep keeps only rows the locator names);
5. delete the unlinks that name their keys (the graph's edges went with their orders);
6. record an audit entry with counts only.
A component larger than the erasure's bound is refused before anything is written.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from retention import metrics
from retention.cold_sweep import sweep_cold
from retention.identity_links import IdentityLinks
from retention.mover import Mover
from retention.storage import writable
from retention.tombstones import key_hash

ERASURE_MAX_KEYS = 10_000
ERASURE_MAX_ROUNDS = 1_000


class CustomerTooLarge(RuntimeError):
    """The key's component exceeds the erasure's bound: erase its keys one by one instead."""


@dataclass(frozen=True)
class ErasureReport:
    audit_id: str
    counts: dict[str, int]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Eraser:
    def __init__(self, mover: Mover, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.mover = mover
        self.engine = mover.engine
        self.names = mover.names
        self.clock = clock

    def customer_orders(self, key: str) -> tuple[set[str], set[str]]:
        """(order ids, identity keys) of the customer who owns `key`, across all tiers."""
        walk = IdentityLinks(self.engine, self.names.prefix).component(
            key, max_keys=ERASURE_MAX_KEYS, max_rounds=ERASURE_MAX_ROUNDS).walk
        if walk.truncated:
            raise CustomerTooLarge(f"{key}'s customer has more than {ERASURE_MAX_KEYS} keys")
        return set(self._orders_with_keys(set(walk.keys))), set(walk.keys)

    def _orders_with_keys(self, keys: set[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for index, field in ((self.names.locator, "customer_keys"), (self.names.hot.orders, "identity_keys")):
            body = {"size": 10_000, "_source": [field], "query": {"terms": {field: sorted(keys)}}}
            for hit in self.engine.search(index, body)["hits"]["hits"]:
                found[hit["_id"]] = list(hit["_source"].get(field) or [])
        return found

    def erase(self, key: str) -> ErasureReport:
        self.mover.locator.refresh()
        orders, keys = self.customer_orders(key)
        now = self.clock()
        self.mover.tombstones.add_orders(sorted(orders), reason="erased", at=now)
        self.mover.tombstones.add_customers(sorted(key_hash(k) for k in keys), at=now)
        counts: Counter[str] = Counter(orders=len(orders), identity_keys=len(keys))
        if orders:
            counts.update(self._erase_engine_copies(sorted(orders)))
            cold_before = self.engine.count(self.names.locator, {"bool": {"filter": [
                {"terms": {"order_id": sorted(orders)}}, {"term": {"tier": "cold"}}]}})
            self.mover.locator.delete(sorted(orders))
            counts["cold_orders"] = cold_before
            counts["cold_parts_rewritten"] = sweep_cold(self.engine, self.names, self.mover.copies.cold)
        counts["identity_unlinks"] = IdentityLinks(self.engine, self.names.prefix).forget(keys)
        audit_id = uuid.uuid4().hex
        self.mover.tombstones.audit(audit_id, counts=dict(counts), at=now)
        metrics.ERASURES.inc()
        return ErasureReport(audit_id, dict(counts))

    def _erase_engine_copies(self, order_ids: list[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        hot = self.names.hot
        for label, index in (("hot_orders", hot.orders), ("hot_timeline_entries", hot.events)):
            counts[label] = self._delete_by_query(index, order_ids)
        for family, label in (("orders", "warm_orders"), ("order-events", "warm_timeline_entries")):
            for index in self._warm_indices_holding(family, order_ids):
                with writable(self.engine, index):
                    counts[label] += self._delete_by_query(index, order_ids)
        return counts

    def _warm_indices_holding(self, family: str, order_ids: list[str]) -> list[str]:
        alias = self.names.warm_alias(family)
        if not self.engine.aliases_of(alias):
            return []
        body: dict[str, Any] = {"size": 0, "query": {"terms": {"order_id": order_ids}},
                                "aggs": {"where": {"terms": {"field": "_index", "size": 1000}}}}
        buckets = self.engine.search(alias, body)["aggregations"]["where"]["buckets"]
        return sorted(bucket["key"] for bucket in buckets)

    def _delete_by_query(self, index: str, order_ids: list[str]) -> int:
        answer = self.engine.request("POST", f"/{index}/_delete_by_query",
                                     params={"refresh": "true", "conflicts": "proceed"},
                                     body={"query": {"terms": {"order_id": order_ids}}})
        return int(answer.get("deleted", 0))
