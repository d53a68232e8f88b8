"""Measured reads, recorded off the request path (async adapter for the query API).

`record(order_id, tier)` only adds to an in-memory counter (no I/O, no await), so a read's
latency does not change. A background task flushes the counts every `flush_s` seconds as
one bulk of scripted updates of the locator (lifetime count, reads in the current read
window, reads served from cold, last read). Losing the counts of the last few seconds in
a crash is accepted. After a flush, orders read from cold more than the threshold are
handed to `on_rehydrate` (the wiring runs `Mover.rehydrate` in a worker thread).

A read served from cold does not wait for the regular flush: it wakes the loop, which
flushes `cold_flush_s` later (reads of the same burst ride along), so an order read from
cold again is handed over within about a second instead of up to `flush_s`, and its next
reads come from hot. Cold reads are rare (about 1 % of reads), so the extra flushes are few:
at most one per `cold_flush_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from adapters.search_engine import AsyncSearchEngine
from order_domain.tier_policy import Tier
from retention import metrics
from retention.storage import TierNames

_RECORD = """
ctx._source.read_count = (ctx._source.read_count == null ? 0 : ctx._source.read_count) + params.n;
ctx._source.last_read = params.at;
if (ctx._source.recent_since == null || ctx._source.recent_since.compareTo(params.window_start) < 0) {
  ctx._source.recent_since = params.at; ctx._source.recent_reads = params.n;
} else { ctx._source.recent_reads = (ctx._source.recent_reads == null ? 0 : ctx._source.recent_reads) + params.n; }
if (ctx._source.tier == 'cold') {
  ctx._source.cold_reads = (ctx._source.cold_reads == null ? 0 : ctx._source.cold_reads) + params.cold;
}
"""


def stamp(moment: datetime) -> str:
    """Fixed-width UTC timestamps: they compare correctly as strings inside the script."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReadRecorder:
    def __init__(self, engine: AsyncSearchEngine, names: TierNames, *, flush_s: float = 5.0,
                 read_window_days: int = 30, rehydrate_after_cold_reads: int = 1, cold_flush_s: float = 0.5,
                 on_rehydrate: Callable[[list[str]], Awaitable[Any]] | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.engine = engine
        self.names = names
        self.flush_s = flush_s
        self.cold_flush_s = min(cold_flush_s, flush_s)
        self.read_window = timedelta(days=read_window_days)
        self.rehydrate_after = rehydrate_after_cold_reads
        self.on_rehydrate = on_rehydrate
        self.clock = clock
        self._reads: Counter[str] = Counter()
        self._cold: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._cold_read = asyncio.Event()  # set by a cold read: flush soon (binds to the loop on first wait)

    def record(self, order_id: str, tier: Tier) -> None:
        self._reads[order_id] += 1
        if tier is Tier.COLD:
            self._cold[order_id] += 1
            if self.on_rehydrate is not None:
                self._cold_read.set()

    async def flush(self) -> list[str]:
        """Send the counts gathered so far; returns the orders handed over for rehydration."""
        reads, cold = self._reads, self._cold
        self._reads, self._cold = Counter(), Counter()
        if not reads:
            return []
        now = self.clock()
        lines: list[bytes] = []
        for order_id, n in reads.items():
            lines.append(orjson.dumps({"update": {"_index": self.names.locator, "_id": order_id,
                                                  "retry_on_conflict": 5}}))
            params = {"n": n, "cold": cold[order_id], "at": stamp(now), "window_start": stamp(now - self.read_window)}
            lines.append(orjson.dumps({"script": {"source": _RECORD, "lang": "painless", "params": params}}))
        await self.engine.request("POST", "/_bulk", params={"refresh": "false"}, body=b"\n".join(lines).decode() + "\n")
        for tier, counter in (("cold", cold), ("all", reads)):
            metrics.READS_RECORDED.labels(tier).inc(sum(counter.values()))
        return await self._hand_over(list(cold))

    async def _hand_over(self, cold_ids: list[str]) -> list[str]:
        if not cold_ids or self.on_rehydrate is None:
            return []
        answer = await self.engine.request("POST", f"/{self.names.locator}/_mget", body={"ids": cold_ids})
        due = [doc["_id"] for doc in answer["docs"] if doc.get("found") and doc["_source"]["tier"] == Tier.COLD
               and int(doc["_source"].get("cold_reads") or 0) > self.rehydrate_after]
        if due:
            await self.on_rehydrate(due)
        return due

    async def _next_flush(self) -> None:
        """Wait `flush_s`, or `cold_flush_s` once a cold read is counted (whichever comes first)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cold_read.wait(), self.flush_s - self.cold_flush_s)
        await asyncio.sleep(self.cold_flush_s)
        self._cold_read.clear()

    async def _loop(self) -> None:
        while True:
            await self._next_flush()
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - counts are best effort; the next flush tries again
                continue

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="read-recorder")

    async def stop(self) -> None:
        """Stop the loop and flush what is left (call on API shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
