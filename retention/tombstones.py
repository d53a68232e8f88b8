"""Durable tombstones and the erasure audit (adapter over the `<prefix>-tombstones` index).

Why an index of our own: the engines forget a deleted document's version after about a
minute (index.gc_deletes), so a replay of old events would recreate it. A tombstone is
an ordinary document and lasts until someone deletes it:
- `order:<id>`        an order that was erased or expired (reason erased|expired);
- `customer:<hash>`   an erased customer key (sha-256, never the key itself), with when;
- `audit:<id>`        what one erasure removed, as counts only (no personal data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from adapters.search_engine import SearchEngine
from retention.storage import TierNames


@lru_cache(maxsize=65_536)  # asked for every key of every change the write gate admits; an order's events repeat them
def key_hash(customer_key: str) -> str:
    """The stored form of a customer key in tombstones: one-way, so the tombstone leaks nothing."""
    return hashlib.sha256(customer_key.encode("utf-8")).hexdigest()


class TombstoneWriteFailed(RuntimeError):
    pass


class Tombstones:
    def __init__(self, engine: SearchEngine, names: TierNames) -> None:
        self.engine = engine
        self.index = names.tombstones

    def _write(self, actions: list[dict[str, Any]]) -> None:
        failed = [r for r in self.engine.bulk(actions, refresh=True) if not r.ok and r.status != 404]
        if failed:
            raise TombstoneWriteFailed(f"{len(failed)} tombstone writes failed, first: {failed[0].error}")

    def add_orders(self, order_ids: Iterable[str], *, reason: str, at: datetime) -> None:
        self._write([{"_op_type": "index", "_index": self.index, "_id": f"order:{i}",
                      "_source": {"kind": "order", "order_id": i, "reason": reason, "at": at.isoformat()}}
                     for i in order_ids])

    def remove_orders(self, order_ids: Iterable[str]) -> None:
        self._write([{"_op_type": "delete", "_index": self.index, "_id": f"order:{i}"} for i in order_ids])

    def add_customers(self, key_hashes: Iterable[str], *, at: datetime) -> None:
        self._write([{"_op_type": "index", "_index": self.index, "_id": f"customer:{h}",
                      "_source": {"kind": "customer", "key_hash": h, "reason": "erased", "at": at.isoformat()}}
                     for h in key_hashes])

    def audit(self, audit_id: str, *, counts: dict[str, int], at: datetime) -> None:
        self._write([{"_op_type": "index", "_index": self.index, "_id": f"audit:{audit_id}",
                      "_source": {"kind": "audit", "reason": "erased", "at": at.isoformat(), "counts": counts}}])

    def lookup(self, order_ids: Iterable[str], key_hashes: Iterable[str]) -> tuple[set[str], dict[str, datetime]]:
        """Tombstoned order ids and erased customer key hashes (-> when erased), in ONE real-time
        read: the write gate asks both for every batch, and each request costs the engine a round."""
        ids = [doc["_id"] for doc in self.wanted(order_ids, key_hashes)]
        return self.found(list(self.engine.mget(self.index, ids).values()))

    def wanted(self, order_ids: Iterable[str], key_hashes: Iterable[str]) -> list[dict[str, str]]:
        """The `_mget` docs that ask for these orders' and keys' tombstones (to join a larger `_mget`)."""
        ids = [f"order:{i}" for i in sorted(set(order_ids))] + [f"customer:{h}" for h in sorted(set(key_hashes))]
        return [{"_index": self.index, "_id": doc_id} for doc_id in ids]

    @staticmethod
    def found(hits: list[dict[str, Any]]) -> tuple[set[str], dict[str, datetime]]:
        """(tombstoned order ids, erased key hash -> when) from the found hits of `wanted`'s docs."""
        orders: set[str] = set()
        customers: dict[str, datetime] = {}
        for hit in hits:
            source = hit["_source"]
            if source.get("kind") == "customer":
                customers[source["key_hash"]] = datetime.fromisoformat(source["at"])
            else:
                orders.add(source["order_id"])
        return orders, customers

    def tombstoned_orders(self, order_ids: Iterable[str]) -> set[str]:
        return self.lookup(order_ids, ())[0]

    def audits(self) -> list[dict[str, Any]]:
        body = {"size": 1000, "query": {"term": {"kind": "audit"}}, "sort": [{"at": "desc"}]}
        return [hit["_source"] for hit in self.engine.search(self.index, body)["hits"]["hits"]]
