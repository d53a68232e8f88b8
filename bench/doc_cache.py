"""The sample traffic's final hot documents for N orders, produced once by the worker's own
write path and kept on disk, so storage and read benchmarks at 1,000,000 and 3,000,000 orders
load hot by the raw bulk path in minutes instead of merging every change against the engine again.

`build` runs the channel decoders, `OrderStoreWriter`'s merge, timeline entries and documents
(`bench.direct_load.DirectWriter`) with `bench.doc_store.SqliteOrderStore` in place of the engine,
so the documents are exactly the ones the writer would have sent; the orders are cut into chunks
built in parallel processes, each its own file, resumable (`bench.doc_chunks`). `load` sends every
chunk's documents in the order of their last write to the target indices' write aliases, in
pre-serialised bulk bodies, waiting out 429s. Memory: one page of rows.

The cache is keyed by orders, seed and a fingerprint of what the current code makes of the
first `FINGERPRINT_ORDERS` orders (decoders, merge and documents; a change that alters them
makes a new cache, a change that only makes them faster keeps it). It lives under
`ORDERREPO_BENCH_CACHE` (default `~/.cache/orderrepo/bench-documents`), outside the repository:
`orders<N>-seed<S>-<fingerprint>/` holds `layout.json` and one `chunkNNNNN.sqlite` per chunk,
complete when every chunk is there (a single `orders<N>-seed<S>-<fingerprint>.sqlite` file, the
first format, is used as it is). `python -m bench.doc_cache --orders N --seed S` builds one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from adapters.search_engine import SearchEngine
from bench.direct_load import direct_load
from bench.doc_chunks import (
    ChunkJob,
    add_counts,
    build_chunks,
    build_parallel,
    chunk_count,
    chunk_path,
    remove_stale_partials,
)
from bench.doc_store import SqliteOrderStore, notes, pages
from bench.ingest_bench import send_until_accepted
from bench.measure import Stopwatch
from index_templates import IndexNames
from settings import Settings

CACHE_PREFIX = "doccache"  # the index names the cached documents were written under
FINGERPRINT_ORDERS = 300  # orders whose documents name the code that made a cache
CHUNK_ORDERS = 50_000  # orders per chunk file (about 2.5 CPU minutes to build)
BODY_BYTES = 8 << 20  # one raw bulk body
LOG_EVERY_S = 60.0  # a progress line into a log (not a terminal) at most this often


def fingerprint(settings: Settings, *, seed: int, sample: int = FINGERPRINT_ORDERS) -> str:
    """A digest of what the current code makes of the first `sample` orders (their documents
    without `indexed_at`, the one field that depends on the clock): a change of the decoders or
    the merge that changes documents makes a new cache, one that only makes them faster does not."""
    store = SqliteOrderStore(":memory:")
    try:
        direct_load(settings.model_copy(update={"index_prefix": CACHE_PREFIX}), store, sample, seed)
        digest = hashlib.sha256()
        for page in pages(store.db):
            for index, doc_id, source in page:
                document = orjson.loads(source)
                document.pop("indexed_at", None)
                digest.update(f"{index}\0{doc_id}\0".encode() + orjson.dumps(document, option=orjson.OPT_SORT_KEYS))
    finally:
        store.close()
    return digest.hexdigest()[:12]


def cache_path(settings: Settings, *, orders: int, seed: int) -> Path:
    """The cache's directory (or its single file of the first format, where that exists)."""
    root = Path(os.environ.get("ORDERREPO_BENCH_CACHE", Path.home() / ".cache" / "orderrepo" / "bench-documents"))
    directory = root / f"orders{orders}-seed{seed}-{fingerprint(settings, seed=seed)}"
    single = directory.with_name(f"{directory.name}.sqlite")
    return single if single.exists() else directory


def chunk_files(cache: str | Path) -> list[Path]:
    """The files of a complete cache, in chunk order; an error if a chunk is missing."""
    path = Path(cache)
    if path.is_file():
        return [path]
    layout = json.loads((path / "layout.json").read_text())
    files = [chunk_path(path, chunk) for chunk in range(layout["chunks"])]
    if missing := [file.name for file in files if not file.exists()]:
        raise FileNotFoundError(f"{path} is not complete: {len(missing)} chunks missing (build it again to resume)")
    return files


def _layout(directory: Path, *, orders: int, seed: int, chunk_orders: int) -> dict[str, Any]:
    """The directory's chunking (kept from the first build, so a resumed build cuts the same way)."""
    manifest = directory / "layout.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    layout = {"orders": orders, "seed": seed, "chunk_orders": chunk_orders,
              "chunks": chunk_count(orders, chunk_orders)}
    directory.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(layout))
    return layout


def build(settings: Settings, *, orders: int, seed: int, workers: int = os.cpu_count() or 1,
          chunk_orders: int = CHUNK_ORDERS, progress: bool = True) -> dict[str, Any]:
    """The cache of `orders` orders, built now (the chunks still missing) unless complete; where it
    is and what building took (process CPU of every builder, per order built)."""
    path = cache_path(settings, orders=orders, seed=seed)
    if path.is_file():
        return {"cache": str(path), "built": False}
    layout = _layout(path, orders=orders, seed=seed, chunk_orders=chunk_orders)
    remove_stale_partials(path)
    todo = [chunk for chunk in range(layout["chunks"]) if not chunk_path(path, chunk).exists()]
    if not todo:
        return {"cache": str(path), "built": False, "chunks": layout["chunks"]}
    scoped = settings.model_copy(update={"index_prefix": CACHE_PREFIX})
    jobs = [ChunkJob(scoped, path, orders, seed, layout["chunk_orders"], tuple(todo[k::workers]))
            for k in range(min(workers, len(todo)))]
    with Stopwatch() as watch:
        size = layout["chunk_orders"]
        parts = _run(jobs, orders=orders, done=orders - sum(min(size, orders - chunk * size) for chunk in todo),
                     progress=progress)
    return {"cache": str(path), "built": True, "chunks": layout["chunks"], "workers": len(jobs),
            "build": _totals(parts, seconds=watch.seconds),
            "documents": add_counts(part["documents"] for part in parts),
            "bytes_per_order": round(cache_bytes(path) / orders, 1)}


