"""Cold tier: orders as typed, zstd-compressed Parquet, one folder per creation month (adapter).

Layout under the root (a local directory, or any URL pyarrow can write):
  orders/YYYY.MM/part-<random>.parquet
The columns are the injected `ColdCodec`'s (`retention.cold_codec`: typed events, summary
columns); this module only writes, finds and caches rows. Each part is written once,
complete, under a fresh name (locally: a temporary file and an atomic rename), and never
appended to or modified: when an order leaves cold or is erased, its part is rewritten
into a new part (Arrow rows copied as they are, nothing decoded) and the old one deleted.
A reader that holds an old name either still finds the old file or is redirected by the
locator.

Why it is fast without scanning: order ids are random, so Parquet min/max statistics
cannot prune on them. Instead rows are sorted by customer key (one customer's orders sit
together, and the customer key keeps min/max statistics for tools that scan), row groups
hold `row_group_rows` rows, and the order locator stores each cold order's part and row
group, so one order costs one footer read (cached) and one row group read, and a
customer's history reads only the row groups the locator names. A read decodes only the
columns the codec's `decode` needs (`read_columns`: not the analysts' summary columns), and
only the wanted rows of a row group become Python objects (a slice per run of adjacent rows). Three bounded LRU caches
keep repeated reads in memory: open parts (their parsed footers), a few read row groups
(a history page or a burst of reads in one group), and decoded rows (what a warm lookup
needs: `cached` answers from it without I/O, so an async reader need not leave the event
loop). Memory stays bounded whatever the number of parts: the mover's bookkeeping
(`row_count`) reads footers without caching them.
"""

from __future__ import annotations

import os
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import Any

from adapters.cold_rows import ColdCodec, ColdRow
from adapters.deferred_import import deferred

pl = deferred("polars")
pa = deferred("pyarrow")
pc = deferred("pyarrow.compute")
pafs = deferred("pyarrow.fs")
pq = deferred("pyarrow.parquet")


@dataclass(frozen=True)
class PartWritten:
    path: str
    row_groups: dict[str, int]  # order id -> row group
    rows: int
    bytes: int


@dataclass(frozen=True)
class _Group:
    """One read row group (the codec's read columns only): its Arrow rows and where each order sits."""

    table: pa.Table
    index: dict[str, int]


@dataclass(frozen=True)
class _Part:
    """An open part: its footer, parsed once, and the leaf columns a read decodes."""

    reader: pq.ParquetReader
    columns: list[int]

    @property
    def metadata(self) -> pq.FileMetaData:
        return self.reader.metadata


