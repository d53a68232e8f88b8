"""The order locator: one small always-hot entry per order saying which tier answers for it.

Readers trust only the tier an entry names; the mover changes it with a version guard
(seq_no/primary_term), so a move is one atomic flip between two copies. An entry holds:
- what finds the order: order id, every reference (lowercased), customer keys;
- where it is: `tier` and `location` (hot read alias, warm month index, or cold part path
  + `row_group`), its creation month, and `version` (+1 on every flip);
- what the policy needs: status/closed, last change, read counts (`read_count` for life,
  `recent_reads` since `recent_since`, `cold_reads` since it entered cold), last read;
- `pending`: the move journal (see `retention.mover`).
Query bodies are plain functions so the sync mover and the async reader share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.search_engine import BulkItemResult, SearchEngine
from order_domain.model import CLOSED_STATUSES
from order_domain.search_projection import search_fields
from order_domain.tier_policy import OrderFacts, Tier
from retention.storage import TierNames

_CLOSED = frozenset(str(status) for status in CLOSED_STATUSES)
# Order-derived fields: refreshed from every hot write; never the tier, location or read counts.
_SYNC_SCRIPT = (
    "if (ctx._source.tier == 'hot') { for (e in params.fields.entrySet()) { ctx._source[e.getKey()] = e.getValue() } }"
    " else { ctx.op = 'none' }"
)


def _month(value: str | None) -> str:
    stamp = datetime.fromisoformat(value) if value else datetime.now(UTC)
    return stamp.strftime("%Y.%m")


def order_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """The locator fields derived from a stored order document."""
    search = document.get("search") or search_fields(dict(document))
    last_changed = document.get("updated_at") or document.get("placed_at") or document.get("indexed_at")
    return {
        "order_id": document["order_id"], "refs": sorted(set(search["refs"])),
        "customer_keys": list(document.get("identity_keys") or []),
        "created_month": _month(document.get("placed_at") or last_changed),
        "placed_at": document.get("placed_at"), "status": document.get("status", "pending"),
        "closed": str(document.get("status", "pending")) in _CLOSED,
        "last_changed": last_changed, "indexed_at": document.get("indexed_at"),
    }


def new_entry(document: Mapping[str, Any], *, tier: Tier, location: str) -> dict[str, Any]:
    return {**order_fields(document), "tier": str(tier), "location": location, "row_group": None,
            "last_read": None, "read_count": 0, "recent_reads": 0, "recent_since": None, "cold_reads": 0,
            "version": 1, "pending": None}


def sync_action(document: Mapping[str, Any], names: TierNames) -> dict[str, Any]:
    """Bulk action the write path sends after writing an order to hot: creates the entry, or
    refreshes its order fields while the order is hot (a warm/cold entry is left alone)."""
    return {
        "_op_type": "update", "_index": names.locator, "_id": document["order_id"], "retry_on_conflict": 3,
        "script": {"source": _SYNC_SCRIPT, "lang": "painless", "params": {"fields": order_fields(document)}},
        "upsert": new_entry(document, tier=Tier.HOT, location=names.hot.orders),
    }


def facts_of(entry: Mapping[str, Any]) -> OrderFacts:
    def instant(name: str) -> datetime | None:
        value = entry.get(name)
        return datetime.fromisoformat(value) if value else None

    last_changed = instant("last_changed") or datetime.now(UTC)
    return OrderFacts(
        tier=Tier(entry["tier"]), closed=bool(entry.get("closed")),
        created_at=instant("placed_at") or last_changed, last_changed=last_changed,
        last_read=instant("last_read"), recent_reads=int(entry.get("recent_reads") or 0),
        recent_since=instant("recent_since"), cold_reads=int(entry.get("cold_reads") or 0),
    )


def reference_query(reference: str) -> dict[str, Any]:
    return {"size": 1, "seq_no_primary_term": True, "query": {"bool": {
        "should": [{"term": {"order_id": reference}}, {"term": {"refs": reference}}], "minimum_should_match": 1,
        "must_not": [{"term": {"tier": str(Tier.DELETED)}}]}}}


def customer_query(keys: Iterable[str], *, size: int, after: list[Any] | None = None) -> dict[str, Any]:
    """Newest first across every tier: the locator is the one sorted sequence a history pages."""
    body: dict[str, Any] = {
        "size": size, "query": {"bool": {"filter": [{"terms": {"customer_keys": sorted(keys)}}],
                                         "must_not": [{"term": {"tier": str(Tier.DELETED)}}]}},
        "sort": [{"placed_at": {"order": "desc", "missing": "_last"}}, {"order_id": "asc"}],
    }
    if after:
        body["search_after"] = after
    return body


class Locator:
    """Synchronous locator access for the mover, erasure and tools."""

    def __init__(self, engine: SearchEngine, names: TierNames) -> None:
        self.engine = engine
        self.names = names

    def get(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Entries by id, each hit with `_source`, `_seq_no`, `_primary_term`."""
        return self.engine.mget(self.names.locator, sorted(set(order_ids)))

    def scan(self, query: dict[str, Any], *, page: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """Pages of hits (with seq_no) in (created_month, order_id) order: streamed, constant memory."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": page, "query": query, "seq_no_primary_term": True,
                                    "sort": [{"created_month": "asc"}, {"order_id": "asc"}]}
            if after is not None:
                body["search_after"] = after
            hits = self.engine.search(self.names.locator, body)["hits"]["hits"]
            if not hits:
                return
            yield hits
            after = hits[-1]["sort"]

    def refresh(self) -> None:
        """Make journal steps visible to searches (reads by id never need it: they are realtime)."""
        self.engine.refresh(self.names.locator)

    def delete(self, order_ids: Iterable[str]) -> None:
        actions = [{"_op_type": "delete", "_index": self.names.locator, "_id": i} for i in order_ids]
        _raise_failures(self.engine.bulk(actions), ignore_missing=True)

    def sync_watermark(self, *, margin: timedelta = timedelta(minutes=10)) -> str | None:
        """Where the next sync may start: the newest hot write the locator knows, minus a margin
        for writes that became visible late. None (sync everything) on an empty locator."""
        body = {"size": 0, "aggs": {"newest": {"max": {"field": "indexed_at"}}}}
        newest = self.engine.search(self.names.locator, body)["aggregations"]["newest"].get("value")
        if newest is None:
            return None
        return (datetime.fromtimestamp(newest / 1000, UTC) - margin).isoformat()

    def sync_from_hot(self, *, since: str | None = None, page: int = 1000) -> int:
        """Create or refresh the entries of orders written to hot (since `since`, an indexed_at).

        The safety net beside the write path's own `sync_action`s: run before every pass.
        """
        query: dict[str, Any] = {"range": {"indexed_at": {"gte": since}}} if since else {"match_all": {}}
        written = 0
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": page, "query": query, "sort": [{"order_id": "asc"}],
                                    "_source": {"excludes": ["stamps", "lines", "shipments", "payments", "returns"]}}
            if after is not None:
                body["search_after"] = after
            hits = self.engine.search(self.names.hot.orders, body)["hits"]["hits"]
            if not hits:
                self.refresh()
                return written
            _raise_failures(self.engine.bulk([sync_action(hit["_source"], self.names) for hit in hits]))
            written += len(hits)
            after = hits[-1]["sort"]


class LocatorWriteFailed(RuntimeError):
    pass


def _raise_failures(results: Iterable[BulkItemResult], *, ignore_missing: bool = False) -> None:
    failed = [r for r in results if not r.ok and not (ignore_missing and r.status == 404)]
    if failed:
        raise LocatorWriteFailed(f"{len(failed)} locator writes failed, first: {failed[0].error}")
