"""The sample traffic's final hot documents for N orders, produced once by the worker's own
write path and kept on disk, so storage benchmarks at 1,000,000 orders load hot by the raw
bulk path in minutes instead of merging every change against the engine again.

`build` runs `bench.direct_load` (the channel decoders, `OrderStoreWriter`'s merge, timeline
entries and documents) with `SqliteOrderStore` in place of the engine: an `OrderStore` on one
SQLite file with the engine's write semantics the writer relies on (a `create` of an existing
id and a stale `if_seq_no` answer 409; every write takes a new, larger `_seq_no`), so the
documents are exactly the ones the writer would have sent, whatever the order of the changes.
A rewrite takes a new row id, so the table's order is the order of the last writes: `load`
sends the documents in that order (as the engine received them) to the scratch indices' write
aliases, in pre-serialised bulk bodies, waiting out 429s. Memory: one page of rows.

The cache is keyed by orders, seed and a fingerprint of what the current code makes of the
first `FINGERPRINT_ORDERS` orders (decoders, merge and documents; a change that alters them
makes a new cache, a change that only makes them faster keeps it); it lives under `ORDERREPO_BENCH_CACHE` (default
`~/.cache/orderrepo/bench-documents`), outside the repository, and is written under a temporary
name and renamed when complete, so a killed build is never reused.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from adapters.engine.dialects import orjson_default
from adapters.engine.model import BulkItemResult
from bench.direct_load import direct_load
from bench.ingest_bench import send_until_accepted
from bench.measure import Stopwatch
from index_templates import IndexNames
from settings import Settings

CACHE_PREFIX = "doccache"  # the index names the cached documents were written under
FINGERPRINT_ORDERS = 300  # orders whose documents name the code that made a cache
BODY_BYTES = 8 << 20  # one raw bulk body
PAGE = 2000  # rows per read of the cache
_SCHEMA = ("CREATE TABLE IF NOT EXISTS docs (seq INTEGER PRIMARY KEY, idx TEXT NOT NULL, id TEXT NOT NULL, "
           "source BLOB NOT NULL, UNIQUE (idx, id))")


class SqliteOrderStore:
    """The `OrderStore` port on one SQLite file (index names taken literally, one primary term)."""

    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(_SCHEMA)

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound parameters per statement
            chunk = ids[start:start + 500]
            rows = self.db.execute(f"SELECT id, seq, source FROM docs WHERE idx = ? AND id IN "
                                   f"({','.join('?' * len(chunk))})", [index, *chunk])
            found.update({doc_id: {"_index": index, "_id": doc_id, "_seq_no": seq, "_primary_term": 1,
                                   "found": True, "_source": orjson.loads(source)} for doc_id, seq, source in rows})
        return found

    def aliases_of(self, alias: str) -> list[str]:
        return [alias]

    def bulk(self, actions: Iterable[dict[str, Any]], *, chunk_size: int = 1000, max_retries: int = 5,
             refresh: bool | str = False) -> Iterator[BulkItemResult]:
        """Applies every action in one transaction; index and create only (what the writer sends)."""
        self.db.execute("BEGIN")
        try:
            results = [self._apply(action) for action in actions]
        finally:
            self.db.execute("COMMIT")
        yield from results

    def _apply(self, action: dict[str, Any]) -> BulkItemResult:
        op, index, doc_id = action.get("_op_type", "index"), action["_index"], str(action["_id"])
        if op not in ("index", "create"):
            raise ValueError(f"the document cache does not do {op!r} actions")
        row = self.db.execute("SELECT seq FROM docs WHERE idx = ? AND id = ?", (index, doc_id)).fetchone()
        guarded = "if_seq_no" in action
        if (op == "create" and row) or (guarded and (row is None or action["if_seq_no"] != row[0])):
            return BulkItemResult(ok=False, op=op, index=index, doc_id=doc_id, status=409,
                                  error="version_conflict_engine_exception")
        if row:
            self.db.execute("DELETE FROM docs WHERE seq = ?", row)  # the rewrite goes to the end
        cursor = self.db.execute("INSERT INTO docs (idx, id, source) VALUES (?, ?, ?)",
                                 (index, doc_id, orjson.dumps(action["_source"], default=orjson_default)))
        return BulkItemResult(ok=True, op=op, index=index, doc_id=doc_id, status=200 if row else 201,
                              error=None, seq_no=cursor.lastrowid, primary_term=1)

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT idx, count(*) FROM docs GROUP BY idx").fetchall())

    def close(self) -> None:
        self.db.close()


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
    root = Path(os.environ.get("ORDERREPO_BENCH_CACHE", Path.home() / ".cache" / "orderrepo" / "bench-documents"))
    return root / f"orders{orders}-seed{seed}-{fingerprint(settings, seed=seed)}.sqlite"


def build(settings: Settings, *, orders: int, seed: int) -> dict[str, Any]:
    """The cache file of `orders` orders, built now unless it exists; where it is and what it took."""
    path = cache_path(settings, orders=orders, seed=seed)
    if path.exists():
        return {"cache": str(path), "built": False}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial{os.getpid()}")
    store = SqliteOrderStore(partial)
    try:
        loaded = direct_load(settings.model_copy(update={"index_prefix": CACHE_PREFIX}), store, orders, seed)
        documents = store.counts()
    finally:
        store.close()
    partial.rename(path)
    return {"cache": str(path), "built": True, "build": loaded, "documents": documents}


def pages(db: sqlite3.Connection, *, size: int = PAGE) -> Iterator[list[tuple[str, str, bytes]]]:
    """(index, id, source) rows in the order of their last write, `size` at a time (keyset paging)."""
    after = 0
    while rows := db.execute("SELECT seq, idx, id, source FROM docs WHERE seq > ? ORDER BY seq LIMIT ?",
                             (after, size)).fetchall():
        yield [(idx, doc_id, source) for _, idx, doc_id, source in rows]
        after = rows[-1][0]


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
    """Raw bulk of every cached document into `target`'s write aliases; documents and seconds."""
    source = IndexNames(CACHE_PREFIX)
    targets = {source.orders_write: target.orders_write, source.events_write: target.events_write}
    db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    sent = 0
    with httpx.Client(base_url=settings.resolved_engine_url(), timeout=600) as client, Stopwatch() as watch:
        for body in bodies((row for page in pages(db) for row in page), targets):
            send_until_accepted(client, body)
            sent += body.count(b"\n") // 2
    db.close()
    return {"documents": sent, "bulk_seconds": round(watch.seconds, 1)}
