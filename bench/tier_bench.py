"""`python -m bench.tier_bench [--orders N]`: hot vs warm vs cold bytes per order, cold lookups,
rehydration and retention pass time, side by side in one run on the configured engine.

Orders are sample traffic (every channel, 400 days of history) decoded and written by the
real ingest writer into a scratch prefix; the same orders are then moved, all of them,
hot -> warm -> cold by the real mover. Bytes per order include the order's timeline; hot
and warm are measured after a force merge to one segment (so the comparison is codec and
layout, not merge luck). Cold lookups go through `TierReader.by_reference` (locator query
+ one Parquet row group): "cold start" drops the open-file and row-group caches before
every lookup, "warm" repeats the lookups with caches filled. Results: printed, and saved
as JSON under bench/results/ (git-ignored). The scratch prefix is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.cold_store import ColdStore
from adapters.search_engine import AsyncSearchEngine, SearchEngine
from bench.measure import machine, percentiles, save_result
from index_templates import IndexNames, install
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.topics import CHANNEL_FORMATS
from ingest.writer import OrderStoreWriter
from order_domain.model import OrderChange
from order_domain.tier_policy import TierThresholds
from adapters.engine_settings import connect_engine, engine_config
from retention.cold_codec import TypedOrderCodec
from retention.copies import TierCopies
from retention.mover import Mover
from retention.report import hot_bytes
from retention.storage import TierNames, install_tier_storage, warm_indices
from retention.tier_reader import TierReader
from sample_traffic.stream import generate
from settings import Settings

ALL_WARM = TierThresholds(hot_window_days=0, warm_after_idle_days=0, cold_after_idle_days=100_000)
ALL_COLD = TierThresholds(hot_window_days=0, warm_after_idle_days=0, cold_after_idle_days=0)


def load(engine: SearchEngine, prefix: str, orders: int, seed: int) -> dict[str, Any]:
    writer = OrderStoreWriter(engine, IndexNames(prefix))
    batch: list[OrderChange] = []
    started = time.perf_counter()
    for message in generate(orders=orders, seed=seed, start=datetime.now(UTC) - timedelta(days=400), days=400):
        try:
            batch.extend(decode(CHANNEL_FORMATS[message.channel], message.value))
        except (ChannelDecodeError, IgnoredPayload):
            continue
        if len(batch) >= 2000:
            writer.write(batch)
            batch = []
    if batch:
        writer.write(batch)
    return {"load_seconds": round(time.perf_counter() - started, 1)}


def merged_bytes(engine: SearchEngine, indices: str) -> int:
    engine.request("POST", f"/{indices}/_forcemerge", params={"max_num_segments": 1, "request_timeout": 3600})
    engine.refresh(indices)
    engine.request("POST", f"/{indices}/_flush")
    rows = engine.request("GET", f"/_cat/indices/{indices}", params={"format": "json", "bytes": "b",
                                                                     "h": "index,store.size"})
    return sum(int(row["store.size"] or 0) for row in rows)


def timed_pass(mover: Mover) -> dict[str, Any]:
    started = time.perf_counter()
    report = mover.run_pass()
    return {**report.as_dict(), "wall_seconds": round(time.perf_counter() - started, 1)}


async def cold_lookups(settings: Settings, names: TierNames, cold: ColdStore, refs: list[str]) -> dict[str, Any]:
    engine = await AsyncSearchEngine.connect(engine_config(settings))
    reader = TierReader(engine, names, cold)
    try:
        cold_start, warm, parquet_only = [], [], []
        for ref in refs:
            cold.forget_cache()
            started = time.perf_counter()
            answer = await reader.by_reference(ref)
            cold_start.append((time.perf_counter() - started) * 1000)
            assert answer is not None and answer.tier == "cold", ref
        for ref in refs:
            started = time.perf_counter()
            await reader.by_reference(ref)
            warm.append((time.perf_counter() - started) * 1000)
        hits = await engine.search(names.locator, {"size": len(refs), "query": {"terms": {"order_id": refs}}})
        for hit in hits["hits"]["hits"]:
            cold.forget_cache()
            started = time.perf_counter()
            cold.read(hit["_source"]["location"], int(hit["_source"]["row_group"]), [hit["_id"]])
            parquet_only.append((time.perf_counter() - started) * 1000)
        return {"lookups": len(refs), "cold_start_ms": percentiles(cold_start), "warm_ms": percentiles(warm),
                "parquet_row_group_cold_ms": percentiles(parquet_only)}
    finally:
        await engine.close()


def rehydrations(mover: Mover, ids: list[str]) -> dict[str, Any]:
    samples = []
    for order_id in ids:
        started = time.perf_counter()
        assert mover.rehydrate([order_id]) == {order_id}
        samples.append((time.perf_counter() - started) * 1000)
    return {"orders": len(ids), "ms": percentiles(samples)}


def run(settings: Settings, *, orders: int, seed: int, cold_root: Path) -> dict[str, Any]:
    engine = connect_engine(settings)
    names = TierNames(settings.index_prefix)
    install(engine, names.hot)
    install_tier_storage(engine, names)
    cold = ColdStore(str(cold_root), codec=TypedOrderCodec(), row_group_rows=settings.tier.cold_row_group_rows)
    copies = TierCopies(engine, names, cold, on_warm_nodes=False)
    result: dict[str, Any] = {"orders_requested": orders, **load(engine, settings.index_prefix, orders, seed)}
    try:
        engine.refresh(f"{names.hot.orders},{names.hot.events}")
        total = engine.count(names.hot.orders)
        hot = merged_bytes(engine, f"{names.hot.orders},{names.hot.events}")
        result["hot"] = {"orders": total, "bytes": hot, "bytes_per_order": round(hot / total, 1)}
        result["pass_to_warm"] = timed_pass(Mover(copies, ALL_WARM, batch=settings.tier.move_batch))
        warm_total = engine.count(names.warm_alias("orders"))
        warm = merged_bytes(engine, ",".join(warm_indices(engine, names)))
        result["warm"] = {"orders": warm_total, "bytes": warm, "bytes_per_order": round(warm / warm_total, 1),
                          "hot_bytes_left": hot_bytes(engine, names)}
        result["pass_to_cold"] = timed_pass(Mover(copies, ALL_COLD, batch=settings.tier.move_batch))
        cold_bytes = sum(cold.size_of(part) for part in cold.parts())
        cold_total = engine.count(names.locator, {"term": {"tier": "cold"}})
        result["cold"] = {"orders": cold_total, "bytes": cold_bytes, "parts": len(cold.parts()),
                          "bytes_per_order": round(cold_bytes / cold_total, 1),
                          "row_group_rows": settings.tier.cold_row_group_rows}
        result["ratios"] = {"warm_over_hot": round(warm / warm_total / (hot / total), 3),
                            "cold_over_hot": round(cold_bytes / cold_total / (hot / total), 4)}
        ids = sorted(hit["_id"] for hit in engine.search(names.locator, {
            "size": 10_000, "_source": False, "query": {"term": {"tier": "cold"}}})["hits"]["hits"])
        sample = random.Random(seed).sample(ids, min(500, len(ids)))
        result["cold_lookup_by_reference"] = asyncio.run(cold_lookups(settings, names, cold, sample))
        result["rehydration"] = rehydrations(Mover(copies, ALL_COLD), sample[:50])
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        for row in engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}):
            engine.delete_index(row["index"])
        engine.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    settings = Settings()
    settings = settings.model_copy(update={"index_prefix": f"tierbench{uuid.uuid4().hex[:8]}"})
    with tempfile.TemporaryDirectory(prefix="tier-bench-") as scratch:
        result = {"machine": machine(), "engine": settings.resolved_engine_url(),
                  **run(settings, orders=args.orders, seed=args.seed, cold_root=Path(scratch))}
    save_result("tier", result)


if __name__ == "__main__":
    main()
