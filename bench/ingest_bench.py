"""Ingest throughput (Kafka -> visible in the engine) against the raw bulk limit, in one run.

On its own (the pipeline only, e.g. to compare a setting by alternated runs; the full figures come from
`python -m bench`):

    ORDERREPO_HOT_REFRESH_INTERVAL=1s python -m bench.ingest_bench --orders 2000 --processes 2
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import typer

from adapters.kafka_bus import delete_topics
from adapters.search_engine import EngineError, SearchEngine
from bench.measure import Stopwatch, engine_cpu_seconds, machine, save_result, watch_peak_rss
from index_templates import IndexNames, install
from orderrepo.bootstrap import connect_engine, health_files, index_names, topic_map
from settings import Settings, get_settings
from orderrepo.traffic import publish_sample_traffic


def scoped_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "ORDERREPO_INDEX_PREFIX": settings.index_prefix,
            "ORDERREPO_TOPIC_PREFIX": settings.topic_prefix, "ORDERREPO_CONSUMER_GROUP": settings.consumer_group,
            "ORDERREPO_ENGINE_URL": settings.resolved_engine_url(),
            "ORDERREPO_KAFKA_BOOTSTRAP_SERVERS": settings.resolved_kafka_servers(), "ORDERREPO_LOG_LEVEL": "WARNING"}


@contextmanager
def scoped_run(settings: Settings, name: str) -> Iterator[tuple[Settings, SearchEngine]]:
    """Settings with their own indices, topics and group named `name`, and the engine; both dropped after."""
    scoped = settings.model_copy(update={"index_prefix": name, "topic_prefix": name, "consumer_group": f"{name}-g"})
    engine = connect_engine(scoped)
    try:
        yield scoped, engine
    finally:
        drop_scope(engine, name)
        delete_topics(scoped.resolved_kafka_servers(), topic_map(scoped).all_topics())


def drop_scope(engine: SearchEngine, prefix: str) -> None:
    """Every index and template named `prefix`-* (index templates first: they name the components)."""
    for index in engine.request("GET", f"/{prefix}-*"):
        engine.delete_index(index)
    for kind in ("_index_template", "_component_template"):
        try:
            engine.request("DELETE", f"/{kind}/{prefix}-*")
        except EngineError:  # none of that kind
            pass


def publish(settings: Settings, orders: int, seed: int) -> dict[str, Any]:
    with Stopwatch() as watch:
        messages = publish_sample_traffic(settings, orders=orders, seed=seed)
    return {"orders": orders, "messages": messages, "publish_seconds": round(watch.seconds, 2)}


def run_pipeline(settings: Settings, processes: int = 1) -> dict[str, Any]:
    """The real worker(s) as their own processes: time from the first batch to the last, and peak RSS."""
    engine_cpu = engine_cpu_seconds(settings.resolved_engine_url())
    worker = subprocess.Popen(
        [sys.executable, "-m", "orderrepo.cli", "ingest", "run", "--idle-exit", "5", "--processes", str(processes)],
        env=scoped_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = watch_peak_rss(worker)
    engine_cpu = engine_cpu_seconds(settings.resolved_engine_url()) - engine_cpu
    stats = [orjson.loads(path.read_bytes()) for path in health_files(settings.model_copy(
        update={"ingest_processes": processes}))]
    stats = [s for s in stats if s["first_progress_at"] is not None]  # a member may have had no partition
    seconds = max(s["last_progress_at"] for s in stats) - min(s["first_progress_at"] for s in stats)
    records = sum(s["records"] for s in stats)
    cpu = sum(s["cpu_at_last_batch"] - s["cpu_at_first_batch"] for s in stats)
    split = cpu_split(stats, records)
    print("worker CPU per event by stage (µs): " + ", ".join(f"{stage} {us}" for stage, us in split.items()))
    return {"processes": processes, "records": records, "changes": sum(s["changes"] for s in stats),
            "order_writes": sum(s["orders_written"] for s in stats),
            "timeline_entries": sum(s["timeline_written"] for s in stats), "seconds": round(seconds, 2),
            "records_per_s": round(records / seconds, 1), "peak_rss_mb": round(peak, 1),
            "worker_cpu_s": round(cpu, 2), "cpu_us_per_event": round(cpu / max(records, 1) * 1e6, 1),
            "cpu_us_per_event_by_stage": split,
            "engine_cpu_s": round(engine_cpu, 2), "engine_cpu_us_per_event": round(engine_cpu / max(records, 1) * 1e6, 1),
            "exit_code": worker.returncode,
            "consumer": {"max_poll_records": settings.ingest_max_poll_records,  # what bounds a batch's memory
                         "fetch_max_bytes": settings.ingest_fetch_max_bytes,
                         "remembered_orders": settings.ingest_remembered_orders}}


def cpu_split(stats: list[dict[str, Any]], records: int) -> dict[str, float]:
    """The workers' process CPU per event by stage of the loop (`WorkerStats.cpu_by_stage`: decode, the
    tiering gate, read back, merge and timeline, event and order documents, bulk, other), largest first."""
    seconds: dict[str, float] = {}
    for worker in stats:
        for stage, spent in (worker.get("cpu_by_stage") or {}).items():
            seconds[stage] = seconds.get(stage, 0.0) + spent
    return {stage: round(spent / max(records, 1) * 1e6, 1)
            for stage, spent in sorted(seconds.items(), key=lambda item: -item[1])}


SORT_KEY = {"orders": "order_id", "order-events": "entry_id"}


def iter_documents(engine: SearchEngine, alias: str, sort_field: str,
                   page: int = 5000) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Pages of (id, source), in a keyword field's order: memory stays at one page."""
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": page, "sort": [{sort_field: "asc"}], "query": {"match_all": {}}}
        if after:
            body["search_after"] = after
        hits = engine.search(alias, body)["hits"]["hits"]
        if not hits:
            return
        yield [(hit["_id"], hit["_source"]) for hit in hits]
        after = hits[-1]["sort"]


