"""Worker-driven visibility: the hot indices refreshed right after a small batch is written (ingest side).

The engine makes writes searchable on its periodic refresh (ORDERREPO_HOT_REFRESH_INTERVAL), so a
record written just after one waits up to a whole interval: at moderate load that wait is the
largest share of produce-to-searchable lag. A shorter periodic refresh buys it back for every
document all the time, and on a node the writers keep busy its extra refresh and merge work raised
the tail instead (README, "Freshness"). This asks for a refresh only when it is cheap and useful:

- the batch just written was small (at most `max_records`): the worker has drained what the broker
  held, so these records are the newest there are. A larger batch means more records are waiting
  (the worker is behind); their batches follow at once, and the periodic refresh takes over;
- the worker's own last refresh is at least `min_gap_s` old: at most one per gap per worker, however
  many small batches arrive.

Best effort, never part of correctness: the refresh comes after the batch's offsets are committed,
and one that fails is logged and counted, not retried (the periodic refresh makes the write
searchable anyway); it never fails the batch or stops the worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.search_engine import EngineError
from ingest import metrics
from settings.log_setup import get_logger

log = get_logger(__name__)


class RefreshAfterWrite:
    """Asks for a refresh after a batch when the rules above allow it; `min_gap_s <= 0` switches it off."""

    def __init__(self, refresh: Callable[[], None], *, min_gap_s: float, max_records: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._refresh = refresh
        self.min_gap_s = min_gap_s
        self.max_records = max_records
        self._clock = clock
        self._last = -float("inf")

    @property
    def enabled(self) -> bool:
        return self.min_gap_s > 0

    def after_batch(self, records: int) -> bool:
        """True when it refreshed. `records`: how many the batch just written and committed held."""
        if not self.enabled or records > self.max_records:
            return False
        now = self._clock()
        if now - self._last < self.min_gap_s:
            return False
        self._last = now
        try:
            self._refresh()
        except EngineError as error:
            metrics.REFRESHES_ASKED.labels("failed").inc()
            log.warning("refresh after write failed; the periodic refresh makes the batch searchable",
                        error=str(error)[:300])
            return False
        metrics.REFRESHES_ASKED.labels("done").inc()
        return True
