"""What the ingest worker counts and how its health is judged (pure bookkeeping, no I/O).

`WorkerStats` is what the worker writes to its health file after every poll: the counts of
records by outcome (records = accepted + dead-lettered + ignored), the time of the last poll and
of the last progress, the consumer lag, and the process CPU split by stage that the benchmark
reads. `health_verdict` is the one rule the `ingest health` command applies to that file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WorkerStats:
    records: int = 0
    accepted: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    changes: int = 0
    orders_written: int = 0
    timeline_written: int = 0
    dropped: int = 0
    batches: int = 0
    refreshes_asked: int = 0  # hot-index refreshes asked right after a small batch (ingest.visibility)
    last_poll_at: float = field(default_factory=time.time)
    last_progress_at: float = field(default_factory=time.time)
    first_progress_at: float | None = None
    # process CPU time (all threads) when the first batch started and when the last one ended:
    # the benchmark's CPU per event, without start-up and idle polling
    cpu_at_first_batch: float | None = None
    cpu_at_last_batch: float = 0.0
    lag: int = 0
    lag_by_channel: dict[str, int] = field(default_factory=dict)
    # process CPU seconds by stage (decode here, the write path's stages from the writer, the rest as
    # "other"): the benchmark's split of the CPU per event
    cpu_by_stage: dict[str, float] = field(default_factory=dict)
    # reason -> {count, latest detail, at}: what the operator view shows of dead letters and ignored records
    dead_letter_reasons: dict[str, dict[str, Any]] = field(default_factory=dict)

    def spent(self, stage: str, began: float) -> None:
        """Process CPU since `began` (a `time.process_time()`) added to `stage`."""
        self.cpu_by_stage[stage] = self.cpu_by_stage.get(stage, 0.0) + time.process_time() - began

    def split_cpu(self, writer_stages: dict[str, float]) -> None:
        """The writer's stages (when it keeps them: `OrderStoreWriter`) beside decode; the rest of the
        CPU since the first batch is "other" (polling, commits, dead letters, metrics, idle loop)."""
        split = self.cpu_by_stage
        split.update(writer_stages)
        split.pop("other", None)
        split["other"] = max(0.0, self.cpu_at_last_batch - (self.cpu_at_first_batch or 0.0) - sum(split.values()))


def health_verdict(health: dict[str, Any], *, now: float, stall_after_s: float = 120.0) -> tuple[bool, str]:
    """Healthy = polling recently, and not sitting on a backlog without progress."""
    if now - float(health["last_poll_at"]) > 60:
        return False, f"no poll for {now - float(health['last_poll_at']):.0f}s"
    if int(health.get("lag", 0)) > 0 and now - float(health["last_progress_at"]) > stall_after_s:
        return False, f"stalled: lag {health['lag']} and no progress for {now - float(health['last_progress_at']):.0f}s"
    return True, f"ok: lag {health.get('lag', 0)}, {health.get('records', 0)} records processed"
