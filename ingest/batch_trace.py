"""Wall-clock timings of the worker's recent batches, for finding where freshness goes (pure bookkeeping).

Freshness (a producer's send to the order being searchable) is the sum of: the time a record waits
for the worker to ask for it (the worker busy with the batch before), the broker's and the fetch's
time, the batch's decode, its write (merge, plan and the engine's acknowledged bulk), the offset
commit, and the engine's refresh. The worker knows every step but the last; it keeps the timestamps
of each batch here with the offsets the batch covered, so a benchmark that knows where its own
records landed (partition and offset) can split each record's delay into these steps
(`record_stages`).

Off unless a size is configured (`ORDERREPO_INGEST_TRACE_BATCHES`): a bounded ring of the latest
batches, a handful of clock reads per batch, written beside the health file when the worker stops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from adapters.bus_records import Partition

# the steps of one record's delay, in the order they happen
STAGES = ("waiting for the worker", "broker and fetch", "decode", "write", "commit", "refresh and search")


@dataclass
class BatchTiming:
    """Epoch seconds of one batch's steps and, per "topic/partition", the first and last offset it held."""

    poll_started: float
    polled: float
    decoded: float = 0.0
    written: float = 0.0
    committed: float = 0.0
    offsets: dict[str, tuple[int, int]] = field(default_factory=dict)
    worker: int = 0  # which trace file (worker process) it came from: set when loaded


class BatchTrace:
    """The latest `size` batches (none when `size` is 0)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.batches: deque[BatchTiming] = deque(maxlen=max(size, 1))

    def start(self, *, poll_started: float, polled: float, offsets: Mapping[Partition, tuple[int, int]]) -> BatchTiming:
        """A new batch's timing, for the worker to fill in; kept only when the trace is on."""
        timing = BatchTiming(poll_started, polled,
                             offsets={f"{p.topic}/{p.number}": span for p, span in offsets.items()} if self.size else {})
        if self.size:
            self.batches.append(timing)
        return timing

    def save(self, path: Path) -> None:
        if self.size:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps([asdict(batch) for batch in self.batches]))


def load_batches(paths: Iterable[Path]) -> list[BatchTiming]:
    """Every batch of the traces that exist (one per worker process)."""
    found: list[BatchTiming] = []
    for worker, path in enumerate(paths):
        if path.exists():
            found += [BatchTiming(**{**row, "offsets": {k: tuple(v) for k, v in row["offsets"].items()},
                                     "worker": worker})
                      for row in orjson.loads(path.read_bytes())]
    return found


def find_batch(batches: list[BatchTiming], *, topic: str, partition: int, offset: int) -> BatchTiming | None:
    """The batch that held this record; the latest one when a replay read it twice."""
    key = f"{topic}/{partition}"
    for batch in reversed(batches):
        span = batch.offsets.get(key)
        if span is not None and span[0] <= offset <= span[1]:
            return batch
    return None


def record_stages(batch: BatchTiming, *, sent: float, visible: float) -> dict[str, float]:
    """One record's delay split into `STAGES` (seconds; they add up to visible - sent). A record sent
    while the worker was already polling waited for no one: its whole wait is the broker's."""
    asked = max(sent, batch.poll_started)
    return dict(zip(STAGES, (asked - sent, batch.polled - asked, batch.decoded - batch.polled,
                             batch.written - batch.decoded, batch.committed - batch.written,
                             visible - batch.committed), strict=True))


def batches_ahead(batches: list[BatchTiming], batch: BatchTiming, *, sent: float) -> int:
    """How many batches the same worker began after the record was sent and before the record's own:
    0 when the record was fetched by the first poll after the batch in hand, 1 or more when it waited
    behind a batch fetched ahead of it (a prefetched response, or a backlog)."""
    return sum(1 for other in batches
               if other.worker == batch.worker and sent < other.poll_started < batch.poll_started)


def breakdown(rows: list[dict[str, float]], *, tail_share: float = 0.05) -> dict[str, Any]:
    """Mean seconds per stage over every record, and over the slowest `tail_share` (where the p99 lives).
    Keys of a row other than `STAGES` (e.g. "batches ahead") are averaged beside them."""
    if not rows:
        return {}
    ranked = sorted(rows, key=lambda row: sum(row[stage] for stage in STAGES))
    tail = ranked[-max(1, round(len(ranked) * tail_share)):]

    def mean(group: list[dict[str, float]]) -> dict[str, float]:
        return {key: round(sum(row[key] for row in group) / len(group), 3) for key in group[0]}

    return {"records": len(rows), "mean": mean(ranked), f"slowest_{tail_share:.0%}": mean(tail)}


def trace_path(health_file: Path) -> Path:
    return health_file.with_name(health_file.name.replace(".health.json", "") + ".trace.json")


def batch_records(batch: BatchTiming) -> int:
    """How many records the batch held (its offset spans, every partition)."""
    return sum(last - first + 1 for first, last in batch.offsets.values())
