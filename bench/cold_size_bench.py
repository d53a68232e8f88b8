"""`python -m bench.cold_size_bench --orders N [N ...]`: hot, warm and cold bytes per order at
the issue's sizes (100,000 and 1,000,000 orders), where moving every order through the mover
would take hours.

Hot: the sample traffic's final documents for N orders, made once by the worker's own decoders,
merge and write plans and kept in a file cache outside the repository (`bench.doc_cache`), then
sent by the raw bulk path into a scratch prefix; measured as `bench.tier_bench` measures it
(primary store of the orders and order-events indices after a refresh, a force merge to one
segment and a flush), over every order.
Warm and cold: every closed order (what a pass with all idle thresholds at 0 moves; open orders
stay hot), streamed through the mover's own source read, warm write and cold writer
(`bench.tier_size_stream`): warm months sealed as a pass seals them, one cold part per creation
month of at most `cold_sweep.COMPACT_ROWS` rows (the layout the cold sweep's compaction leaves;
compaction copies Arrow rows as they are, so the bytes are those of a part written whole).
Results: printed with target, ratio and verdict, each step's wall and CPU seconds and the peak
RSS, saved under bench/results/ (git-ignored). The scratch prefix and the Parquet files are
removed afterwards (`--keep` keeps the prefix and prints it; `--reuse PREFIX` measures an
already loaded prefix again).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from adapters.cold_store import ColdStore
from adapters.engine_settings import connect_engine
from adapters.search_engine import SearchEngine
from bench import doc_cache
from bench.measure import machine, save_result
from bench.targets import cold_size_checks
from bench.tier_bench import merged_bytes, per_order
from bench.tier_pass_bench import drop_prefix
from bench.tier_size_stream import Scratch, TierSizeWriter, closed_orders, month_parts
from index_templates import install
from retention.storage import TierNames, install_tier_storage
from settings import Settings

ENGINE_TIMEOUT_S = 900.0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _children() -> tuple[float, float]:
    """CPU seconds of the ended child processes (writer workers), and their largest peak RSS."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime, round(used.ru_maxrss / 1024, 1)


@contextmanager
def step(steps: dict[str, Any], name: str) -> Iterator[None]:
    """Records one step's wall and CPU seconds (this process and its workers) and the peak RSS at its end."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children()[0]
    yield
    steps[name] = {"wall_seconds": round(time.perf_counter() - wall, 1),
                   "cpu_seconds": round(time.process_time() - cpu + _children()[0] - children, 1),
                   "peak_rss_mb": peak_rss_mb(), "workers_peak_rss_mb": _children()[1]}
    print(f"{name}: {steps[name]}", flush=True)


def per_order_ratio(tier: dict[str, Any], hot: dict[str, Any]) -> dict[str, float]:
    """A tier's bytes per order over hot's, as a fraction and as "1/x"."""
    return {"over_hot": round(tier["bytes_per_order"] / hot["bytes_per_order"], 4),
            "hot_over": round(hot["bytes_per_order"] / tier["bytes_per_order"], 1)}


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


def measure(settings: Settings, engine: SearchEngine, names: TierNames, cold_root: Path,
            steps: dict[str, Any], *, workers: int = 1) -> dict[str, Any]:
    """Hot, warm and cold bytes per order of the orders loaded under `names`."""
    with step(steps, "hot_force_merge"):
        hot = per_order(merged_bytes(engine, f"{names.hot.orders},{names.hot.events}"), engine.count(names.hot.orders))
    scratch = Scratch(settings, str(cold_root))
    writer = TierSizeWriter(scratch.copies(engine))
    cold = writer.copies.cold
    with step(steps, "warm_and_cold_write"):
        writer.write_all(month_parts(closed_orders(engine, names.hot.orders)), scratch=scratch, workers=workers)
    with step(steps, "warm_seal"):
        warm_sizes = merged_bytes(engine, ",".join(writer.finish()))
    warm = per_order(warm_sizes, engine.count(names.warm_alias("orders")))
    result = {"hot": hot, "warm": warm,
              "cold": {**per_order(writer.parts, writer.orders), "parts": len(writer.parts),
                       "row_group_rows": cold.row_group_rows, "compression_level": cold.compression_level,
                       "cpu_seconds_by_stage": {k: round(v, 1) for k, v in writer.cpu.items()},
                       "column_bytes_per_order": leaf_bytes(cold, list(writer.parts), writer.orders)}}
    warm_ratio, cold_ratio = per_order_ratio(warm, hot), per_order_ratio(result["cold"], hot)
    result["ratios"] = {"warm_over_hot": warm_ratio["over_hot"], "hot_over_warm": warm_ratio["hot_over"],
                        "cold_over_hot": cold_ratio["over_hot"], "hot_over_cold": cold_ratio["hot_over"]}
    return result


def load(settings: Settings, engine: SearchEngine, names: TierNames, *, orders: int, seed: int,
         steps: dict[str, Any]) -> dict[str, Any]:
    """Hot: the cached final documents (built first if missing), raw bulk, refresh off meanwhile."""
    with step(steps, "documents"):
        cache = doc_cache.build(settings, orders=orders, seed=seed)
    with step(steps, "hot_bulk"):
        sent = doc_cache.bulk_load(settings, engine, cache=cache["cache"], target=names.hot)
    return {"orders": orders, **cache, **sent, "loaded_by": "raw bulk of the cached documents"}


def run(settings: Settings, *, orders: int, seed: int, cold_root: Path, reuse: str | None = None,
        keep: bool = False, workers: int = 1) -> dict[str, Any]:
    prefix = reuse or f"coldsize{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"index_prefix": prefix})
    engine, names = connect_engine(scoped), TierNames(prefix)
    steps: dict[str, Any] = {}
    result: dict[str, Any] = {"orders_requested": orders, "prefix": prefix, "workers": workers, "steps": steps}
    try:
        if reuse is None:
            install(engine, names.hot)
            install_tier_storage(engine, names)
            result["data"] = load(scoped, engine, names, orders=orders, seed=seed, steps=steps)
        result.update(measure(scoped, engine, names, cold_root, steps, workers=workers))
    finally:
        if not keep and reuse is None:
            drop_prefix(engine, prefix)
        engine.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str] | None = None, *, save: Callable[[str, dict[str, Any]], Any] = save_result) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reuse", help="measure this already loaded scratch prefix (one --orders figure)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch prefix (for --reuse)")
    parser.add_argument("--workers", type=int, default=1, help="processes writing warm and cold parts")
    args = parser.parse_args(argv)
    settings = Settings()  # cluster-state changes and force merges wait long on a loaded machine
    settings = settings.model_copy(update={"engine_timeout_s": max(settings.engine_timeout_s, ENGINE_TIMEOUT_S)})
    sizes = []
    for orders in args.orders:
        with tempfile.TemporaryDirectory(prefix="cold-size-") as scratch:
            sizes.append(run(settings, orders=orders, seed=args.seed, cold_root=Path(scratch),
                             reuse=args.reuse, keep=args.keep, workers=args.workers))
    result = {"machine": machine(), "engine": settings.resolved_engine_url(), "sizes": sizes,
              "peak_rss_mb": peak_rss_mb()}
    result["checks"] = cold_size_checks(sizes)
    save("cold-size", result)
    return result


if __name__ == "__main__":
    main()