class _Lru(OrderedDict[Any, Any]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def recall(self, key: Any) -> Any:
        """The value (marked as just used), or None."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)
        return value


class ColdStore:
    """Parquet parts per creation month. Thread-safe for reads (caches behind a lock)."""

    def __init__(self, root: str, *, codec: ColdCodec, storage_options: Mapping[str, str] | None = None,
                 row_group_rows: int = 1024, cache_parts: int = 32, cache_row_groups: int = 8,
                 cache_rows: int = 2048, compression_level: int = 19, read_threads: int = 4) -> None:
        self.root = root.rstrip("/")
        self.codec = codec
        self.storage_options = dict(storage_options or {})
        self.row_group_rows = row_group_rows
        self.compression_level = compression_level
        self._fs, self._base = pafs.FileSystem.from_uri(self.root if "://" in self.root else os.path.abspath(root))
        self._local = isinstance(self._fs, pafs.LocalFileSystem)
        self._parts = _Lru(cache_parts)
        self._groups = _Lru(cache_row_groups)
        self._rows = _Lru(cache_rows)  # (path, order id) -> decoded ColdRow
        self._lock = Lock()
        self._pool = ThreadPoolExecutor(max_workers=read_threads, thread_name_prefix="cold-read") if (
            read_threads > 1) else None

    def _full(self, path: str) -> str:
        return f"{self._base}/{path}"

    def new_part_path(self, month: str) -> str:
        """A fresh part name: a move records it in its journal before writing the part."""
        return f"orders/{month}/part-{uuid.uuid4().hex[:16]}.parquet"

    def write_part(self, month: str, rows: Iterable[ColdRow]) -> PartWritten | None:
        return self.write_part_at(self.new_part_path(month), rows)

    def write_part_at(self, path: str, rows: Iterable[ColdRow]) -> PartWritten | None:
        """One new part holding `rows`, sorted by the codec's sort columns. None if no rows."""
        table = pa.Table.from_pylist([self.codec.encode(row) for row in rows], schema=self.codec.schema)
        return self._write_table(path, table)

    def _write_table(self, path: str, table: pa.Table) -> PartWritten | None:
        if table.num_rows == 0:
            return None
        table = table.sort_by([(name, "ascending") for name in self.codec.sort_by])
        self._write(table, path)
        ids = table.column("order_id").to_pylist()
        groups = {order_id: i // self.row_group_rows for i, order_id in enumerate(ids)}
        return PartWritten(path=path, row_groups=groups, rows=len(ids), bytes=self.size_of(path))

    def _write(self, table: pa.Table, path: str) -> None:
        options: dict[str, Any] = dict(compression="zstd", compression_level=self.compression_level,
                                       row_group_size=self.row_group_rows, write_statistics=list(self.codec.sort_by),
                                       use_dictionary=list(self.codec.dictionary_columns))
        if not self._local:  # object stores: polars writes with the configured credentials
            pl.from_arrow(table).write_parquet(  # type: ignore[union-attr]
                f"{self.root}/{path}", storage_options=self.storage_options or None, compression="zstd",
                compression_level=self.compression_level, row_group_size=self.row_group_rows)
            return
        final = self._full(path)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        temporary = f"{final}.{uuid.uuid4().hex[:8]}.tmp"
        pq.write_table(table, temporary, **options)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)  # atomic: a reader sees no file or the whole file

    def _open(self, path: str) -> _Part:
        """The footer only (the low-level reader: the high-level file object also builds, in Python,
        a map of every nested column path, which costs more than parsing the footer)."""
        reader = pq.ParquetReader()
        reader.open(self._fs.open_input_file(self._full(path)))
        schema, wanted = reader.metadata.schema, set(self.codec.read_columns)
        return _Part(reader, [i for i in range(len(schema)) if schema.column(i).path.split(".")[0] in wanted])

    def _part(self, path: str) -> _Part:
        with self._lock:
            part = self._parts.recall(path)
        if part is None:
            part = self._open(path)
            with self._lock:
                self._parts.remember(path, part)
        return part

    def open_parts(self, paths: Iterable[str]) -> None:
        """Open (and cache) the footers of `paths` ahead of reads, on the read threads: for a
        caller that knows which parts it will read next."""
        wanted = list(dict.fromkeys(paths))
        if self._pool is None:
            for path in wanted:
                self._part(path)
        else:
            list(self._pool.map(self._part, wanted))

    def open_newest(self, limit: int | None = None) -> list[str]:
        """Open (and cache) the footers of the newest parts, newest month first, at most `limit`
        and never more than the part cache holds (so nothing opened here evicts another): what a
        process does once at start, in the background, so that its first cold reads find their
        part open. A part deleted meanwhile (rewritten by a sweep) is skipped. Returns the parts opened."""
        wanted = sorted(self.parts(), reverse=True)[:min(limit or self._parts.capacity, self._parts.capacity)]
        opened: list[str] = []
        for path in wanted:
            try:
                self._part(path)
            except FileNotFoundError:
                continue
            opened.append(path)
        return opened

    def _row_group(self, path: str, group: int) -> _Group:
        with self._lock:
            read = self._groups.recall((path, group))
        if read is None:
            part = self._part(path)
            table = part.reader.read_row_group(group, column_indices=part.columns)
            read = _Group(table, {order_id: i for i, order_id in enumerate(table.column("order_id").to_pylist())})
            with self._lock:
                self._groups.remember((path, group), read)
        return read

    def cached(self, path: str, order_ids: Iterable[str]) -> dict[str, ColdRow] | None:
        """The named rows if every one is decoded in memory already, else None (no I/O: safe
        to call on an event loop)."""
        found: dict[str, ColdRow] = {}
        with self._lock:
            for order_id in order_ids:
                row = self._rows.recall((path, order_id))
                if row is None:
                    return None
                found[order_id] = row
        return found

    def read(self, path: str, row_group: int, order_ids: Iterable[str]) -> dict[str, ColdRow]:
        """The named orders of one row group (missing ids are simply absent)."""
        wanted = list(order_ids)
        found = self.cached(path, wanted)
        if found is not None:
            return found
        group = self._row_group(path, row_group)
        with self._lock:
            found = {i: row for i in wanted if (row := self._rows.recall((path, i))) is not None}
        missing = [i for i in dict.fromkeys(wanted) if i not in found and i in group.index]
        if missing:  # only the wanted rows become Python objects
            records = _records(group.table, sorted(group.index[i] for i in missing))
            decoded = {i: self.codec.decode(records[group.index[i]]) for i in missing}
            with self._lock:
                for order_id, row in decoded.items():
                    self._rows.remember((path, order_id), row)
            found.update(decoded)
        return found

    def read_groups(self, groups: Mapping[tuple[str, int], Iterable[str]]) -> dict[str, ColdRow]:
        """The named orders of several row groups ((part, row group) -> order ids), the groups
        read at the same time on the store's read threads: a history page names one row group
        per month with cold orders, and Arrow decodes a row group without holding the GIL, so
        the parts of one page are opened and read side by side instead of one after another."""
        wanted = [(path, group, list(ids)) for (path, group), ids in groups.items()]
        if self._pool is None or len(wanted) < 2:
            reads = [self.read(path, group, ids) for path, group, ids in wanted]
        else:
            reads = list(self._pool.map(lambda job: self.read(*job), wanted))
        return {order_id: row for read in reads for order_id, row in read.items()}

    def read_all(self, path: str) -> list[ColdRow]:
        return [self.codec.decode(record) for record in self._table(path).to_pylist()]

    def _table(self, path: str) -> pa.Table:
        return pq.read_table(self._full(path), filesystem=self._fs, schema=self.codec.schema)

    def order_ids(self, path: str) -> list[str]:
        return pq.read_table(self._full(path), filesystem=self._fs, columns=["order_id"]).column(
            "order_id").to_pylist()

    def row_count(self, path: str) -> int:
        """From the footer, read afresh and not cached: a sweep visits every part once, and
        keeping hundreds of parsed footers would grow the mover with the store."""
        with self._lock:
            part = self._parts.recall(path)
        return int((part or self._open(path)).metadata.num_rows)

    def rewrite_keeping(self, path: str, keep: set[str]) -> PartWritten | None:
        """A new part with only the `keep` orders of `path` (None if none is kept), copied as Arrow
        rows (nothing decoded); the old part stays until the caller has repointed the locator
        and calls `delete`."""
        return self.merge_parts([path], keep)

    def merge_parts(self, paths: list[str], keep: set[str]) -> PartWritten | None:
        """One new part with the `keep` orders of several parts of one month (Arrow rows copied,
        nothing decoded; re-sorted, so larger parts compress better); the old parts stay until
        the caller has repointed the locator and deletes them."""
        table = pa.concat_tables([self._table(path) for path in paths])
        kept = table.filter(pc.is_in(table.column("order_id"), value_set=pa.array(sorted(keep), pa.string())))
        return self._write_table(self.new_part_path(month_of_part(paths[0])), kept)

    def delete(self, path: str) -> None:
        with self._lock:
            self._parts.pop(path, None)
            for cache in (self._groups, self._rows):
                for key in [k for k in cache if k[0] == path]:
                    del cache[key]
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
            self._rows.clear()


def _records(table: pa.Table, positions: list[int]) -> dict[int, dict[str, Any]]:
    """The records at `positions` (ascending), converted one run of adjacent rows at a time
    (rows are sorted by customer, so a history page's rows are mostly adjacent): a zero-copy
    slice per run, where a `take` would first copy every nested column of the row group."""
    runs: list[list[int]] = []
    for position in positions:
        if runs and position == runs[-1][-1] + 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    return {position: record for run in runs
            for position, record in zip(run, table.slice(run[0], len(run)).to_pylist(), strict=True)}


def month_of_part(path: str) -> str:
    return path.split("/")[1]
