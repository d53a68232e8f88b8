"""Measured reads, recorded off the request path (async adapter for the query API).

`record(order_id, tier)` only adds to an in-memory counter (no I/O, no await), so a read's
latency does not change. A background task flushes the counts every `flush_s` seconds as
one bulk of scripted updates of the locator (lifetime count, reads in the current read
window, reads served from cold, last read). Losing the counts of the last few seconds in
a crash is accepted.

After a flush, the orders just read from warm or cold are looked up in the locator (one
`_mget`, which sees the flushed counts at once) and those the policy now places in hot
(`order_domain.tier_policy.due_for_hot`: a warm order read `busy_reads` times in the read
window, a cold order read from cold more than `rehydrate_after_cold_reads` times) are
handed to `on_rehydrate` (the wiring runs `Mover.rehydrate` in a worker thread: the mover's
one journaled move, so exactly one tier answers for the order at every instant). With
`promote_warm=False` only cold orders are handed over and busy warm orders wait for the
next pass.

A read served from warm or cold does not wait for the regular flush: it wakes the loop, which
flushes `soon_s` later (reads of the same burst ride along), so an order that has just become
due is handed over within about a second instead of up to `flush_s`, and its next reads come
from hot. Reads outside hot are a few per cent of reads, so the extra flushes are few: at most
one per `soon_s`.
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
from order_domain.tier_policy import Tier, TierThresholds, due_for_hot
from retention import metrics
from retention.locator import facts_of
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
                 thresholds: TierThresholds | None = None, promote_warm: bool = True, soon_s: float = 0.5,
                 on_rehydrate: Callable[[list[str]], Awaitable[Any]] | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.engine = engine
        self.names = names
        self.flush_s = flush_s
        self.soon_s = min(soon_s, flush_s)
        self.thresholds = thresholds or TierThresholds()
        self.read_window = timedelta(days=self.thresholds.read_window_days)
        self.handed_tiers = (Tier.WARM, Tier.COLD) if promote_warm else (Tier.COLD,)
        self.on_rehydrate = on_rehydrate
        self.clock = clock
        self._reads: Counter[str] = Counter()
        self._cold: Counter[str] = Counter()
        self._outside: set[str] = set()  # read from a tier whose orders may be handed over
        self._task: asyncio.Task[None] | None = None
        self._read_outside = asyncio.Event()  # set by such a read: flush soon (binds to the loop on first wait)

    def record(self, order_id: str, tier: Tier) -> None:
        self._reads[order_id] += 1
        if tier is Tier.COLD:
            self._cold[order_id] += 1
        if tier in self.handed_tiers and self.on_rehydrate is not None:
            self._outside.add(order_id)
            self._read_outside.set()

    async def flush(self) -> list[str]:
        """Send the counts gathered so far; returns the orders handed over to hot."""
        reads, cold, outside = self._reads, self._cold, self._outside
        self._reads, self._cold, self._outside = Counter(), Counter(), set()
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
        return await self._hand_over(sorted(outside), now)

    async def _hand_over(self, order_ids: list[str], now: datetime) -> list[str]:
        """The read orders the policy now places in hot (read back after the flush: `_mget` is
        real-time, it sees the counts just written)."""
        if not order_ids or self.on_rehydrate is None:
            return []
        answer = await self.engine.request("POST", f"/{self.names.locator}/_mget", body={"ids": order_ids})
        due = [doc["_id"] for doc in answer["docs"] if doc.get("found")
               and Tier(doc["_source"]["tier"]) in self.handed_tiers
               and due_for_hot(facts_of(doc["_source"]), self.thresholds, now)]
        if due:
            await self.on_rehydrate(due)
        return due

    async def _next_flush(self) -> None:
        """Wait `flush_s`, or `soon_s` once a read outside hot is counted (whichever comes first)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._read_outside.wait(), self.flush_s - self.soon_s)
        await asyncio.sleep(self.soon_s)
        self._read_outside.clear()

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
