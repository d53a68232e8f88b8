"""Latency of the cold tier as readers and the mover meet it (part of `bench.tier_bench`).

Measured on a scratch prefix whose closed orders the real mover moved to cold:
- cold lookup by reference through `TierReader.by_reference` (locator query + the tier it
  names): "cold start" drops every cold cache before each lookup (what the first reads of a
  freshly started API process pay), "parts_open" repeats them with the parts' footers (and
  a few row groups) still cached but each order decoded afresh (the cold-start pass left only
  its last order decoded), "warm" repeats them once more, every order now decoded in memory
  (the target's "once warm in memory": 500 orders fit the store's 2,048-row cache);
  beside the wall time, where the time goes: the locator query alone, the Parquet read of
  the row group (open the part, read its footer and the row group, decode the order's
  document), the CPU its timeline costs when first asked for (never by a lookup), and
  the process CPU time per lookup (wall time on a loaded machine also holds other work);
  "cold_start_parts_opened_at_start" drops the caches too, then opens the newest parts untimed
  before each lookup, as the API start does in the background (`ColdStore.open_newest`, at most
  the part cache's 32 parts), and `opening_at_start` times that warm-up itself;
- customer history mixing tiers (`TierReader.customer_history`, 20 per page) for customers
  with orders in more than one tier: first read of each customer (caches dropped) and again,
  and the first read taken apart step by step (`first_read_steps`: locator query, hot/warm
  `_mget`, then per cold month on the page its part opened, its row group read, and the
  page's cold orders rebuilt; the cold row groups of a page are read side by side in the
  reader, one after another here so that each step is its own cost);
- rehydration of one order to hot (`Mover.rehydrate`): until hot answers for it. The cold
  row it leaves behind is dropped by the next pass's sweep, timed separately (`sweep_ms`,
  one sweep for all the rehydrated orders' parts), because no reader waits for it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.cold_rows import ColdCodec, ColdRow
from adapters.cold_store import ColdStore
from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine, SearchEngine
from bench.measure import percentiles
from retention.cold_sweep import sweep_cold
from retention.locator import customer_query, reference_query
from retention.mover import Mover
from retention.storage import TierNames
from retention.tier_reader import TierReader
from settings import Settings


async def _timed(call: Callable[[], Awaitable[Any]], wall: list[float], cpu: list[float]) -> Any:
    started, started_cpu = time.perf_counter(), time.process_time()
    answer = await call()
    wall.append((time.perf_counter() - started) * 1000)
    cpu.append((time.process_time() - started_cpu) * 1000)
    return answer


async def _lookups(reader: TierReader, refs: list[str], *, forget: bool, reopen: bool = False) -> dict[str, Any]:
    """Lookups one by one; `forget` drops every cold cache before each, and `reopen` then opens
    the newest parts again, untimed (what an API start does in the background: `ColdStore.open_newest`)."""
    wall: list[float] = []
    cpu: list[float] = []
    for ref in refs:
        if forget:
            reader.cold.forget_cache()
        if reopen:
            reader.cold.open_newest()
        answer = await _timed(lambda ref=ref: reader.by_reference(ref), wall, cpu)  # type: ignore[misc]
        assert answer is not None and answer.tier == "cold", ref
    return {"ms": percentiles(wall), "cpu_ms": percentiles(cpu)}


def _open_newest(cold: ColdStore) -> dict[str, Any]:
    """What the API start's background warm-up costs: the newest parts opened from dropped caches."""
    cold.forget_cache()
    started, started_cpu = time.perf_counter(), time.process_time()
    opened = cold.open_newest()
    return {"parts": len(opened), "of_parts": len(cold.parts()), "ms": round((time.perf_counter() - started) * 1000, 1),
            "cpu_ms": round((time.process_time() - started_cpu) * 1000, 1)}


async def _parts_of_a_lookup(reader: TierReader, refs: list[str]) -> dict[str, Any]:
    """The locator query alone, the Parquet read alone from dropped caches (the order's document
    decoded), and the CPU its timeline costs when first asked for (a lookup never pays it)."""
    locator: list[float] = []
    parquet: list[float] = []
    timeline: list[float] = []
    for ref in refs:
        started = time.perf_counter()
        hit = (await reader.engine.search(reader.names.locator, reference_query(ref)))["hits"]["hits"][0]["_source"]
        locator.append((time.perf_counter() - started) * 1000)
        reader.cold.forget_cache()
        started = time.perf_counter()
        row = reader.cold.read(hit["location"], int(hit["row_group"]), [hit["order_id"]])[hit["order_id"]]
        parquet.append((time.perf_counter() - started) * 1000)
        started_cpu = time.process_time()
        assert row.timeline
        timeline.append((time.process_time() - started_cpu) * 1000)
    return {"locator_query_ms": percentiles(locator), "parquet_row_group_cold_ms": percentiles(parquet),
            "timeline_on_demand_cpu_ms": percentiles(timeline)}


