"""`python -m bench.tier_bench [--orders N] [--skew-orders N] [--skew-reads N]`: hot vs warm vs
cold bytes per order, cold lookups, rehydration, retention pass time and the skewed read
workload (`--skew-seeds N`: once per seed, the targets checked on the worst), side by side in one run on the
configured engine (`--pass-only`: the retention pass over a large store, `bench.tier_pass_bench`;
`--skew-only`: the skewed workload alone).

Orders are sample traffic (every channel, 400 days of history) decoded and written by the
real ingest writer into a scratch prefix; the same orders are then moved, all of them,
hot -> warm -> cold by the real mover (open orders stay hot: the policy never moves them).
Bytes per order, the same way for every tier: the bytes of the tier's whole copy of the
orders it holds, divided by those orders; for hot and warm that is the primary store size
of the orders index plus the timeline (order-events) index, after a refresh, a flush and a
force merge to one segment (so the comparison is codec and mapping, not merge luck; locator
and tombstones, the same for every tier, are not counted); for cold the Parquet files. The
skewed workload (`bench.tier_workload`) runs on a second scratch prefix loaded the same way.
Cold lookups, mixed-tier histories and rehydration: `bench.tier_latency`. Results: printed, and saved as JSON under bench/results/
(git-ignored). The scratch prefixes are removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from adapters.cold_store import ColdStore
from adapters.search_engine import SearchEngine
from bench.measure import machine, save_result
from bench.targets import tier_checks, tier_workload_checks
from bench.tier_latency import cold_latency
from bench.tier_pass_bench import drop_prefix, retention_pass
from bench.tier_workload import skewed_workload, spread
from index_templates import IndexNames, install
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.topics import CHANNEL_FORMATS
from ingest.writer import OrderStoreWriter
from order_domain.model import OrderChange
from order_domain.tier_policy import TierThresholds
from adapters.engine_settings import connect_engine
from retention.cold_codec import TypedOrderCodec
from retention.config import thresholds_from
from retention.copies import TierCopies
from retention.mover import Mover
from retention.report import hot_bytes
from retention.storage import TierNames, install_tier_storage, warm_indices
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


def merged_bytes(engine: SearchEngine, indices: str) -> dict[str, int]:
    """Primary store bytes per index after a refresh, a force merge to one segment and a flush."""
    engine.refresh(indices)
    engine.request("POST", f"/{indices}/_forcemerge", params={"max_num_segments": 1, "request_timeout": 3600})
    engine.refresh(indices)
    engine.request("POST", f"/{indices}/_flush")
    rows = engine.request("GET", f"/_cat/indices/{indices}", params={"format": "json", "bytes": "b",
                                                                     "h": "index,pri.store.size"})
    return {row["index"]: int(row["pri.store.size"] or 0) for row in rows}


def per_order(sizes: dict[str, int], orders: int) -> dict[str, Any]:
    """Bytes of one tier's copy: total, per order, and the timeline's share."""
    total = sum(sizes.values())
    timeline = sum(size for index, size in sizes.items() if "-order-events-" in index)
    return {"orders": orders, "bytes": total, "bytes_per_order": round(total / orders, 1),
            "timeline_bytes_per_order": round(timeline / orders, 1)}


def column_bytes(cold: ColdStore, parts: list[str], orders: int) -> dict[str, float]:
    """Compressed bytes per order of each top-level cold column (from the parts' footers)."""
    sizes: dict[str, int] = {}
    for part in parts:
        meta = pq.ParquetFile(f"{cold.root}/{part}").metadata  # the bench writes parts locally
        for group in range(meta.num_row_groups):
            for column in range(meta.num_columns):
                chunk = meta.row_group(group).column(column)
                top = chunk.path_in_schema.split(".")[0]
                sizes[top] = sizes.get(top, 0) + chunk.total_compressed_size
    return {name: round(size / orders, 1) for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])}


def timed_pass(mover: Mover) -> dict[str, Any]:
    """The pass's report, wall time and this process's CPU time (wall is an upper bound on a
    shared machine), and its speed in orders moved per second of each."""
    started, started_cpu = time.perf_counter(), time.process_time()
    report = mover.run_pass()
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    moved = sum(report.moved.values())
    return {**report.as_dict(), "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "moved_per_wall_second": round(moved / wall, 1) if wall else None,
            "moved_per_cpu_second": round(moved / cpu, 1) if cpu else None}


@dataclass(frozen=True)
class Scratch:
    """One scratch prefix: its engine, names, cold store and copies."""

    settings: Settings
    engine: SearchEngine
    names: TierNames
    cold: ColdStore
    copies: TierCopies

    @classmethod
    def open(cls, settings: Settings, prefix: str, cold_root: Path) -> Scratch:
        settings = settings.model_copy(update={"index_prefix": prefix})
        engine = connect_engine(settings)
        names = TierNames(prefix)
        install(engine, names.hot)
        install_tier_storage(engine, names)
        cold = ColdStore(str(cold_root / prefix), codec=TypedOrderCodec(),
                         row_group_rows=settings.tier.cold_row_group_rows)
        return cls(settings, engine, names, cold, TierCopies(engine, names, cold))

    def mover(self, thresholds: TierThresholds) -> Mover:
        return Mover(self.copies, thresholds, batch=self.settings.tier.move_batch)

    def drop(self) -> None:
        drop_prefix(self.engine, self.names.prefix)
        self.engine.close()


