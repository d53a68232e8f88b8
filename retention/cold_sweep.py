"""Cold part hygiene: a part holds exactly the orders the locator says it holds.

The locator is the truth: a part's live rows are the entries with tier cold and that
part as location. After moves out of cold, erasures, or a crash, a part may hold rows
nobody points at (or be unreferenced altogether). The sweep deletes unreferenced parts
and rewrites the others into a new part with only their live rows, repoints those
entries (a scripted update that applies only if the entry still names the old part),
then deletes the old part once nothing points at it. A full sweep then compacts each
month: a move batch writes one part per month, so a month collects many small parts, and
merging them into parts of up to `COMPACT_ROWS` rows lets zstd see long runs (the same
replace: write the merged part, repoint, delete the old parts). Parts named by an
unfinished move's journal (`pending.to_location`) are left for `Mover.resume` to settle
first. Idempotent; a crash at any point is repaired by the next sweep (an entry is only
ever repointed to a part that holds its row).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from adapters.cold_store import ColdStore, month_of_part
from adapters.search_engine import SearchEngine
from retention import metrics
from retention.locator import Locator
from retention.storage import TierNames

COMPACT_ROWS = 8192  # rows of a compacted part at most
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
    """Settle the given parts (default: all, then `compact_cold`); returns how many were
    deleted, rewritten or merged away."""
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
    return settled + (compact_cold(engine, names, cold) if parts is None else 0)


def _live_ids(engine: SearchEngine, names: TierNames, part: str) -> set[str]:
    """Every order the locator places in `part`, paged (no cap on the part's size)."""
    return {hit["_id"] for page in Locator(engine, names).scan({"term": {"location": part}}) for hit in page}


def rewrite_part(engine: SearchEngine, names: TierNames, cold: ColdStore, part: str) -> str | None:
    """New part with only the live rows; returns its path (None: nothing was live)."""
    return replace_parts(engine, names, cold, [part])


def replace_parts(engine: SearchEngine, names: TierNames, cold: ColdStore, parts: list[str]) -> str | None:
    """One new part with the live rows of `parts` (one month's), the locator repointed to it,
    the old parts deleted once nothing names them; returns the new path (None: nothing live)."""
    old_of = {order_id: part for part in parts for order_id in _live_ids(engine, names, part)}
    written = cold.merge_parts(parts, set(old_of))
    if written is not None:
        actions: list[dict[str, Any]] = [
            {"_op_type": "update", "_index": names.locator, "_id": order_id, "retry_on_conflict": 5,
             "script": {"source": _REPOINT, "lang": "painless",
                        "params": {"old": old_of[order_id], "new": written.path, "group": group}}}
            for order_id, group in written.row_groups.items()
        ]
        for _ in engine.bulk(actions):
            pass
    engine.refresh(names.locator)
    live = _counts(engine, names, "location", parts)
    for part in parts:
        if not live.get(part):
            cold.delete(part)
    metrics.COLD_PARTS_REWRITTEN.inc(len(parts))
    return written.path if written is not None else None


def compact_cold(engine: SearchEngine, names: TierNames, cold: ColdStore, *, max_rows: int = COMPACT_ROWS) -> int:
    """Merge each month's small parts (fewer live rows than `max_rows`) into parts of up to
    `max_rows` rows: one move batch makes one part per month, and zstd packs a few large parts
    far better than many small ones. Parts an unfinished move names are left alone. Returns
    how many parts were merged away."""
    engine.refresh(names.locator)
    months: dict[str, list[str]] = defaultdict(list)
    for part in cold.parts():
        months[month_of_part(part)].append(part)
    merged = 0
    for parts in months.values():
        live = _counts(engine, names, "location", parts)
        in_flight = _counts(engine, names, "pending.to_location", parts)
        small = [part for part in parts if 0 < live.get(part, 0) < max_rows and not in_flight.get(part)]
        for group in _bins(small, live, max_rows):
            replace_parts(engine, names, cold, group)
            merged += len(group)
    return merged


def _bins(parts: list[str], rows: dict[str, int], max_rows: int) -> Iterator[list[str]]:
    """Consecutive groups of at least two parts whose rows add up to at most `max_rows`."""
    group: list[str] = []
    for part in sorted(parts, key=lambda p: (rows[p], p)):
        if group and sum(rows[p] for p in group) + rows[part] > max_rows:
            if len(group) > 1:
                yield group
            group = []
        group.append(part)
    if len(group) > 1:
        yield group
