"""What resolving a customer's keys costs a history request: the identity graph walk against
the one-hop lookup it replaced, on the real engine, over ingested sample traffic.

    .venv/bin/python -m bench.identity_bench --orders 2000 --samples 300

Publishes sample traffic under a prefix of its own, ingests it with the real worker, then
times (wall clock, sequential, median and p95) for a random sample of customer keys: the
one-hop aggregation the API used before (one request to hot+warm, one to the locator, in
parallel), the graph walk (per round: hot+warm, locator and unlinks, in parallel), and a
whole first history page through the tier-merging reader. Removes its indices and topics.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from adapters.engine_settings import connect_async_engine, connect_engine
from adapters.search_engine import AsyncSearchEngine
from bench.measure import machine, percentiles, save_result
from orderrepo.bootstrap import build_worker, prepare_storage, topic_map
from orderrepo.traffic import publish_sample_traffic
from query_api.auth import Caller, Role
from query_api.read_port import OrderFilter, PageRequest
from query_api.tier_wiring import open_tier_services
from retention.identity_links import IdentitySources, component_of
from settings import Settings, get_settings

CSR = Caller(subject="bench", role=Role.CSR)


async def one_hop(engine: AsyncSearchEngine, sources: IdentitySources, key: str) -> list[str]:
    """The pre-graph lookup: keys sharing an order with `key` (hot+warm and cold, in parallel)."""
    def body(field: str) -> dict[str, Any]:
        return {"size": 0, "query": {"term": {field: key}}, "aggs": {"keys": {"terms": {"field": field, "size": 50}}}}

    answers = await asyncio.gather(engine.search(sources.orders, body("identity_keys")),
                                   engine.search(sources.locator, body("customer_keys")))
    return sorted({key, *(b["key"] for a in answers for b in a["aggregations"]["keys"]["buckets"])})


async def timed(samples: list[str], call: Callable[[str], Awaitable[Any]]) -> dict[str, float]:
    seconds = []
    for key in samples:
        started = time.perf_counter()
        await call(key)
        seconds.append((time.perf_counter() - started) * 1000)
    return {name: round(value, 2) for name, value in percentiles(seconds, (50, 95)).items()}


async def measure(settings: Settings, samples: list[str]) -> dict[str, Any]:
    engine = await connect_async_engine(settings)
    services = await open_tier_services(settings, engine)
    sources = IdentitySources(settings.index_prefix)
    try:
        walks = [await component_of(engine, sources, key) for key in samples]
        return {
            "one_hop_ms": await timed(samples, lambda key: one_hop(engine, sources, key)),
            "graph_walk_ms": await timed(samples, lambda key: component_of(engine, sources, key)),
            "history_first_page_ms": await timed(samples, lambda key: services.reader.customer_history(
                key, CSR, filters=OrderFilter(), page=PageRequest(size=20))),
            "customers_by_rounds": {str(r): sum(1 for w in walks if w.walk.rounds == r)
                                    for r in sorted({w.walk.rounds for w in walks})},
            "keys_per_customer_max": max(len(w.walk.keys) for w in walks),
        }
    finally:
        await services.close()
        await engine.close()


def main(orders: int = typer.Option(2000, min=10), samples: int = typer.Option(300, min=1),
         seed: int = typer.Option(5)) -> None:
    base = get_settings()
    name = f"idbench{seed}"
    settings = base.model_copy(update={"index_prefix": name, "topic_prefix": name, "consumer_group": f"{name}-ingest"})
    engine = connect_engine(settings)
    prepare_storage(settings, engine)
    try:
        publish_sample_traffic(settings, orders=orders, seed=seed)
        build_worker(settings, engine).run(idle_exit_s=4.0)
        engine.refresh(f"{name}-*")
        hits = engine.search(f"{name}-orders", {"size": 10_000, "_source": ["identity_keys"]})["hits"]["hits"]
        keys = sorted({k for hit in hits for k in hit["_source"].get("identity_keys") or []})
        chosen = random.Random(seed).sample(keys, min(samples, len(keys)))
        result = asyncio.run(measure(settings, chosen))
        save_result("identity", {"machine": machine(), "orders": orders, "samples": len(chosen), **result})
    finally:
        from adapters.kafka_bus import delete_topics

        for row in engine.request("GET", f"/_cat/indices/{name}-*", params={"format": "json"}):
            engine.delete_index(row["index"])
        delete_topics(settings.resolved_kafka_servers(), topic_map(settings).all_topics())


if __name__ == "__main__":
    typer.run(main)
