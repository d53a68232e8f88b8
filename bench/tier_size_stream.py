"""Every closed order of a loaded hot store written to warm and to cold the way the mover writes
them, streamed, for `bench.cold_size_bench` at sizes where the mover itself would take hours.

Closed orders (what a pass with all idle thresholds at 0 moves; open orders stay hot) are
paged from the hot orders index by `search_after` on `order_id` and routed to parts of at most
`cold_sweep.COMPACT_ROWS` ids per creation month (`month_parts`: the layout a pass followed by
the cold sweep's compaction leaves). Each part is read from hot by the mover's own source read
(`TierCopies.read`, `READ_BATCH` orders a time), written to its warm month by the mover's own
warm write (`TierCopies.write_engine`: the warm template, lean documents, under one lifted
write block per index as in a pass) and to one Parquet part by the mover's own cold writer
(`TierCopies.write_cold`); `finish` seals the warm months as a pass does (force merge to one
segment, flush, write block). Memory: one search page, the pending ids (< COMPACT_ROWS per
month) and one part's copies per writer, whatever the store's size. `workers` > 1 writes
parts in that many processes (each its own engine client, cold store and CPU split; parts
are independent: one month's warm indices take writes from several at once, as in a pass
with several movers). What is skipped is the journal,
the locator flips and the hot deletes, which change no tier's bytes.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from adapters.cold_store import ColdStore
from adapters.engine_settings import connect_engine
from adapters.search_engine import SearchEngine
from order_domain.tier_policy import Tier
from retention.cold_sweep import COMPACT_ROWS
from retention.copies import TierCopies
from retention.locator import order_fields
from retention.cold_codec import TypedOrderCodec
from retention.storage import TierNames, seal, warm_indices
from settings import Settings

READ_BATCH = 1000  # orders per source read (one mget and one timeline search), as a move batch
PAGE = 5000  # hot documents per search page
_FIELDS = ["order_id", "placed_at", "updated_at", "indexed_at", "status", "search"]


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def month_parts(entries: Iterable[tuple[str, str]], *, size: int = COMPACT_ROWS) -> Iterator[tuple[str, list[str]]]:
    """(month, ids) parts of at most `size` ids, from (month, id) pairs in id order: a month's
    part as soon as it is full, then every month's remainder in month order."""
    if size <= 0:
        raise ValueError(f"size must be > 0, got {size}")
    pending: dict[str, list[str]] = {}
    for month, order_id in entries:
        ids = pending.setdefault(month, [])
        ids.append(order_id)
        if len(ids) == size:
            yield month, pending.pop(month)
    for month in sorted(pending):
        yield month, pending[month]


def closed_orders(engine: SearchEngine, index: str, *, page: int = PAGE) -> Iterator[tuple[str, str]]:
    """(creation month, id) of every closed order of `index`, in id order, one page in memory."""
    body: dict[str, Any] = {"size": page, "sort": [{"order_id": "asc"}], "_source": _FIELDS}
    while hits := engine.search(index, body)["hits"]["hits"]:
        for hit in hits:
            fields = order_fields(hit["_source"])
            if fields["closed"]:
                yield fields["created_month"], fields["order_id"]
        if len(hits) < page:
            return
        body["search_after"] = hits[-1]["sort"]


@dataclass(frozen=True)
class Scratch:
    """Where a writer process writes: the scratch prefix's engine indices and its cold root."""

    settings: Settings
    cold_root: str

    def copies(self, engine: SearchEngine | None = None) -> TierCopies:
        names = TierNames(self.settings.index_prefix)
        cold = ColdStore(f"{self.cold_root}/{names.prefix}", codec=TypedOrderCodec(),
                         row_group_rows=self.settings.tier.cold_row_group_rows)
        return TierCopies(engine or connect_engine(self.settings), names, cold)


class TierSizeWriter:
    """Writes parts of closed orders to warm and cold; counts what it wrote and the CPU it took."""

    def __init__(self, copies: TierCopies) -> None:
        self.copies = copies
        self.source = copies.names.hot.orders
        self.parts: dict[str, int] = {}  # cold part path -> bytes
        self.orders = 0
        self.cpu = {"read": 0.0, "warm": 0.0, "cold": 0.0}

    def write_all(self, parts: Iterable[tuple[str, list[str]]], *, scratch: Scratch, workers: int = 1) -> None:
        """Every part, here (`workers` 1) or in `workers` processes; their counts added to this one's."""
        if workers <= 1:
            for month, ids in parts:
                self.write_part(month, ids)
            return
        with multiprocessing.get_context("spawn").Pool(workers, _start_worker, (scratch,)) as pool:
            for written, orders, cpu in pool.imap_unordered(_write_in_worker, parts):
                self.parts.update(written)
                self.orders += orders
                self.cpu = {stage: self.cpu[stage] + cpu[stage] for stage in self.cpu}

    def write_part(self, month: str, ids: list[str]) -> None:
        warm_index = self.copies.names.warm_index("orders", month)
        read = []
        with self.copies.holding_writable():  # the seal (`finish`) blocks writes again
            for batch in chunks(ids, READ_BATCH):
                began = time.process_time()
                copies = list(self.copies.read(Tier.HOT, self.source, dict.fromkeys(batch)).values())
                written = self._spent("read", began)
                self.copies.write_engine(Tier.WARM, warm_index, copies)
                self._spent("warm", written)
                read += copies
        began = time.process_time()
        part = self.copies.write_cold(self.copies.cold.new_part_path(month), read)
        self._spent("cold", began)
        if part is not None:
            self.parts[part.path] = part.bytes
        self.orders += len(read)

    def finish(self) -> list[str]:
        """Seals every warm month (as the end of a pass does); the warm indices."""
        indices = warm_indices(self.copies.engine, self.copies.names)
        for index in indices:
            seal(self.copies.engine, index)
        return indices

    def _spent(self, stage: str, began: float) -> float:
        now = time.process_time()
        self.cpu[stage] += now - began
        return now


_WORKER: TierSizeWriter | None = None  # one per writer process


def _start_worker(scratch: Scratch) -> None:
    global _WORKER
    _WORKER = TierSizeWriter(scratch.copies())


def _write_in_worker(part: tuple[str, list[str]]) -> tuple[dict[str, int], int, dict[str, float]]:
    """One part in a writer process: the cold part it wrote, its orders and its CPU by stage."""
    assert _WORKER is not None
    parts, orders, cpu = dict(_WORKER.parts), _WORKER.orders, dict(_WORKER.cpu)
    _WORKER.write_part(*part)
    return ({path: size for path, size in _WORKER.parts.items() if path not in parts}, _WORKER.orders - orders,
            {stage: _WORKER.cpu[stage] - cpu[stage] for stage in cpu})