async def _histories(reader: TierReader, customers: list[str], *, forget: bool) -> dict[str, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    tiers = 0
    for key in customers:
        if forget:
            reader.cold.forget_cache()
        page = await _timed(lambda key=key: reader.customer_history([key], size=20), wall, cpu)  # type: ignore[misc]
        tiers = max(tiers, len({order.tier for order in page.orders}))
    assert tiers >= 2, "no customer page mixed tiers"
    return {"ms": percentiles(wall), "cpu_ms": percentiles(cpu)}


class _TimedCodec:
    """The store's codec with the CPU its `decode` spends added up (the per-order step of a read)."""

    def __init__(self, codec: ColdCodec) -> None:
        self.codec = codec
        self.schema, self.sort_by = codec.schema, codec.sort_by
        self.dictionary_columns, self.read_columns = codec.dictionary_columns, codec.read_columns
        self.cpu_ms = 0.0

    def encode(self, row: ColdRow) -> dict[str, Any]:
        return self.codec.encode(row)

    def decode(self, record: dict[str, Any]) -> ColdRow:
        started = time.process_time()
        try:
            return self.codec.decode(record)
        finally:
            self.cpu_ms += (time.process_time() - started) * 1000


async def _history_steps(reader: TierReader, customers: list[str]) -> dict[str, Any]:
    """Where a first history read goes, step by step, one page per customer from dropped caches,
    each step alone and the cold ones on one thread (so each is its own cost): the locator query
    and the hot/warm `_mget` (wall), then per cold month on the page: opening its part (footer),
    reading its row group, and rebuilding the page's cold orders (process CPU)."""
    codec = _TimedCodec(reader.cold.codec)
    cold = ColdStore(reader.cold.root, codec=codec, read_threads=1)
    steps: dict[str, list[float]] = {name: [] for name in (
        "locator_query_ms", "hot_warm_mget_ms", "part_open_cpu_ms", "row_group_read_cpu_ms", "decode_cpu_ms")}
    groups_per_page: list[float] = []
    for key in customers:
        started = time.perf_counter()
        hits = (await reader.engine.search(reader.names.locator, customer_query([key], size=20)))["hits"]["hits"]
        steps["locator_query_ms"].append((time.perf_counter() - started) * 1000)
        entries = [hit["_source"] for hit in hits]
        started = time.perf_counter()
        await reader.fetch([e for e in entries if e["tier"] != "cold"])
        steps["hot_warm_mget_ms"].append((time.perf_counter() - started) * 1000)
        groups: dict[tuple[str, int], list[str]] = {}
        for entry in (e for e in entries if e["tier"] == "cold"):
            groups.setdefault((entry["location"], int(entry["row_group"] or 0)), []).append(entry["order_id"])
        groups_per_page.append(len(groups))
        started = time.process_time()
        cold.open_parts(path for path, _ in groups)
        steps["part_open_cpu_ms"].append((time.process_time() - started) * 1000)
        codec.cpu_ms, started = 0.0, time.process_time()
        cold.read_groups(groups)
        steps["row_group_read_cpu_ms"].append((time.process_time() - started) * 1000 - codec.cpu_ms)
        steps["decode_cpu_ms"].append(codec.cpu_ms)
        cold.forget_cache()
    return {"cold_months_per_page": percentiles(groups_per_page), **{k: percentiles(v) for k, v in steps.items()}}


def mixed_customers(engine: SearchEngine, names: TierNames, *, limit: int = 200) -> list[str]:
    """Customer keys whose orders sit in more than one tier (a terms aggregation on the locator)."""
    body = {"size": 0, "aggs": {"customers": {"terms": {"field": "customer_keys", "size": 5000}, "aggs": {
        "tiers": {"cardinality": {"field": "tier"}}}}}}
    buckets = engine.search(names.locator, body)["aggregations"]["customers"]["buckets"]
    return sorted(b["key"] for b in buckets if b["tiers"]["value"] >= 2)[:limit]


async def reads(settings: Settings, names: TierNames, cold: ColdStore, refs: list[str],
                customers: list[str]) -> dict[str, Any]:
    engine = await AsyncSearchEngine.connect(engine_config(settings))
    reader = TierReader(engine, names, cold)
    try:
        result = {"cold_lookup_by_reference": {
            "lookups": len(refs), "cold_start": await _lookups(reader, refs, forget=True),
            "parts_open": await _lookups(reader, refs, forget=False),
            "warm": await _lookups(reader, refs, forget=False), **await _parts_of_a_lookup(reader, refs),
            "cold_start_parts_opened_at_start": await _lookups(reader, refs, forget=True, reopen=True),
            "opening_at_start": _open_newest(reader.cold)}}
        if customers:
            result["history_mixing_tiers"] = {
                "customers": len(customers), "first_read": await _histories(reader, customers, forget=True),
                "again": await _histories(reader, customers, forget=False),
                "first_read_steps": await _history_steps(reader, customers)}
        return result
    finally:
        await engine.close()


def rehydrations(mover: Mover, ids: list[str]) -> dict[str, Any]:
    """Each order alone, until hot answers; then the one sweep that drops the rows left behind."""
    wall: list[float] = []
    cpu: list[float] = []
    for order_id in ids:
        started, started_cpu = time.perf_counter(), time.process_time()
        assert mover.rehydrate([order_id]) == {order_id}
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    started = time.perf_counter()
    rewritten = sweep_cold(mover.engine, mover.names, mover.copies.cold)
    return {"orders": len(ids), "ms": percentiles(wall), "cpu_ms": percentiles(cpu),
            "sweep_ms": round((time.perf_counter() - started) * 1000, 1), "parts_rewritten": rewritten}


def cold_latency(settings: Settings, names: TierNames, cold: ColdStore, mover: Mover, *,
                 seed: int, lookups: int = 500, rehydrated: int = 50) -> dict[str, Any]:
    """Lookups, mixed-tier histories and rehydrations on a prefix whose closed orders are cold."""
    ids = sorted(hit["_id"] for hit in mover.engine.search(names.locator, {
        "size": 10_000, "_source": False, "query": {"term": {"tier": "cold"}}})["hits"]["hits"])
    sample = random.Random(seed).sample(ids, min(lookups, len(ids)))
    customers = mixed_customers(mover.engine, names)
    result = asyncio.run(reads(settings, names, cold, sample, customers))
    result["rehydration"] = rehydrations(mover, sample[:rehydrated])
    return result
