"""Waiting out a refusal without leaving the consumer group (entrypoint side).

When the engine or the dead-letter topic refuses a batch, the worker keeps the batch and retries
it later; meanwhile it must keep polling, or the group would think it dead and move its
partitions. `BackOff.wait` pauses every assigned partition (paused partitions return nothing),
polls until a capped, jittered delay has passed, and resumes what is still assigned.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ingest.ports import ChangeSource
from settings.log_setup import get_logger

log = get_logger("ingest.worker")


class BackOff:
    def __init__(self, source: ChangeSource, *, clock: Callable[[], float], max_backoff_s: float) -> None:
        self.source = source
        self.clock = clock
        self.max_backoff_s = max_backoff_s

    def wait(self, attempt: int, *, refused_by: str, error: Exception) -> None:
        delay = min(self.max_backoff_s, 0.5 * 2**attempt) * (0.5 + random.random())
        log.warning(f"{refused_by} refused the batch; pausing consumption", error=str(error)[:300],
                    retry_in_s=round(delay, 2), attempt=attempt)
        self.pause_for(delay)

    def pause_for(self, seconds: float) -> None:
        """Paused partitions return nothing from poll(); polling keeps the group membership alive.

        A rebalance inside one of these polls (the broker restarted, a member left) can assign
        partitions that are not paused: they are paused before the next poll, and records a poll
        returns meanwhile are read again later (the source seeks back to the first), never dropped.
        Only what is assigned at the end is resumed (a revoked partition has no pause to lift)."""
        paused = self.source.assignment()
        self.source.pause(paused)
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            if newly := self.source.assignment() - paused:
                self.source.pause(newly)
                paused |= newly
            stray = self.source.poll(timeout_ms=min(1000, max(1, int((deadline - self.clock()) * 1000))))
            for partition, records in stray.items():
                if records:
                    self.source.seek(partition, records[0].offset)
        self.source.resume(self.source.assignment())
