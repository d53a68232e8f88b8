"""`python -m bench.tier_bench --pass-only --orders N`: one retention pass over a store of N
orders in steady state, its time and the pass process's peak memory.

The store is what a daily pass finds after years of daily passes: N orders placed evenly over
400 days, each in the tier the policy gave it yesterday (the configured thresholds: about 8 %
hot, a third warm, the rest cold), so today's pass examines all N and moves the day's share
(hot -> warm and warm -> cold, about N/400 each). Loading goes through the raw bulk path, not
Kafka and not the ingest writer: real sample-traffic orders are cloned under new ids and
dates; every order gets its locator entry; hot orders get their hot document; orders due to
move today get their source copy (warm month index, or a real cold Parquet part). Clones carry
no timeline, so their cold rows take the codec's JSON form. The pass itself runs in a fresh
process (`--run-pass`), so its peak RSS (`ru_maxrss`) is the pass's own, not the loader's.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore
from adapters.engine_settings import connect_engine
from adapters.search_engine import SearchEngine
from bench.targets import tier_pass_checks
from index_templates import install
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.planner import plan_writes
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import OrderChange
from order_domain.tier_policy import Tier, TierThresholds, decide_tier
from order_domain.stored_forms import order_document
from retention.cold_codec import TypedOrderCodec
from retention.config import build_mover, thresholds_from
from retention.locator import facts_of, new_entry
from retention.storage import TierNames, ensure_warm_index, install_tier_storage, seal
from sample_traffic.stream import generate
from settings import Settings

DAYS = 400
PAGE = 1000  # locator entries per page of the pass (`Locator.scan`)
WARM_UP_PAGES = 5


def templates(now: datetime, count: int = 500) -> list[dict[str, Any]]:
    """Closed sample-traffic orders of every channel, as the writer stores them."""
    changes: list[OrderChange] = []
    for message in generate(orders=count, seed=3, start=now - timedelta(days=DAYS), days=DAYS):
        try:
            changes.extend(decode(CHANNEL_FORMATS[message.channel], message.value))
        except (ChannelDecodeError, IgnoredPayload):
            continue
    documents = [order_document(w.state, now) for w in plan_writes(changes, {}).orders]
    return [d for d in documents if d.get("facts", {}).get("closed")]


def clone(template: dict[str, Any], n: int, *, orders: int, now: datetime) -> dict[str, Any]:
    placed = now - timedelta(days=DAYS * (n + 0.5) / orders)
    updated = placed + timedelta(days=3)
    return {**template, "order_id": f"pass-{n:08d}", "placed_at": placed.isoformat(),
            "updated_at": updated.isoformat(), "indexed_at": updated.isoformat()}


def placement(document: dict[str, Any], names: TierNames, thresholds: TierThresholds,
              now: datetime) -> tuple[dict[str, Any], Tier]:
    """The order's locator entry as yesterday's pass left it, and the tier it goes to today."""
    entry = new_entry(document, tier=Tier.HOT, location=names.hot.orders)
    yesterday = decide_tier(facts_of(entry), thresholds, now - timedelta(days=1))
    if yesterday is Tier.WARM:
        entry.update(tier=str(Tier.WARM), location=names.warm_index("orders", entry["created_month"]))
    elif yesterday is Tier.COLD:
        entry.update(tier=str(Tier.COLD), location=f"orders/{entry['created_month']}/part-steady.parquet", row_group=0)
    return entry, decide_tier(facts_of(entry), thresholds, now)


def _stream(names: TierNames, cold: ColdStore, orders: int, now: datetime,
            thresholds: TierThresholds) -> Iterator[dict[str, Any]]:
    """Bulk actions: every locator entry, hot documents, today's movers' source copies."""
    base = templates(now)
    due_cold: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for n in range(orders):
        document = clone(base[n % len(base)], n, orders=orders, now=now)
        entry, today = placement(document, names, thresholds, now)
        if entry["tier"] == Tier.COLD and today is not Tier.COLD:
            due_cold.append((entry, document))
            continue
        if entry["tier"] == Tier.HOT or today is not Tier(entry["tier"]):
            index = names.hot.orders_write if entry["tier"] == Tier.HOT else entry["location"]
            yield {"_op_type": "index", "_index": index, "_id": document["order_id"], "_source": document}
        yield {"_op_type": "index", "_index": names.locator, "_id": document["order_id"], "_source": entry}
    for month, group in itertools.groupby(due_cold, key=lambda pair: pair[0]["created_month"]):
        rows = list(group)
        part = cold.write_part(month, (ColdRow(d["order_id"], (d.get("identity_keys") or [""])[0], d["placed_at"],
                                               d, []) for _, d in rows))
        for entry, _ in rows:
            assert part is not None
            entry.update(location=part.path, row_group=part.row_groups[entry["order_id"]])
            yield {"_op_type": "index", "_index": names.locator, "_id": entry["order_id"], "_source": entry}


def load(engine: SearchEngine, names: TierNames, cold: ColdStore, *, orders: int,
         thresholds: TierThresholds, now: datetime) -> dict[str, Any]:
    started = time.perf_counter()
    for month in sorted({(now - timedelta(days=d)).strftime("%Y.%m") for d in range(DAYS + 2)}):
        for family in ("orders", "order-events"):
            ensure_warm_index(engine, names.warm_index(family, month))
    bulk_started = time.perf_counter()
    engine.request("PUT", f"/{names.locator}/_settings", body={"index.refresh_interval": "-1"})  # bulk load
    failed = sum(1 for item in engine.bulk(_stream(names, cold, orders, now, thresholds), chunk_size=5000)
                 if not item.ok)
    engine.request("PUT", f"/{names.locator}/_settings", body={"index.refresh_interval": None})
    bulk_seconds = time.perf_counter() - bulk_started
    engine.refresh(f"{names.prefix}-*")
    for index in sorted(row["index"] for row in engine.request(
            "GET", f"/_cat/indices/{names.prefix}-*-warm-*", params={"format": "json", "h": "index"})):
        seal(engine, index)  # a steady-state warm month is sealed
    tiers = engine.search(names.locator, {"size": 0, "aggs": {"t": {"terms": {"field": "tier"}}}})
    return {"load_seconds": round(time.perf_counter() - started, 1), "bulk_seconds": round(bulk_seconds, 1),
            "load_failures": failed,
            "tiers_before": {b["key"]: b["doc_count"] for b in tiers["aggregations"]["t"]["buckets"]}}


def rss_mb() -> float:
    """This process's resident memory now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_profile(samples: list[tuple[float, int]], *, page: int) -> dict[str, Any]:
    """Resident memory after each locator page, with the number of orders that page moved.

    A streamed pass holds one page and one move batch at a time, so what it examines must not
    make it grow: `rss_mb_per_100k_examined` is the growth over the pages that moved nothing
    (their increments summed, per 100,000 orders) after the first `WARM_UP_PAGES` (the first
    responses size the allocator's arenas and the client's buffers: a few MB, once), apart
    from the steps of the pages that moved orders (`rss_mb_step_on_move_pages`: the batch's
    documents and the first Arrow and Parquet buffers, bounded by `MOVE_BATCH`, not by the
    store)."""
    if len(samples) < 2:
        return {"pages": len(samples)}
    steps = [(rss - before, moved) for (before, _), (rss, moved) in zip(samples, samples[1:])]
    scanned = [step for step, moved in steps[WARM_UP_PAGES:] if not moved]
    rss = [value for value, _ in samples]
    stride = max(1, len(samples) // 10)
    return {"pages": len(samples), "pages_with_moves": sum(1 for _, moved in samples if moved),
            "rss_mb_first_page": round(rss[0], 1), "rss_mb_after_warm_up": round(rss[min(WARM_UP_PAGES, len(rss) - 1)], 1), "rss_mb_last_page": round(rss[-1], 1),
            "rss_mb_max": round(max(rss), 1),
            "rss_mb_per_100k_examined": round(sum(scanned) / (len(scanned) * page) * 100_000, 2) if scanned else None,
            "rss_mb_step_on_move_pages": round(sum(step for step, moved in steps if moved), 1),
            "rss_mb_every_tenth_page": [round(value, 1) for value in rss[::stride]]}


def run_pass(settings: Settings, now: datetime) -> dict[str, Any]:
    """One pass (in this process): report, wall and CPU time, this process's peak RSS and its
    resident memory page by page (the pass is streamed: it must not grow with the store).

    The pass decides at the instant the store was built for (`now` of the load): decided at
    the wall clock, the orders that became due during the load (about N/400 per day of load
    time) would find no source copy, since the loader writes one only for today's movers."""
    import resource

    engine = connect_engine(settings)
    mover = build_mover(settings, engine, cold=_cold(settings))
    mover.clock = lambda: now
    samples: list[tuple[float, int]] = []
    before = rss_mb()
    started, started_cpu = time.perf_counter(), time.process_time()
    report = mover.run_pass(progress=lambda moved: samples.append((rss_mb(), moved)))
    return {**report.as_dict(), "wall_seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - started_cpu, 1), "rss_mb_before_pass": round(before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "memory": memory_profile(samples, page=PAGE)}


def drop_prefix(engine: SearchEngine, prefix: str) -> None:
    """Remove a scratch prefix: its indices, index templates and component templates."""
    for row in engine.request("GET", f"/_cat/indices/{prefix}-*", params={"format": "json", "h": "index"}):
        engine.delete_index(row["index"])
    for kind, key in (("_index_template", "index_templates"), ("_component_template", "component_templates")):
        for template in engine.request("GET", f"/{kind}/{prefix}-*").get(key, []):
            engine.request("DELETE", f"/{kind}/{template['name']}")


def _scratch(settings: Settings, prefix: str, cold_root: str) -> Settings:
    return settings.model_copy(update={"index_prefix": prefix,
                                       "tier": settings.tier.model_copy(update={"cold_path": cold_root})})


def _cold(settings: Settings) -> ColdStore:
    return ColdStore(f"{settings.resolved_cold_path()}/{settings.index_prefix}", codec=TypedOrderCodec(),
                     row_group_rows=settings.tier.cold_row_group_rows)


def retention_pass(settings: Settings, *, orders: int) -> dict[str, Any]:
    """Load a steady-state store of `orders` orders, run one pass in a fresh process, clean up."""
    prefix = f"tierpass{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="tier-pass-") as cold_root:
        settings = _scratch(settings, prefix, cold_root)
        engine = connect_engine(settings)
        names = TierNames(prefix)
        install(engine, names.hot)
        install_tier_storage(engine, names)
        try:
            now = datetime.now(UTC)
            result: dict[str, Any] = {"orders": orders, **load(engine, names, _cold(settings), orders=orders,
                                                               thresholds=thresholds_from(settings.tier), now=now)}
            child = subprocess.run([sys.executable, "-m", "bench.tier_pass_bench", prefix, cold_root, now.isoformat()],
                                   check=True, capture_output=True, text=True)
            result["pass"] = json.loads(child.stdout.strip().splitlines()[-1])
            result["checks"] = tier_pass_checks(result)
        finally:
            drop_prefix(engine, prefix)
            engine.close()
    return result


if __name__ == "__main__":
    print(json.dumps(run_pass(_scratch(Settings(), sys.argv[1], sys.argv[2]), datetime.fromisoformat(sys.argv[3]))))
