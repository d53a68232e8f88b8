"""The API's tiering objects, built once per process in the app's lifespan.

- the reader: `TieredOrderReader` over hot + warm (one engine query over both index
  families) and cold (locator + Parquet);
- the `ReadRecorder`: counts reads in memory and flushes them every
  `ORDERREPO_TIER_READ_FLUSH_S` seconds as one bulk of locator updates, off the request
  path; after a flush, the warm and cold orders just read that the policy now places in hot
  (busy: `ORDERREPO_TIER_BUSY_READS` reads in the read window; or read from cold more than
  `ORDERREPO_TIER_REHYDRATE_AFTER_COLD_READS` times) are moved there by the mover, in a worker
  thread (the mover is synchronous); `ORDERREPO_TIER_PROMOTE_WARM_ON_READ=false` leaves busy
  warm orders to the next pass;
- a synchronous engine client for the mover and for the per-tier report of the console;
- a start-up warm-up of the cold store: the newest cold parts' footers (at most the store's
  part cache, 32) are opened in a worker thread in the background, so the first cold lookups
  after a restart do not pay the part open. Readiness does not wait for it (the app answers at
  once; a read that comes first opens its part itself, as before); a failure is logged, never
  raised; shutdown cancels it.
Everything here comes from `retention` and the engine adapter: the API still never loads
Kafka or the ingest worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from adapters.cold_store import ColdStore
from adapters.engine_settings import connect_engine
from adapters.search_engine import AsyncSearchEngine, SearchEngine
from index_templates import IndexNames
from query_api.cold_tier import ColdTier
from query_api.engine_reader import EngineOrderReader
from query_api.tiered_reader import TieredOrderReader, tier_of_index
from retention.config import build_mover, cold_store_from, tier_names
from retention.read_recorder import ReadRecorder
from retention.report import tier_report
from retention.storage import TierNames
from retention.tier_reader import TierReader
from settings import Settings
from settings.log_setup import get_logger

log = get_logger(__name__)


class HotAndWarmNames(IndexNames):
    """Each order index family read as hot plus every warm month index (a wildcard, so a
    deployment without warm indices yet reads hot alone instead of failing)."""

    def read_alias(self, family: str) -> str:
        return f"{self.prefix}-{family},{self.prefix}-{family}-warm-*"


@dataclass
class TierServices:
    reader: TieredOrderReader
    recorder: ReadRecorder
    sync_engine: SearchEngine
    names: TierNames
    cold: ColdStore
    warm_up: asyncio.Task[list[str]] | None = field(default=None)

    def report(self) -> list[dict[str, Any]]:
        """Orders and bytes per tier (summed over months), hot, warm, cold (blocking: run in a thread)."""
        totals: dict[str, dict[str, Any]] = {t: {"tier": t, "orders": 0, "bytes": 0} for t in ("hot", "warm", "cold")}
        for row in tier_report(self.sync_engine, self.names, self.cold):
            if row.tier in totals:
                totals[row.tier]["orders"] += row.orders
                totals[row.tier]["bytes"] += row.bytes
        return list(totals.values())

    async def close(self) -> None:
        """Flush the reads counted so far, then release the synchronous client."""
        if self.warm_up is not None and not self.warm_up.done():
            self.warm_up.cancel()  # the worker thread finishes its part; nothing waits for it
            with contextlib.suppress(asyncio.CancelledError):
                await self.warm_up
        try:
            await self.recorder.stop()
        finally:
            self.sync_engine.close()


async def open_cold_parts(cold: ColdStore) -> list[str]:
    """Open the newest cold parts in a worker thread (bounded by the store's part cache); logs
    what it opened and how long it took. Best effort: a failure leaves reads to open parts."""
    started = time.perf_counter()
    try:
        opened = await asyncio.to_thread(cold.open_newest)
    except Exception as error:  # noqa: BLE001 - a warm-up; reads open their parts themselves
        log.warning("cold_parts_warm_up_failed", error=str(error)[:500])
        return []
    log.info("cold_parts_opened", parts=len(opened), ms=round((time.perf_counter() - started) * 1000, 1))
    return opened


async def open_tier_services(settings: Settings, engine: AsyncSearchEngine) -> TierServices:
    """Build and start (the recorder's flush loop) the tiering objects of one API process."""
    names, cold = tier_names(settings), cold_store_from(settings)
    sync_engine = await asyncio.to_thread(connect_engine, settings)
    mover = await asyncio.to_thread(build_mover, settings, sync_engine, cold=cold)
    tier = settings.tier
    recorder = ReadRecorder(engine, names, flush_s=tier.read_flush_s, thresholds=mover.thresholds,
                            promote_warm=tier.promote_warm_on_read,
                            on_rehydrate=lambda ids: asyncio.to_thread(mover.rehydrate, ids))
    tiers = TierReader(engine, names, cold)  # reads are recorded by the tiered reader, once
    engine_tiers = EngineOrderReader(engine, HotAndWarmNames(settings.index_prefix), tier_of=tier_of_index,
                                     screen=tiers.authoritative)
    recorder.start()
    hot = EngineOrderReader(engine, IndexNames(settings.index_prefix))
    return TierServices(TieredOrderReader(engine_tiers, ColdTier(tiers), hot=hot, recorder=recorder),
                        recorder, sync_engine, names, cold,
                        warm_up=asyncio.create_task(open_cold_parts(cold), name="cold-parts-warm-up"))
