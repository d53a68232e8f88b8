"""`python -m bench.read_record_bench [--orders N] [--reads N]`: what counting reads costs a read.

The API's reader is built exactly as the API builds it (`query_api.tier_wiring`), with the
`ReadRecorder`'s flush loop running (every `--flush-s` seconds: one bulk of locator updates,
so the flushes compete with the reads as they do in production). The same reads — lookups by
reference and customer histories, in process — are timed through the tier-merging reader
with and without the recorder, and through the hot-only engine reader (what reading every
tier costs a hot order), interleaved request by request (the first reader rotates) so all
variants see the same engine state. Also measured: `record()` alone (it only adds to
an in-memory counter) and one flush of the reads gathered. Results printed and saved as
JSON under bench/results/ (git-ignored); the scratch prefix is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.search_engine import AsyncSearchEngine
from bench.measure import machine, percentiles, save_result
from bench.tier_bench import load
from order_domain.tier_policy import Tier
from orderrepo.bootstrap import connect_engine, engine_config, prepare_storage
from query_api.auth import Caller, Role
from query_api.engine_reader import EngineOrderReader
from query_api.read_port import OrderFilter, OrderReader, PageRequest
from query_api.tier_wiring import open_tier_services
from query_api.tiered_reader import TieredOrderReader
from retention.locator import Locator
from retention.storage import TierNames
from settings import Settings

CSR = Caller(subject="bench", role=Role.CSR)
Read = Callable[[OrderReader, str], Awaitable[Any]]


async def by_reference(reader: OrderReader, order_id: str) -> Any:
    return await reader.find_by_reference(order_id, CSR)


async def history(reader: OrderReader, key: str) -> Any:
    return await reader.customer_history(key, CSR, filters=OrderFilter(), page=PageRequest(size=20))


async def interleaved(read: Read, readers: dict[str, OrderReader], inputs: list[str]) -> dict[str, Any]:
    """Each input read by every reader in turn, the first reader rotating, so none is favoured."""
    samples: dict[str, list[float]] = {name: [] for name in readers}
    names = list(readers)
    for i, value in enumerate(inputs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            started = time.perf_counter()
            await read(readers[name], value)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: {"reads": len(s), "ms": percentiles(s, (50, 90, 99)), "mean_ms": round(sum(s) / len(s), 3)}
            for name, s in samples.items()}


def record_cost(recorder: Any, ids: list[str], calls: int = 200_000) -> float:
    """Nanoseconds per `record()` call (in memory only)."""
    started = time.perf_counter_ns()
    for i in range(calls):
        recorder.record(ids[i % len(ids)], Tier.HOT)
    return round((time.perf_counter_ns() - started) / calls, 1)


async def measure(settings: Settings, *, reads: int, seed: int) -> dict[str, Any]:
    engine = await AsyncSearchEngine.connect(engine_config(settings))
    services = await open_tier_services(settings, engine)
    try:
        recorded = services.reader
        readers: dict[str, OrderReader] = {
            "tiers_recorded": recorded, "tiers_not_recorded": TieredOrderReader(recorded.engine_tiers, recorded.cold),
            "hot_only_not_recorded": EngineOrderReader(engine, services.names.hot)}
        names = services.names.hot
        hits = (await engine.search(names.orders, {"size": 10_000, "_source": ["order_id", "identity_keys"],
                                                   "query": {"match_all": {}}}))["hits"]["hits"]
        rng = random.Random(seed)
        ids = [rng.choice(hits)["_id"] for _ in range(reads)]
        owners = [hit["_source"]["identity_keys"] for hit in hits if hit["_source"].get("identity_keys")]
        keys = [rng.choice(owners)[0] for _ in range(reads)]
        await interleaved(by_reference, readers, ids[:200])  # warm-up: connections, caches, JIT of the engine
        result = {"by_reference": await interleaved(by_reference, readers, ids),
                  "customer_history": await interleaved(history, readers, keys),
                  "record_call_ns": record_cost(services.recorder, ids)}
        started = time.perf_counter()
        await services.recorder.flush()
        result["flushed_orders"] = len(set(ids))
        result["flush_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result
    finally:
        await services.close()
        await engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--flush-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="read-record-bench-") as scratch:
        tier = base.tier.model_copy(update={"cold_path": scratch, "read_flush_s": args.flush_s})
        settings = base.model_copy(update={"index_prefix": f"readbench{uuid.uuid4().hex[:8]}", "tier": tier})
        engine = connect_engine(settings)
        try:
            prepare_storage(settings, engine)
            loaded = load(engine, settings.index_prefix, args.orders, args.seed)
            engine.refresh(f"{settings.index_prefix}-*")
            Locator(engine, TierNames(settings.index_prefix)).sync_from_hot()  # reads update existing entries
            result = {"machine": machine(), "orders": engine.count(f"{settings.index_prefix}-orders"),
                      "flush_s": args.flush_s, **loaded,
                      **asyncio.run(measure(settings, reads=args.reads, seed=args.seed))}
        finally:
            for row in engine.request("GET", f"/_cat/indices/{settings.index_prefix}-*", params={"format": "json"}):
                engine.delete_index(row["index"])
            engine.close()
    save_result("read-record", result)


if __name__ == "__main__":
    main()