def _write_ndjson_chunks(engine: SearchEngine, source_alias: str, target: str, sort_field: str,
                         size: int, folder: Path) -> tuple[list[Path], int]:
    files, count = [], 0
    for number, docs in enumerate(iter_documents(engine, source_alias, sort_field, page=size)):
        path = folder / f"{target}-{number:06d}.ndjson"
        with path.open("wb") as handle:
            for doc_id, source in docs:
                handle.write(orjson.dumps({"index": {"_index": target, "_id": doc_id}}) + b"\n")
                handle.write(orjson.dumps(source) + b"\n")
        files.append(path)
        count += len(docs)
    return files, count


def raw_bulk_limit(settings: Settings, engine: SearchEngine, chunk_sizes: tuple[int, ...] = (1000, 5000)) -> dict:
    """The same final documents, pre-serialised to disk, then sent straight to _bulk: no Kafka, no merge."""
    names = index_names(settings)
    engine.refresh(names.orders)
    engine.refresh(names.events)
    best: dict[str, Any] | None = None
    for size in chunk_sizes:
        raw = IndexNames(f"{settings.index_prefix}-raw{size}")
        install(engine, raw, refresh_interval=settings.hot_refresh_interval)  # the pipeline's own refresh
        with tempfile.TemporaryDirectory(prefix="orderrepo-rawbulk-") as folder:
            files, total = [], 0
            for family in ("orders", "order-events"):
                written, count = _write_ndjson_chunks(engine, names.read_alias(family), raw.write_alias(family),
                                                      SORT_KEY[family], size, Path(folder))
                files += written
                total += count
            seconds, cpu = _send_files(settings.resolved_engine_url(), files, f"{raw.orders},{raw.events}")
        result = {"chunk_size": size, "documents": total, "seconds": round(seconds, 2),
                  "docs_per_s": round(total / seconds, 1), "engine_cpu_s": round(cpu, 2),
                  "engine_cpu_us_per_doc": round(cpu / max(total, 1) * 1e6, 1)}
        best = result if best is None or result["seconds"] < best["seconds"] else best
        for family in ("orders", "order-events"):
            engine.delete_index(raw.version(family, 1))
    return best or {}


def _send_files(engine_url: str, files: list[Path], refresh_target: str) -> tuple[float, float]:
    """Sequential _bulk of each file; a 429 (the engine's back-pressure) is waited out and the
    file sent again, as any bulk client does, and the wait counts in the time. Answers the
    seconds and the engine's CPU seconds over them."""
    cpu = engine_cpu_seconds(engine_url)
    with httpx.Client(base_url=engine_url, timeout=300) as client, Stopwatch() as watch:
        for path in files:
            send_until_accepted(client, path.read_bytes())
        client.post(f"/{refresh_target}/_refresh").raise_for_status()
    return watch.seconds, engine_cpu_seconds(engine_url) - cpu


def send_until_accepted(client: httpx.Client, body: bytes, attempts: int = 10) -> None:
    for attempt in range(attempts):
        answer = client.post("/_bulk", content=body, headers={"content-type": "application/x-ndjson"})
        if answer.status_code != 429:
            answer.raise_for_status()
            items = answer.json()
            if not items.get("errors"):
                return
            statuses = {item[next(iter(item))]["status"] for item in items["items"]}
            if statuses - {200, 201, 429}:
                raise RuntimeError(f"raw bulk load had item errors: statuses {sorted(statuses)}")
        time.sleep(min(30.0, 2.0**attempt))  # indexing the same ids again is idempotent
    raise RuntimeError(f"the engine refused a raw bulk request {attempts} times (429)")


def disk_per_1000_orders(settings: Settings, engine: SearchEngine) -> dict[str, float]:
    names = index_names(settings)
    # a force merge of a million orders takes minutes: far beyond the client's default timeout
    engine.request("POST", f"/{names.orders},{names.events}/_forcemerge",
                   params={"max_num_segments": 1, "request_timeout": 3600})
    # the merged-away segments stay on disk while a searcher still holds them: a refresh opens
    # the merged one and lets them go (without it the size read 1x or 2x, depending on timing)
    engine.refresh(f"{names.orders},{names.events}")
    stats = engine.request("GET", f"/{names.orders},{names.events}/_stats/store,docs")["indices"]
    orders = engine.count(names.orders)
    per = {}
    for index, values in stats.items():
        family = "order-events" if "-order-events-" in index else "orders"
        per[family] = round(values["primaries"]["store"]["size_in_bytes"] / max(orders, 1) * 1000 / 1024, 1)
    return {f"hot_{family}_kib": value for family, value in per.items()}


def main(orders: int = typer.Option(2000, help="sample orders to publish (about 3.5 change events each)"),
         processes: int = typer.Option(1, min=1, help="ingest worker processes"),
         seed: int = typer.Option(42)) -> None:
    base = get_settings()
    with scoped_run(base, f"ingest{int(time.time())}") as (settings, _engine):
        published = publish(settings, orders, seed)
        pipeline = run_pipeline(settings, processes)
    print(f"{pipeline['records_per_s']} records/s, worker {pipeline['cpu_us_per_event']} µs/event, engine "
          f"{pipeline['engine_cpu_us_per_event']} µs/event (refresh {base.hot_refresh_interval})")
    save_result("ingest", {"machine": machine(), "refresh_interval": base.hot_refresh_interval,
                           "publish": published, "pipeline": pipeline})


if __name__ == "__main__":
    typer.run(main)
