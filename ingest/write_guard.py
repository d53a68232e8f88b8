"""Writes a batch so that no single change can block ingest for good (policy around the writer).

Outcomes of a write attempt:
- an outage (engine unreachable, 429, 5xx): retried with capped backoff for as long
  as it lasts: it is the engine's state, not the batch's;
- a failure that is not an outage (a crash in merge or validation, a 4xx for the whole
  request): the batch is halved until the change that causes it is alone; that change
  is rejected (`write_failed`) and everything else is written;
- the engine answers but keeps refusing part of the batch (`TransientWriteFailure`
  `stubborn_after` times in a row): each half is tried once; while one half is written
  and the other still refused, the refused half is narrowed further, and a single
  change refused while the rest of its batch was written is rejected
  (`refused_repeatedly`). When every part is refused it is the engine, not a change:
  the batch keeps being retried.
Rejected changes go to the dead-letter topic; a re-write of an already written part is
harmless (the merge is idempotent, writes are version-guarded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from adapters.search_engine import EngineError, EngineUnavailable
from ingest.dead_letter import describe
from ingest.writer import TransientWriteFailure, WriteOutcome
from order_domain.model import OrderChange
from settings.log_setup import get_logger

log = get_logger(__name__)


class ChangeWriter(Protocol):
    """Merges changes into the order store (`ingest.writer.OrderStoreWriter`)."""

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome: ...


class GuardedWrite:
    def __init__(self, writer: ChangeWriter, *, back_off: Callable[[int, Exception], None],
                 stubborn_after: int = 10) -> None:
        """`back_off(attempt, error)` waits before the next attempt (the worker pauses its partitions)."""
        self.writer = writer
        self.back_off = back_off
        self.stubborn_after = stubborn_after

    def write(self, changes: list[OrderChange]) -> WriteOutcome:
        attempt = 0
        while changes:
            try:
                return self.writer.write(changes)
            except Exception as error:  # noqa: BLE001 - sorted below: outage (retry) or this batch's fault
                if not is_outage(error):
                    return self._isolate(changes, error)
                attempt += 1
                if isinstance(error, TransientWriteFailure) and attempt % self.stubborn_after == 0:
                    narrowed = self._narrow(changes, error, proven=False)
                    if narrowed is not None:
                        return narrowed
                self.back_off(attempt, error)
        return WriteOutcome()

    def _isolate(self, changes: list[OrderChange], error: Exception) -> WriteOutcome:
        """Halve the batch until the change that makes the write fail is alone, then reject just that one."""
        if len(changes) == 1:
            log.warning("a change makes every write fail; dead-lettering it", error=describe(error)[:300])
            return WriteOutcome(rejected={changes[0].event_id: f"write_failed: {describe(error)}"})
        middle = len(changes) // 2
        return combined(self.write(changes[:middle]), self.write(changes[middle:]))

    def _narrow(self, changes: list[OrderChange], error: Exception, *, proven: bool) -> WriteOutcome | None:
        """None: no part of the batch was written, so nothing singles a change out (keep retrying)."""
        if len(changes) == 1:
            if not proven:
                return None
            log.warning("the engine keeps refusing one change; dead-lettering it", error=describe(error)[:300])
            return WriteOutcome(rejected={changes[0].event_id: f"refused_repeatedly: {describe(error)}"})
        middle = len(changes) // 2
        written: list[WriteOutcome] = []
        refused: list[tuple[list[OrderChange], Exception]] = []
        for half in (changes[:middle], changes[middle:]):
            try:
                written.append(self.writer.write(half))
            except Exception as error_of_half:  # noqa: BLE001 - sorted as in `write`
                if not is_outage(error_of_half):
                    written.append(self._isolate(half, error_of_half))
                else:
                    refused.append((half, error_of_half))
        if not written:
            return None
        for half, reason in refused:
            narrowed = self._narrow(half, reason, proven=True)
            if narrowed is None:
                return None
            written.append(narrowed)
        return combined(*written)


def is_outage(error: Exception) -> bool:
    """The engine's state, not the batch's: unavailable, overloaded (429), failing (5xx) or still refusing."""
    if isinstance(error, TransientWriteFailure | EngineUnavailable):
        return True
    return isinstance(error, EngineError) and (error.status in (0, 429) or error.status >= 500)


def combined(*outcomes: WriteOutcome) -> WriteOutcome:
    total = WriteOutcome()
    for outcome in outcomes:
        total.orders_written += outcome.orders_written
        total.timeline_written += outcome.timeline_written
        total.noise += outcome.noise
        total.unchanged += outcome.unchanged
        total.conflicts_retried += outcome.conflicts_retried
        total.rejected.update(outcome.rejected)
    return total