def storage(scratch: Scratch) -> dict[str, Any]:
    """All orders hot, then every closed order warm, then cold: bytes per order in each."""
    engine, names = scratch.engine, scratch.names
    result: dict[str, Any] = {"hot": per_order(merged_bytes(engine, f"{names.hot.orders},{names.hot.events}"),
                                               engine.count(names.hot.orders))}
    result["pass_to_warm"] = timed_pass(scratch.mover(ALL_WARM))
    result["warm"] = per_order(merged_bytes(engine, ",".join(warm_indices(engine, names))),
                               engine.count(names.warm_alias("orders")))
    result["warm"]["hot_bytes_left"] = hot_bytes(engine, names)
    result["pass_to_cold"] = timed_pass(scratch.mover(ALL_COLD))
    parts = scratch.cold.parts()
    cold_bytes = {part: scratch.cold.size_of(part) for part in parts}
    result["cold"] = {**per_order(cold_bytes, engine.count(names.locator, {"term": {"tier": "cold"}})),
                      "parts": len(parts), "row_group_rows": scratch.settings.tier.cold_row_group_rows}
    result["cold"]["column_bytes_per_order"] = column_bytes(scratch.cold, parts, result["cold"]["orders"])
    hot = result["hot"]["bytes_per_order"]
    result["ratios"] = {"warm_over_hot": round(result["warm"]["bytes_per_order"] / hot, 3),
                        "cold_over_hot": round(result["cold"]["bytes_per_order"] / hot, 4),
                        "hot_over_cold": round(hot / result["cold"]["bytes_per_order"], 1)}
    return result


def lookups(scratch: Scratch, seed: int) -> dict[str, Any]:
    return cold_latency(scratch.settings, scratch.names, scratch.cold, scratch.mover(ALL_COLD), seed=seed)


def skewed_seeds(settings: Settings, *, orders: int, reads: int, seeds: list[int], cold_root: Path,
                 bytes_per_order: dict[str, float] | None) -> dict[str, Any]:
    """The skewed workload once per seed, each on its own freshly loaded orders (a scratch prefix
    per seed): the first seed's full result, and the spread over all (`tier_workload.spread`)."""
    runs = []
    for seed in seeds:
        skew = Scratch.open(settings, f"tierskew{uuid.uuid4().hex[:8]}", cold_root)
        try:
            loaded = load(skew.engine, skew.names.prefix, orders, seed + 1)
            skew.engine.refresh(f"{skew.names.hot.orders},{skew.names.hot.events}")  # all of it, on a busy engine too
            skew.mover(thresholds_from(settings.tier)).locator.sync_from_hot()
            skew.engine.refresh(skew.names.locator)
            runs.append({"orders_requested": orders, "seed": seed, **loaded, **skewed_workload(
                skew.settings, skew.names, skew.cold, skew.mover(thresholds_from(settings.tier)),
                reads=reads, seed=seed, bytes_per_order=bytes_per_order)})
        finally:
            skew.drop()
    return {**runs[0], "spread": spread(runs)}


def run(settings: Settings, *, orders: int, skew_orders: int, skew_reads: int, seed: int,
        cold_root: Path, storage_only: bool = False, skew_seeds: int = 5, skew_only: bool = False) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    result: dict[str, Any] = {"orders_requested": 0 if skew_only else orders}
    scratch = None if skew_only else Scratch.open(settings, f"tierbench{tag}", cold_root)
    try:
        if scratch is not None:
            result.update(load(scratch.engine, scratch.names.prefix, orders, seed))
            result.update(storage(scratch))
            if not storage_only:
                result.update(lookups(scratch, seed))
    finally:
        if scratch is not None:
            scratch.drop()
    if skew_orders and not storage_only:
        result["skewed_workload"] = skewed_seeds(
            settings, orders=skew_orders, reads=skew_reads, seeds=[seed + i for i in range(skew_seeds)],
            cold_root=cold_root, bytes_per_order={
                tier: result[tier]["bytes_per_order"] for tier in ("hot", "warm", "cold") if tier in result})
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--skew-orders", type=int, default=10_000, help="orders of the skewed workload (0: skip)")
    parser.add_argument("--skew-reads", type=int, default=10_000, help="reads per phase of the skewed workload")
    parser.add_argument("--skew-seeds", type=int, default=5, help="seeds of the skewed workload (fresh orders each)")
    parser.add_argument("--pass-only", action="store_true", help="only the retention pass over --orders orders")
    parser.add_argument("--storage-only", action="store_true", help="only the bytes per order of each tier")
    parser.add_argument("--skew-only", action="store_true",
                        help="only the skewed workload over --skew-seeds seeds (no storage figures: no bytes at the end)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.pass_only:
        save_result("tier-pass", {"machine": machine(), **retention_pass(Settings(), orders=args.orders)})
        return
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="tier-bench-") as scratch:
        result = {"machine": machine(), "engine": settings.resolved_engine_url(),
                  **run(settings, orders=args.orders, skew_orders=args.skew_orders, skew_reads=args.skew_reads,
                        seed=args.seed, cold_root=Path(scratch), storage_only=args.storage_only,
                        skew_seeds=args.skew_seeds, skew_only=args.skew_only)}
    checks = [asdict(check) for check in tier_workload_checks(result)] if args.skew_only else tier_checks(result)
    save_result("tier", {**result, "checks": checks})


if __name__ == "__main__":
    main()
