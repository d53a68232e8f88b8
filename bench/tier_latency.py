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
- customer history mixing tiers (`TierReader.customer_history`, 20 per page) for customers
  with orders in more than one tier: first read of each customer (caches dropped) and again;
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

from adapters.cold_store import ColdStore
from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine, SearchEngine
from bench.measure import percentiles
from retention.cold_sweep import sweep_cold
from retention.locator import reference_query
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


async def _lookups(reader: TierReader, refs: list[str], *, forget: bool) -> dict[str, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    for ref in refs:
        if forget:
            reader.cold.forget_cache()
        answer = await _timed(lambda ref=ref: reader.by_reference(ref), wall, cpu)  # type: ignore[misc]
        assert answer is not None and answer.tier == "cold", ref
    return {"ms": percentiles(wall), "cpu_ms": percentiles(cpu)}


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
            "warm": await _lookups(reader, refs, forget=False), **await _parts_of_a_lookup(reader, refs)}}
        if customers:
            result["history_mixing_tiers"] = {
                "customers": len(customers), "first_read": await _histories(reader, customers, forget=True),
                "again": await _histories(reader, customers, forget=False)}
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
