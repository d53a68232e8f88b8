"""The document cache's parallel, resumable build: N orders cut into chunks of consecutive
journeys, each built by the worker's own write path into its own SQLite file (`bench.doc_store`).

Why chunks are independent: a journey's messages name only the orders it creates (links between
two orders, a replacement or an exchange, stay within one journey), so the documents of a chunk's
orders depend only on the chunk's messages. Chunk `c` holds the journeys that start while the
orders created so far are in `[c * chunk_orders, (c + 1) * chunk_orders)`.

The generator has one random stream, so a slice cannot be produced without what comes before it:
each of the K processes walks the journeys once, up to its last chunk (about 0.24 ms CPU per order
walked, against about 2.5 ms per order decoded, merged and stored), and builds every K-th of the
chunks still missing. A chunk is written under
`chunkNNNNN.partial<pid>` and renamed when complete: a killed build keeps every finished chunk and
resumes from the others; partial files of processes that are gone are removed.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.direct_load import BATCH, DirectWriter
from bench.doc_store import SqliteOrderStore
from sample_traffic import TrafficMessage
from sample_traffic.stream import journeys
from settings import Settings

_DONE: Any = None  # the orders built so far, shared by a build's processes (set in each)


def chunk_journeys(*, orders: int, seed: int, chunk_orders: int) -> Iterator[tuple[int, int, list[TrafficMessage]]]:
    """(chunk, orders it creates, messages) of every journey of the sample traffic, in order."""
    if chunk_orders < 2:  # a chunk then holds at least one journey (a journey creates at most two)
        raise ValueError(f"chunk_orders must be >= 2, got {chunk_orders}")
    made = 0
    for steps in journeys(orders=orders, seed=seed):
        created = sum(step.creates for step in steps)
        yield made // chunk_orders, created, [step.message for step in steps]
        made += created


def chunk_count(orders: int, chunk_orders: int) -> int:
    return -(-orders // chunk_orders)


def chunk_path(directory: Path, chunk: int) -> Path:
    return directory / f"chunk{chunk:05d}.sqlite"


def remove_stale_partials(directory: Path) -> list[Path]:
    """Removes the partial files (`*.partial<pid>`) whose process is gone; the removed ones."""
    removed = []
    for path in directory.glob("*.partial*"):
        pid = path.suffix.removeprefix(".partial")
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ChunkJob:
    """The chunks one process builds (ascending), out of a build of `orders` orders."""

    settings: Settings
    directory: Path
    orders: int
    seed: int
    chunk_orders: int
    chunks: tuple[int, ...]


class _Chunk:
    """One chunk being built: its partial file, its writer and its pending messages."""

    def __init__(self, job: ChunkJob, chunk: int) -> None:
        self.final = chunk_path(job.directory, chunk)
        self.partial = self.final.with_suffix(f".partial{os.getpid()}")
        self.store = SqliteOrderStore(self.partial)
        self.writer = DirectWriter(job.settings, self.store)
        self.pending: list[TrafficMessage] = []
        self.orders = self.pending_orders = 0

    def add(self, messages: list[TrafficMessage], created: int) -> None:
        self.pending += messages
        self.pending_orders += created
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Writes the pending messages; their orders count as built (the progress shared with the parent)."""
        if self.pending:
            self.writer.write(self.pending)
            self.pending = []
        self.orders += self.pending_orders
        if _DONE is not None:
            with _DONE.get_lock():
                _DONE.value += self.pending_orders
        self.pending_orders = 0

    def finish(self) -> dict[str, Any]:
        self.flush()
        documents = self.store.counts()
        self.store.note({"orders": self.orders, "messages": self.writer.messages, "changes": self.writer.changes})
        self.store.close()
        self.partial.rename(self.final)
        return {"orders": self.orders, "messages": self.writer.messages, "changes": self.writer.changes,
                "documents": documents}


def build_chunks(job: ChunkJob) -> dict[str, Any]:
    """Builds `job.chunks` in this process; what they hold and the CPU seconds it took."""
    began, wanted, built = time.process_time(), set(job.chunks), []
    current: _Chunk | None = None
    for chunk, created, messages in chunk_journeys(orders=job.orders, seed=job.seed, chunk_orders=job.chunk_orders):
        if chunk > job.chunks[-1]:
            break
        if chunk not in wanted:
            continue
        if current is None or current.final != chunk_path(job.directory, chunk):
            if current is not None:
                built.append(current.finish())
            current = _Chunk(job, chunk)
        current.add(messages, created)
    if current is not None:
        built.append(current.finish())
    return {"chunks": len(built), "cpu_seconds": time.process_time() - began,
            **{key: sum(part[key] for part in built) for key in ("orders", "messages", "changes")},
            "documents": add_counts(part["documents"] for part in built)}


def add_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Document counts per index, summed over chunks."""
    total: dict[str, int] = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total


def _start(done: Any) -> None:
    global _DONE
    _DONE = done


def build_parallel(jobs: list[ChunkJob], *, tick: Callable[[int], None] = lambda done: None) -> list[dict[str, Any]]:
    """Runs `jobs` in one process each (spawned), calling `tick(orders built)` about once a second."""
    context = multiprocessing.get_context("spawn")
    done = context.Value("q", 0)
    with concurrent.futures.ProcessPoolExecutor(len(jobs), mp_context=context, initializer=_start,
                                                initargs=(done,)) as pool:
        futures = [pool.submit(build_chunks, job) for job in jobs]
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=1.0)
            tick(done.value)
        return [future.result() for future in futures]
