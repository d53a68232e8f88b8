"""`python -m bench [--quick | --full]`: every measurement side by side, saved under bench/results/<stamp>/.

Quick set (the default): 100,000 orders. Full set (--full): 100,000, 1,000,000 and 3,000,000
orders; `--size N` (repeatable) runs only those sizes, so the full set can run one point at a
time. From `--direct-load-from` orders on (3,000,000 by default) the data is not ingested through
Kafka: the worker's own documents come from the document cache (`bench.doc_cache`, built or
resumed first, ahead of time with `python -m bench.doc_cache --orders N --seed S`) by raw bulk,
and only read, disk and latency figures are measured at that size. Every figure is saved with
its target, ratio and verdict (`bench.targets`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from bench.api_cpu import measure_api_cpu
from bench import doc_cache
from bench.engine_warmup import warm_engine
from bench.freshness_bench import index_cost, measure_freshness, print_levels
from bench.ingest_bench import (
    disk_per_1000_orders,
    iter_documents,
    publish,
    raw_bulk_limit,
    run_pipeline,
    scoped_env,
)
from bench.measure import machine
from bench.profile import profile_ingest
from bench.query_bench import random_orders, sample_inputs
from bench.query_bench import SECRET
from bench.query_phase import measure_queries
from bench.report import write_report
from bench.search_cost import engine_costs
from bench.targets import checks_of, tier_checks
from local_stack import stack
from adapters.kafka_bus import delete_topics
from orderrepo.bootstrap import connect_engine, index_names, prepare_storage, topic_map
from orderrepo.traffic import sample_messages
from settings import Settings, get_settings

app = typer.Typer(add_completion=False)
RESULTS = Path(__file__).resolve().parent / "results"
FULL_SIZES = (1_000_000, 3_000_000)


def _say(text: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def _scoped(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"index_prefix": name, "topic_prefix": name, "consumer_group": f"{name}-g"})


def _orders(engine: Any, alias: str) -> Iterator[dict[str, Any]]:
    """Streams stored orders (bounded memory at any data size)."""
    for page in iter_documents(engine, alias, "order_id"):
        for _, source in page:
            yield source


def _timeline_rows(engine: Any, alias: str) -> Iterator[tuple]:
    for page in iter_documents(engine, alias, "entry_id"):
        for _, s in page:
            yield (s["order_id"], datetime.fromisoformat(s["occurred_at"]), s.get("channel"), s["kind"],
                   s.get("status_after"))


def _drop(settings: Settings, engine: Any) -> None:
    """Free the disk and heap a finished size used, so the next size starts on an empty engine."""
    for index in engine.request("GET", f"/{settings.index_prefix}-*"):
        engine.delete_index(index)
    delete_topics(settings.resolved_kafka_servers(), topic_map(settings).all_topics())


def run_size(settings: Settings, orders: int, *, seed: int, per_level: int, postgres: bool,
             freshness_seconds: float, processes: int, profile_to: Path | None, keep: bool,
             direct: bool = False, result: dict[str, Any] | None = None,
             checkpoint: Callable[[], None] = lambda: None, phased: bool = False) -> dict[str, Any]:
    """Fills `result` phase by phase and calls `checkpoint` after each: a run stopped half-way
    keeps the figures it measured."""
    engine = connect_engine(settings)
    scoped = _scoped(settings, f"bench{orders}-{int(time.time())}")
    try:
        return _measure_size(settings, scoped, engine, orders, seed=seed, per_level=per_level, postgres=postgres,
                             freshness_seconds=0 if direct else freshness_seconds, processes=processes,
                             profile_to=profile_to, direct=direct, phased=phased,
                             result=result if result is not None else {"orders": orders}, checkpoint=checkpoint)
    finally:
        if not keep:
            _drop(scoped, engine)


def _ingest(scoped: Settings, engine: Any, orders: int, *, seed: int, processes: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    _say(f"{orders:,} orders: publishing sample traffic")
    result["data"] = publish(scoped, orders, seed)
    _say(f"ingest pipeline ({processes} worker processes, Kafka -> engine)")
    result["pipeline"] = run_pipeline(scoped, processes)
    _say(f"pipeline: {result['pipeline']['records_per_s']:,} records/s, "
         f"{result['pipeline']['cpu_us_per_event']} µs worker CPU per event; raw bulk limit next")
    result["raw_bulk"] = raw_bulk_limit(scoped, engine, chunk_sizes=(1000, 5000) if orders < 500_000 else (5000,))
    result["pipeline_vs_raw"] = round(result["raw_bulk"]["seconds"] / result["pipeline"]["seconds"], 3)
    return result


def _load_cached(scoped: Settings, engine: Any, orders: int, *, seed: int) -> dict[str, Any]:
    """A direct size's data: the document cache (built, or the chunks still missing, first) sent by
    raw bulk; read figures only at this size."""
    _say(f"{orders:,} orders: document cache (python -m bench.doc_cache builds it ahead; resumable)")
    cache = doc_cache.build(scoped, orders=orders, seed=seed)
    if cache["built"]:
        _say(f"cache built in {cache['build']['seconds']:,} s, {cache['build']['cpu_ms_per_order']} ms CPU per order "
             f"({cache['workers']} processes), {cache['bytes_per_order']:,} bytes per order")
    held = doc_cache.summary(cache["cache"])
    if "messages" not in held:  # a cache of the first format noted nothing: count the traffic again
        held["messages"] = sum(1 for _ in sample_messages(orders=orders, seed=seed, faults=False))
    _say("raw bulk of the cached documents (no Kafka: read figures only at this size)")
    sent = doc_cache.bulk_load(scoped, engine, cache=cache["cache"], target=index_names(scoped))
    _say(f"loaded {sent['documents']:,} documents in {sent['bulk_seconds']:,} s ({sent['docs_per_s']:,} docs/s)")
    return {"orders": orders, **held, "cache": cache, "load_seconds": sent["bulk_seconds"],
            "docs_per_s": sent["docs_per_s"], "loaded_by": "raw bulk of the cached documents"}


def _measure_size(settings: Settings, scoped: Settings, engine: Any, orders: int, *, seed: int, per_level: int,
                  postgres: bool, freshness_seconds: float, processes: int,
                  profile_to: Path | None, direct: bool, phased: bool, result: dict[str, Any],
                  checkpoint: Callable[[], None]) -> dict[str, Any]:
    prepare_storage(scoped, engine)
    if direct:
        result["data"] = _load_cached(scoped, engine, orders, seed=seed)
    else:
        result |= _ingest(scoped, engine, orders, seed=seed, processes=processes)
    checkpoint()
    result["disk"] = disk_per_1000_orders(scoped, engine)
    names = index_names(scoped)
    inputs = sample_inputs(random_orders(engine, names.orders))
    levels = (1, 8, 32)
    _say("query latency: API, engine" + (", PostgreSQL via the API and directly" if postgres else "")
         + ", interleaved")
    source = (lambda: (_orders(engine, names.orders), _timeline_rows(engine, names.events))) if postgres else None
    result |= measure_queries(scoped, inputs, levels=levels, per_level=per_level, postgres=source, phased=phased)
    checkpoint()
    _say("engine cost of each search clause and of the sales aggregation (profile API)")
    result["search_cost"] = engine_costs(engine, scoped, inputs.search_texts[:60])
    checkpoint()
    _say("API CPU per request kind (in-process, process CPU time)")
    result["api_cpu"] = measure_api_cpu(scoped, inputs, secret=SECRET)
    checkpoint()
    if freshness_seconds:
        _say("freshness at 25/50/90% of the sustained rate")
        fresh = _scoped(settings, f"fresh{orders}-{int(time.time())}")
        try:
            result["freshness"] = measure_freshness(fresh, engine, max_rate=result["pipeline"]["records_per_s"],
                                                    processes=processes, seconds=freshness_seconds)
            print_levels(result["freshness"])  # where each level's lag went, stage by stage
            result["freshness_engine_cost"] = index_cost(engine, fresh)  # what the hot refresh costs the engine
        finally:
            _drop(fresh, engine)
    if profile_to is not None and not direct:
        _say("profile of one ingest worker (py-spy, 3,000 orders)")
        sampled = _scoped(settings, f"profile{orders}-{int(time.time())}")
        try:
            result["profile"] = profile_ingest(sampled, profile_to)
        finally:
            _drop(sampled, engine)
    return result


@app.command()
def main(
    full: bool = typer.Option(False, "--full/--quick",
                              help="also 1,000,000 and 3,000,000 orders (about 4 and 12 million change events)"),
    orders: int = typer.Option(100_000, help="size of the quick set"),
    direct_load_from: int = typer.Option(3_000_000, help="from this size on, load without Kafka (read figures only)"),
    seed: int = typer.Option(42),
    per_level: int = typer.Option(300, help="requests per query type and concurrency level"),
    postgres: bool = typer.Option(True, help="include the PostgreSQL baseline"),
    phased: bool = typer.Option(False, help="also measure the queries the older way (a phase per side), "
                                "beside the interleaved figures, for comparison"),
    freshness_seconds: float = typer.Option(20.0, help="seconds per freshness level (0 = skip)"),
    ingest_processes: int = typer.Option(os.cpu_count() or 1, min=1, help="ingest worker processes [default: cores]"),
    profile: bool = typer.Option(True, help="py-spy profile of one ingest worker (first size only)"),
    tier_orders: int = typer.Option(20_000, help="orders for the tier figures (bench.tier_bench; 0 = skip)"),
    keep: bool = typer.Option(False, help="keep the benchmark's indices and topics afterwards"),
    size: list[int] = typer.Option([], help="run only this size (repeat for several), e.g. one point of the "
                                   "full set at a time: --size 1000000; each run saves its own results dir"),
    engine_warmup_seconds: float = typer.Option(120.0, help="seconds of raw bulk load on scratch indices before "
                                                "the first timed phase (a just-started node is several times slower)"),
) -> None:
    settings = get_settings()
    stack.up(settings, report=_say)
    started = time.time()
    out = RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    sizes = size or [orders] + ([point for point in FULL_SIZES if point != orders] if full else [])
    runs: list[dict[str, Any]] = []
    warmup: dict[str, Any] = {}
    if engine_warmup_seconds > 0:
        _say(f"engine warm-up: {engine_warmup_seconds:g} s of raw bulk on scratch indices (not measured)")
        warmup = warm_engine(_scoped(settings, f"benchwarmup{int(time.time())}"), connect_engine(settings),
                             seconds=engine_warmup_seconds, report=_say)
    for number, point in enumerate(sizes):
        runs.append({"orders": point} | ({"engine_warmup": warmup} if number == 0 and warmup else {}))
        run_size(settings, point, seed=seed, per_level=per_level, postgres=postgres,
                 freshness_seconds=freshness_seconds, processes=ingest_processes,
                 profile_to=out if profile and number == 0 else None, keep=keep, direct=point >= direct_load_from,
                 result=runs[-1], checkpoint=lambda: _save(settings, out, started, runs), phased=phased)
        _save(settings, out, started, runs)  # after every size: a later failure keeps what was measured
    if tier_orders:
        _say(f"tiers: hot, warm and cold bytes per order and cold lookups ({tier_orders:,} orders)")
        _save(settings, out, started, runs, tiers=_tiers(settings, tier_orders, seed))
    _say(f"saved {out}")


def _tiers(settings: Settings, orders: int, seed: int) -> dict[str, Any]:
    from bench.tier_bench import run as tier_run

    scoped = settings.model_copy(update={"index_prefix": f"tierbench{int(time.time())}"})
    with tempfile.TemporaryDirectory(prefix="tier-bench-") as scratch:
        skew = min(orders, 5_000) if orders >= 1000 else 0  # fewer orders leave no long tail to read
        return tier_run(scoped, orders=orders, skew_orders=skew, skew_reads=min(orders, 10_000), seed=seed,
                        cold_root=Path(scratch), skew_seeds=5)  # once per seed on fresh orders: the worst is checked


def _save(settings: Settings, out: Path, started: float, runs: list[dict[str, Any]],
          tiers: dict[str, Any] | None = None) -> None:
    for run in runs:
        run["checks"] = checks_of(run)
    payload = {"machine": machine(), "engine": connect_engine(settings).info.__dict__ | {"kind": "opensearch"},
               "seconds": round(time.time() - started, 1), "runs": runs}
    if tiers is not None:
        payload["tiers"] = tiers | {"checks": tier_checks(tiers)}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    print(write_report(payload, out))


if __name__ == "__main__":
    app()
