"""`SqliteOrderStore`: the `OrderStore` port on one SQLite file, with the engine's write semantics
the worker's writer relies on (a `create` of an existing id and a stale `if_seq_no` answer 409;
every write takes a new, larger `_seq_no`), so the documents the writer leaves in it are exactly
those it would have left in the engine, whatever the order of the changes. Adapter for the bench's
document cache (`bench.doc_cache`).

A rewrite takes a new row id, so the table's order is the order of the last writes (`pages`
reads it back in that order, one page in memory). Sources are stored zlib-compressed (about a
quarter of the JSON's bytes); the file says so in `PRAGMA user_version` (1), so files of the first
format (0: plain JSON) still read.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from adapters.engine.dialects import orjson_default
from adapters.engine.model import BulkItemResult

PAGE = 2000  # rows per read
LEVEL = 6  # zlib level of the stored sources
ZLIB_SOURCES = 1  # user_version of a file whose sources are zlib-compressed
_SCHEMA = ("CREATE TABLE IF NOT EXISTS docs (seq INTEGER PRIMARY KEY, idx TEXT NOT NULL, id TEXT NOT NULL, "
           "source BLOB NOT NULL, UNIQUE (idx, id))")


def _plain(source: bytes) -> bytes:
    return source


def unpacker(db: sqlite3.Connection) -> Callable[[bytes], bytes]:
    """What turns a stored source of this file back into its JSON bytes."""
    return zlib.decompress if db.execute("PRAGMA user_version").fetchone()[0] == ZLIB_SOURCES else _plain


class SqliteOrderStore:
    """The `OrderStore` port on one SQLite file (index names taken literally, one primary term)."""

    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'docs'").fetchone():
            self.db.execute(f"PRAGMA user_version = {ZLIB_SOURCES}")
            self.db.execute(_SCHEMA)
        self.unpack = unpacker(self.db)
        self.pack = (lambda source: zlib.compress(source, LEVEL)) if self.unpack is zlib.decompress else _plain

    def mget(self, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound parameters per statement
            chunk = ids[start:start + 500]
            rows = self.db.execute(f"SELECT id, seq, source FROM docs WHERE idx = ? AND id IN "
                                   f"({','.join('?' * len(chunk))})", [index, *chunk])
            found.update({doc_id: {"_index": index, "_id": doc_id, "_seq_no": seq, "_primary_term": 1,
                                   "found": True, "_source": orjson.loads(self.unpack(source))}
                          for doc_id, seq, source in rows})
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
        source = self.pack(orjson.dumps(action["_source"], default=orjson_default))
        cursor = self.db.execute("INSERT INTO docs (idx, id, source) VALUES (?, ?, ?)", (index, doc_id, source))
        return BulkItemResult(ok=True, op=op, index=index, doc_id=doc_id, status=200 if row else 201,
                              error=None, seq_no=cursor.lastrowid, primary_term=1)

    def note(self, values: dict[str, int]) -> None:
        """Keeps figures about the file in it (a chunk's orders, messages and changes)."""
        self.db.execute("CREATE TABLE IF NOT EXISTS notes (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self.db.executemany("INSERT OR REPLACE INTO notes VALUES (?, ?)", values.items())

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT idx, count(*) FROM docs GROUP BY idx").fetchall())

    def close(self) -> None:
        self.db.close()


def pages(db: sqlite3.Connection, *, size: int = PAGE) -> Iterator[list[tuple[str, str, bytes]]]:
    """(index, id, JSON source) rows in the order of their last write, `size` at a time (keyset paging)."""
    unpack, after = unpacker(db), 0
    while rows := db.execute("SELECT seq, idx, id, source FROM docs WHERE seq > ? ORDER BY seq LIMIT ?",
                             (after, size)).fetchall():
        yield [(idx, doc_id, unpack(source)) for _, idx, doc_id, source in rows]
        after = rows[-1][0]


def notes(db: sqlite3.Connection) -> dict[str, int]:
    """The figures `SqliteOrderStore.note` kept in a file (none in a file of the first format)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'notes'").fetchone():
        return {}
    return dict(db.execute("SELECT key, value FROM notes").fetchall())