def _totals(parts: list[dict[str, Any]], *, seconds: float) -> dict[str, Any]:
    """What the build processes did together: chunks, orders, messages, changes, wall and CPU time."""
    built = {key: sum(part[key] for part in parts) for key in ("chunks", "orders", "messages", "changes")}
    cpu = sum(part["cpu_seconds"] for part in parts)
    return built | {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                    "cpu_ms_per_order": round(cpu * 1000 / max(built["orders"], 1), 3)}


def _run(jobs: list[ChunkJob], *, orders: int, done: int, progress: bool) -> list[dict[str, Any]]:
    """The jobs' results, with a progress bar (or, into a log, a line a minute) of the orders written."""
    if len(jobs) == 1 and not progress:
        return [build_chunks(jobs[0])]
    columns = (TextColumn("[bold]document cache"), BarColumn(), MofNCompleteColumn(), TextColumn("orders"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("build", total=orders, completed=done)
        logged = [time.monotonic()]

        def tick(built: int) -> None:
            bar.update(task, completed=done + built)
            if progress and not bar.console.is_terminal and time.monotonic() - logged[0] >= LOG_EVERY_S:
                logged[0] = time.monotonic()
                print(f"[doc cache {datetime.now(UTC):%H:%M:%S}] {done + built:,} of {orders:,} orders "
                      f"({bar.tasks[0].elapsed or 0:,.0f} s)", flush=True)

        return build_parallel(jobs, tick=tick)


def cache_bytes(cache: str | Path) -> int:
    return sum(file.stat().st_size for file in chunk_files(cache))


def summary(cache: str | Path) -> dict[str, int]:
    """What a complete cache holds: orders, messages and changes (as its chunks noted them) and documents."""
    total: dict[str, int] = {}
    for file in chunk_files(cache):
        db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            held = notes(db) | {"documents": db.execute("SELECT count(*) FROM docs").fetchone()[0]}
        finally:
            db.close()
        total = add_counts([total, held])
    return total


def rows(cache: str | Path) -> Iterator[tuple[str, str, bytes]]:
    """(index, id, JSON source) of every cached document, chunk by chunk in the order of their last write."""
    for file in chunk_files(cache):
        db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            for page in pages(db):
                yield from page
        finally:
            db.close()


def bodies(rows: Iterable[tuple[str, str, bytes]], targets: dict[str, str], *,
           limit: int = BODY_BYTES) -> Iterator[bytes]:
    """NDJSON bulk bodies of about `limit` bytes, each cached index name mapped to its target."""
    body: list[bytes] = []
    size = 0
    for index, doc_id, source in rows:
        line = orjson.dumps({"index": {"_index": targets[index], "_id": doc_id}}) + b"\n" + source + b"\n"
        body.append(line)
        size += len(line)
        if size >= limit:
            yield b"".join(body)
            body, size = [], 0
    if body:
        yield b"".join(body)


def load(settings: Settings, *, cache: str, target: IndexNames) -> dict[str, Any]:
    """Raw bulk of every cached document into `target`'s write aliases; documents, seconds, docs/s."""
    source = IndexNames(CACHE_PREFIX)
    targets = {source.orders_write: target.orders_write, source.events_write: target.events_write}
    sent = 0
    with httpx.Client(base_url=settings.resolved_engine_url(), timeout=600) as client, Stopwatch() as watch:
        for body in bodies(rows(cache), targets):
            send_until_accepted(client, body)
            sent += body.count(b"\n") // 2
    return {"documents": sent, "bulk_seconds": round(watch.seconds, 1),
            "docs_per_s": round(sent / watch.seconds) if watch.seconds else None}


def bulk_load(settings: Settings, engine: SearchEngine, *, cache: str, target: IndexNames) -> dict[str, Any]:
    """`load` with refresh off on the target's write indices meanwhile (their own interval put back
    afterwards, then one refresh: everything loaded is searchable when this returns)."""
    aliases = f"{target.orders_write},{target.events_write}"
    found = engine.request("GET", f"/{aliases}/_settings/index.refresh_interval")
    intervals = {index: values["settings"].get("index", {}).get("refresh_interval") for index, values in found.items()}
    engine.request("PUT", f"/{','.join(intervals)}/_settings", body={"index": {"refresh_interval": "-1"}})
    try:
        sent = load(settings, cache=cache, target=target)
    finally:
        for index, interval in intervals.items():
            engine.request("PUT", f"/{index}/_settings", body={"index": {"refresh_interval": interval}})
    engine.refresh(aliases)
    return sent


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="build (or resume) the document cache of N orders")
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="build processes")
    parser.add_argument("--chunk-orders", type=int, default=CHUNK_ORDERS, help="orders per chunk (new caches)")
    args = parser.parse_args(argv)
    result = build(Settings(), orders=args.orders, seed=args.seed, workers=args.workers,
                   chunk_orders=args.chunk_orders)
    print(json.dumps(result, indent=2), flush=True)
    return result


if __name__ == "__main__":
    main()
