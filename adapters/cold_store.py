"""Cold tier: orders (document + timeline) as zstd Parquet, one folder per creation month (adapter).

Layout under the root (a local directory, or any URL polars and pyarrow can write):
  orders/YYYY.MM/part-<random>.parquet
Each part is written once, complete, under a fresh name (locally: a temporary file and
an atomic rename), and never appended to or modified: when an order leaves cold or is
erased, its part is rewritten into a new part and the old one deleted. A reader that
holds an old name either still finds the old file or is redirected by the locator.

Why it is fast without scanning: order ids are random, so Parquet min/max statistics
cannot prune on them. Instead rows are sorted by customer key (one customer's orders sit
together, usually in one row group) and row groups are small (`row_group_rows`); the
order locator stores each cold order's part and row group, so one order costs one footer
read (cached) and one small row group read, and a customer's history reads only the row
groups the locator names. Open parts and decoded row groups are kept in small LRU caches,
so repeated reads are served from memory.
"""

from __future__ import annotations

import os
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any

import orjson
import polars as pl
import pyarrow.fs as pafs
import pyarrow.parquet as pq

COLUMNS = ("customer_key", "order_id", "placed_at", "document", "timeline")


@dataclass(frozen=True)
class ColdRow:
    order_id: str
    customer_key: str
    placed_at: str | None
    document: dict[str, Any]
    timeline: list[dict[str, Any]]


@dataclass(frozen=True)
class PartWritten:
    path: str
    row_groups: dict[str, int]  # order id -> row group
    rows: int
    bytes: int


class _Lru(OrderedDict[Any, Any]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)
        return value


class ColdStore:
    """Parquet parts per creation month. Thread-safe for reads (caches behind a lock)."""

    def __init__(self, root: str, *, storage_options: Mapping[str, str] | None = None, row_group_rows: int = 64,
                 cache_parts: int = 256, cache_row_groups: int = 1024, compression_level: int = 9) -> None:
        self.root = root.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self.row_group_rows = row_group_rows
        self.compression_level = compression_level
        self._fs, self._base = pafs.FileSystem.from_uri(self.root if "://" in self.root else os.path.abspath(root))
        self._local = isinstance(self._fs, pafs.LocalFileSystem)
        self._parts = _Lru(cache_parts)
        self._groups = _Lru(cache_row_groups)
        self._lock = Lock()

    def _full(self, path: str) -> str:
        return f"{self._base}/{path}"

    def new_part_path(self, month: str) -> str:
        """A fresh part name: a move records it in its journal before writing the part."""
        return f"orders/{month}/part-{uuid.uuid4().hex[:16]}.parquet"

    def write_part(self, month: str, rows: Iterable[ColdRow]) -> PartWritten | None:
        return self.write_part_at(self.new_part_path(month), rows)

    def write_part_at(self, path: str, rows: Iterable[ColdRow]) -> PartWritten | None:
        """One new part holding `rows`, sorted by customer key then order id. None if no rows."""
        frame = pl.DataFrame(
            [{"customer_key": r.customer_key, "order_id": r.order_id, "placed_at": r.placed_at,
              "document": orjson.dumps(r.document).decode(), "timeline": orjson.dumps(r.timeline).decode()}
             for r in rows],
            schema={"customer_key": pl.String, "order_id": pl.String, "placed_at": pl.String,
                    "document": pl.String, "timeline": pl.String},
        ).sort(["customer_key", "order_id"])
        if frame.is_empty():
            return None
        self._write(frame, path)
        ids = frame.get_column("order_id").to_list()
        groups = {order_id: i // self.row_group_rows for i, order_id in enumerate(ids)}
        return PartWritten(path=path, row_groups=groups, rows=len(ids), bytes=self.size_of(path))

    def _write(self, frame: pl.DataFrame, path: str) -> None:
        options = dict(compression="zstd", compression_level=self.compression_level,
                       row_group_size=self.row_group_rows, statistics=False)
        if not self._local:
            frame.write_parquet(f"{self.root}/{path}", storage_options=self.storage_options or None, **options)
            return
        final = self._full(path)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        temporary = f"{final}.{uuid.uuid4().hex[:8]}.tmp"
        frame.write_parquet(temporary, **options)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)  # atomic: a reader sees no file or the whole file

    def _part(self, path: str) -> pq.ParquetFile:
        with self._lock:
            if path in self._parts:
                self._parts.move_to_end(path)
                return self._parts[path]
        part = pq.ParquetFile(self._fs.open_input_file(self._full(path)))
        with self._lock:
            return self._parts.remember(path, part)

    def _row_group(self, path: str, group: int) -> dict[str, tuple[str, str, str | None, str, str]]:
        key = (path, group)
        with self._lock:
            if key in self._groups:
                self._groups.move_to_end(key)
                return self._groups[key]
        table = self._part(path).read_row_group(group, columns=list(COLUMNS))
        rows = {order_id: (order_id, ck, placed, doc, timeline) for ck, order_id, placed, doc, timeline in zip(
            *(table.column(name).to_pylist() for name in COLUMNS), strict=True)}
        with self._lock:
            return self._groups.remember(key, rows)

    def read(self, path: str, row_group: int, order_ids: Iterable[str]) -> dict[str, ColdRow]:
        """The named orders of one row group (missing ids are simply absent)."""
        rows = self._row_group(path, row_group)
        return {order_id: _row(rows[order_id]) for order_id in order_ids if order_id in rows}

    def read_all(self, path: str) -> list[ColdRow]:
        table = pq.read_table(self._full(path), filesystem=self._fs, columns=list(COLUMNS))
        return [_row((oid, ck, placed, doc, tl)) for ck, oid, placed, doc, tl in zip(
            *(table.column(name).to_pylist() for name in COLUMNS), strict=True)]

    def row_count(self, path: str) -> int:
        return int(self._part(path).metadata.num_rows)

    def rewrite_keeping(self, path: str, keep: set[str]) -> PartWritten | None:
        """A new part with only the `keep` orders of `path` (None if none is kept); the old part
        stays until the caller has repointed the locator and calls `delete`."""
        month = path.split("/")[1]
        return self.write_part(month, (row for row in self.read_all(path) if row.order_id in keep))

    def delete(self, path: str) -> None:
        with self._lock:
            self._parts.pop(path, None)
            for key in [k for k in self._groups if k[0] == path]:
                del self._groups[key]
        try:
            self._fs.delete_file(self._full(path))
        except FileNotFoundError:
            pass

    def parts(self) -> list[str]:
        """Every part, as paths relative to the root."""
        selector = pafs.FileSelector(f"{self._base}/orders", recursive=True, allow_not_found=True)
        return sorted(info.path[len(self._base) + 1:] for info in self._fs.get_file_info(selector)
                      if info.type == pafs.FileType.File and info.path.endswith(".parquet"))

    def size_of(self, path: str) -> int:
        return int(self._fs.get_file_info(self._full(path)).size or 0)

    def forget_cache(self) -> None:
        """Drop open parts and decoded row groups (measures a cold start)."""
        with self._lock:
            self._parts.clear()
            self._groups.clear()


def month_of_part(path: str) -> str:
    return path.split("/")[1]


def _row(values: tuple[str, str, str | None, str, str]) -> ColdRow:
    order_id, customer_key, placed_at, document, timeline = values
    return ColdRow(order_id=order_id, customer_key=customer_key, placed_at=placed_at,
                   document=orjson.loads(document), timeline=orjson.loads(timeline))
