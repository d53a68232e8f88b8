"""Cold part hygiene: a part holds exactly the orders the locator says it holds.

The locator is the truth: a part's live rows are the entries with tier cold and that
part as location. After moves out of cold, erasures, or a crash, a part may hold rows
nobody points at (or be unreferenced altogether). The sweep deletes unreferenced parts
and rewrites the others into a new part with only their live rows, repoints those
entries (a scripted update that applies only if the entry still names the old part),
then deletes the old part once nothing points at it. Parts named by an unfinished
move's journal (`pending.to_location`) are left for `Mover.resume` to settle first.
Idempotent; a crash at any point is repaired by the next sweep.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.cold_store import ColdStore
from adapters.search_engine import SearchEngine
from retention import metrics
from retention.storage import TierNames

_REPOINT = ("if (ctx._source.location == params.old) { ctx._source.location = params.new;"
            " ctx._source.row_group = params.group } else { ctx.op = 'none' }")


def _counts(engine: SearchEngine, names: TierNames, field: str, parts: list[str]) -> dict[str, int]:
    if not parts:
        return {}
    body = {"size": 0, "query": {"terms": {field: parts}},
            "aggs": {"parts": {"terms": {"field": field, "size": len(parts)}}}}
    buckets = engine.search(names.locator, body)["aggregations"]["parts"]["buckets"]
    return {bucket["key"]: int(bucket["doc_count"]) for bucket in buckets}


def sweep_cold(engine: SearchEngine, names: TierNames, cold: ColdStore, *, parts: Iterable[str] | None = None,
               chunk: int = 1000) -> int:
    """Settle the given parts (default: all); returns how many were deleted or rewritten."""
    candidates = sorted(parts) if parts is not None else cold.parts()
    engine.refresh(names.locator)  # counts are searches: they must see every journal step so far
    settled = 0
    for start in range(0, len(candidates), chunk):
        batch = candidates[start:start + chunk]
        live = _counts(engine, names, "location", batch)
        in_flight = _counts(engine, names, "pending.to_location", batch)
        for part in batch:
            if in_flight.get(part):
                continue
            if not live.get(part):
                cold.delete(part)
                settled += 1
            elif cold.row_count(part) > live[part]:
                rewrite_part(engine, names, cold, part)
                settled += 1
    return settled


def _live_ids(engine: SearchEngine, names: TierNames, part: str) -> set[str]:
    body = {"size": 10_000, "_source": False, "query": {"term": {"location": part}}}
    return {hit["_id"] for hit in engine.search(names.locator, body)["hits"]["hits"]}


def rewrite_part(engine: SearchEngine, names: TierNames, cold: ColdStore, part: str) -> str | None:
    """New part with only the live rows; returns its path (None: nothing was live)."""
    written = cold.rewrite_keeping(part, _live_ids(engine, names, part))
    if written is not None:
        actions: list[dict[str, Any]] = [
            {"_op_type": "update", "_index": names.locator, "_id": order_id, "retry_on_conflict": 5,
             "script": {"source": _REPOINT, "lang": "painless",
                        "params": {"old": part, "new": written.path, "group": group}}}
            for order_id, group in written.row_groups.items()
        ]
        for _ in engine.bulk(actions):
            pass
    engine.refresh(names.locator)
    if not _counts(engine, names, "location", [part]):
        cold.delete(part)
    metrics.COLD_PARTS_REWRITTEN.inc()
    return written.path if written is not None else None
