"""`python -m bench.cold_size_bench --orders N [N ...]`: hot vs cold bytes per order at sizes
where moving every order through the mover would take hours (the issue's 100,000 and
1,000,000 orders).

Hot: the sample traffic's final documents loaded without Kafka (`bench.direct_load`: the
ingest decoders, merge and write plans of the worker) into a scratch prefix, measured as
`bench.tier_bench` measures it (primary store of the orders and order-events indices after
a refresh, a force merge to one segment and a flush), over every order.
Cold: every closed order (what a pass with all idle thresholds at 0 moves; open orders stay
hot) read back by the mover's own source read (`TierCopies.read`: the hot document, its
timeline, the derivation) and written by the mover's own cold writer (`TierCopies.write_cold`
-> `ColdStore.write_part_at` -> `TypedOrderCodec.encode`), one part per creation month of at
most `cold_sweep.COMPACT_ROWS` rows: the layout a pass followed by the cold sweep's compaction
leaves (compaction copies Arrow rows as they are, so the bytes are those of a part written
whole). What is skipped is the journal and the locator flips, which store nothing in Parquet.
Results: printed with target, ratio and verdict, and saved under bench/results/ (git-ignored).
The scratch prefix and the Parquet files are removed afterwards (`--keep` keeps the prefix and
prints it; `--reuse PREFIX` measures an already loaded prefix again).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from adapters.cold_store import ColdStore
from adapters.engine_settings import connect_engine
from adapters.search_engine import SearchEngine
from bench.direct_load import direct_load
from bench.measure import machine, save_result
from bench.targets import cold_size_checks
from bench.tier_bench import merged_bytes, per_order
from bench.tier_pass_bench import drop_prefix
from index_templates import install
from order_domain.tier_policy import Tier
from retention.cold_codec import TypedOrderCodec
from retention.cold_sweep import COMPACT_ROWS
from retention.copies import TierCopies
from retention.locator import order_fields
from retention.storage import TierNames, install_tier_storage
from settings import Settings

READ_BATCH = 1000  # orders per source read (one mget and one timeline search)


def closed_orders_by_month(engine: SearchEngine, index: str) -> dict[str, list[str]]:
    """Ids of the closed orders of `index`, by creation month (the locator's own rule)."""
    months: dict[str, list[str]] = defaultdict(list)
    body: dict[str, Any] = {"size": 5000, "sort": [{"order_id": "asc"}],
                            "_source": ["order_id", "placed_at", "updated_at", "indexed_at", "status", "search"]}
    while True:
        hits = engine.search(index, body)["hits"]["hits"]
        for hit in hits:
            fields = order_fields(hit["_source"])
            if fields["closed"]:
                months[fields["created_month"]].append(fields["order_id"])
        if len(hits) < body["size"]:
            return months
        body["search_after"] = hits[-1]["sort"]


def _chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def write_cold(copies: TierCopies, source: str, months: dict[str, list[str]]) -> dict[str, Any]:
    """Every listed order into cold parts of up to COMPACT_ROWS rows per month; sizes and CPU time."""
    parts: dict[str, int] = {}
    started = time.process_time()
    for month, ids in sorted(months.items()):
        for part_ids in _chunks(ids, COMPACT_ROWS):
            read = [copy for batch in _chunks(part_ids, READ_BATCH)
                    for copy in copies.read(Tier.HOT, source, dict.fromkeys(batch)).values()]
            written = copies.write_cold(copies.cold.new_part_path(month), read)
            if written is not None:
                parts[written.path] = written.bytes
    return {"parts": parts, "cpu_seconds": round(time.process_time() - started, 1)}


def leaf_bytes(cold: ColdStore, parts: list[str], orders: int) -> dict[str, float]:
    """Compressed bytes per order of every leaf column (events' fields one by one), largest first."""
    sizes: dict[str, int] = defaultdict(int)
    for part in parts:
        meta = pq.ParquetFile(f"{cold.root}/{part}").metadata  # the bench writes parts locally
        for group in range(meta.num_row_groups):
            for column in range(meta.num_columns):
                chunk = meta.row_group(group).column(column)
                name = chunk.path_in_schema.replace(".list.element", "").replace(".list.item", "")
                sizes[name] += chunk.total_compressed_size
    return {name: round(size / orders, 1) for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])
            if size / orders >= 0.5}


def measure(settings: Settings, engine: SearchEngine, names: TierNames, cold_root: Path) -> dict[str, Any]:
    """Hot and cold bytes per order of the orders loaded under `names`."""
    hot_sizes = merged_bytes(engine, f"{names.hot.orders},{names.hot.events}")
    hot = per_order(hot_sizes, engine.count(names.hot.orders))
    cold = ColdStore(str(cold_root / names.prefix), codec=TypedOrderCodec(),
                     row_group_rows=settings.tier.cold_row_group_rows)
    copies = TierCopies(engine, names, cold)
    months = closed_orders_by_month(engine, names.hot.orders)
    written = write_cold(copies, names.hot.orders, months)
    moved = sum(len(ids) for ids in months.values())
    result = {"hot": hot, "cold": {**per_order(written["parts"], moved), "parts": len(written["parts"]),
                                   "row_group_rows": cold.row_group_rows, "compression_level": cold.compression_level,
                                   "encode_cpu_seconds": written["cpu_seconds"],
                                   "column_bytes_per_order": leaf_bytes(cold, list(written["parts"]), moved)}}
    result["ratios"] = {"cold_over_hot": round(result["cold"]["bytes_per_order"] / hot["bytes_per_order"], 4),
                        "hot_over_cold": round(hot["bytes_per_order"] / result["cold"]["bytes_per_order"], 1)}
    return result


def run(settings: Settings, *, orders: int, seed: int, cold_root: Path, reuse: str | None = None,
        keep: bool = False) -> dict[str, Any]:
    prefix = reuse or f"coldsize{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"index_prefix": prefix})
    engine, names = connect_engine(scoped), TierNames(prefix)
    result: dict[str, Any] = {"orders_requested": orders, "prefix": prefix}
    try:
        if reuse is None:
            install(engine, names.hot)
            install_tier_storage(engine, names)
            result["data"] = direct_load(scoped, engine, orders, seed)
        result.update(measure(scoped, engine, names, cold_root))
    finally:
        if not keep and reuse is None:
            drop_prefix(engine, prefix)
        engine.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reuse", help="measure this already loaded scratch prefix (one --orders figure)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch prefix (for --reuse)")
    args = parser.parse_args()
    settings = Settings()
    sizes = []
    for orders in args.orders:
        with tempfile.TemporaryDirectory(prefix="cold-size-") as scratch:
            sizes.append(run(settings, orders=orders, seed=args.seed, cold_root=Path(scratch),
                             reuse=args.reuse, keep=args.keep))
    result = {"machine": machine(), "engine": settings.resolved_engine_url(), "sizes": sizes,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    save_result("cold-size", {**result, "checks": cold_size_checks(sizes)})


if __name__ == "__main__":
    main()
