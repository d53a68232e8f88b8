"""The tiered reader's one-round-trip rule on the real engine (`query_api.together`): with no move
anywhere, a hot order without a locator entry is answered in one round trip; once a move has
begun, every locator view shows it (the mover refreshes after writing the intent, before copying),
and a read in the middle of a move still answers exactly one copy, the one the locator names."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine, Feature, SearchEngine
from index_templates import IndexNames
from order_domain.tier_policy import Tier
from query_api.auth import Caller, Role
from query_api.cold_tier import ColdTier
from query_api.engine_reader import EngineOrderReader
from query_api.tier_wiring import HotAndWarmNames
from query_api.read_port import lookup_and_timeline, timeline_of
from query_api.tiered_reader import TieredOrderReader, tier_of_index
from query_api.together import MOVES, settled
from retention.mover import Decision, Mover
from retention.tier_reader import TierReader
from settings import Settings
from tests.integration.tiering_support import T0, Clock, ingest, make_mover, order_id

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # the mover's guarded steps
CSR = Caller(subject="test", role=Role.CSR)


def _reader(engine: AsyncSearchEngine, mover: Mover, prefix: str, *, hot: bool = False) -> TieredOrderReader:
    tiers = TierReader(engine, mover.names, mover.copies.cold)
    engine_tiers = EngineOrderReader(engine, HotAndWarmNames(prefix), tier_of=tier_of_index, screen=tiers.authoritative)
    return TieredOrderReader(engine_tiers, ColdTier(tiers), hot=EngineOrderReader(engine, IndexNames(prefix))
                             if hot else None)


async def _lookup(engine: AsyncSearchEngine, reader: TieredOrderReader, reference: str) -> tuple[list[Any], int]:
    """The orders a reference lookup answers (tier, id) and how many engine requests it took."""
    sent: list[str] = []
    engine.observer = lambda method, seconds, status: sent.append(method)
    found = await reader.find_by_reference(reference, CSR)
    engine.observer = None
    return [(item.tier, item.document["order_id"]) for item in found], len(sent)


def _moves_seen(engine: SearchEngine, mover: Mover) -> bool:
    return not settled(engine.search(mover.names.locator, MOVES))


def test_one_trip_while_nothing_moved_and_one_copy_in_the_middle_of_a_move(
        isolated: Settings, engine: SearchEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = isolated.index_prefix
    ingest(engine, prefix, range(4))
    mover = make_mover(engine, prefix, str(tmp_path / "cold"), clock=Clock(T0))
    # searches see the locator only when someone refreshes it: a move must not rely on the periodic refresh
    engine.request("PUT", f"/{mover.names.locator}/_settings", body={"index": {"refresh_interval": "-1"}})
    seen_before_copy: list[bool] = []
    read_sources = mover._read_sources

    def copying(entries: Any) -> Any:
        seen_before_copy.append(_moves_seen(engine, mover))
        return read_sources(entries)

    monkeypatch.setattr(mover, "_read_sources", copying)
    left_behind: list[dict[str, Any]] = []
    monkeypatch.setattr(mover, "cleanup", lambda entries, **_: left_behind.append(entries))

    async def scenario() -> None:
        client = await AsyncSearchEngine.connect(engine_config(isolated), lean=True)
        try:
            reader = _reader(client, mover, prefix)
            assert await _lookup(client, reader, "#W1") == ([(Tier.HOT, order_id(1))], 1)  # no entries at all
            mover.locator.sync_from_hot()  # hot entries only: still no move anywhere
            assert await _lookup(client, reader, "#W1") == ([(Tier.HOT, order_id(1))], 1)
            entry = mover.locator.get([order_id(1)])[order_id(1)]["_source"]
            assert mover.move([Decision(entry, Tier.WARM)], Tier.WARM) == {order_id(1)}
            # flipped, the hot source not deleted yet: both copies exist, the locator names warm
            assert left_behind and engine.get(mover.names.hot.orders, order_id(1)) is not None
            assert await _lookup(client, reader, "#W1") == ([(Tier.WARM, order_id(1))], 2)  # checked by id
            assert await _lookup(client, reader, "#W2") == ([(Tier.HOT, order_id(2))], 1)  # its entry confirms it
        finally:
            await client.close()

    asyncio.run(scenario())
    assert seen_before_copy == [True]  # the intent was searchable before any copy existed


def test_a_timeline_by_global_id_rides_in_the_lookups_round_trip(
        isolated: Settings, engine: SearchEngine, tmp_path: Path) -> None:
    prefix = isolated.index_prefix
    ingest(engine, prefix, range(3))
    mover = make_mover(engine, prefix, str(tmp_path / "cold"), clock=Clock(T0))

    async def scenario() -> None:
        client = await AsyncSearchEngine.connect(engine_config(isolated), lean=True)
        try:
            reader = _reader(client, mover, prefix, hot=True)
            sent: list[str] = []
            client.observer = lambda method, seconds, status: sent.append(method)
            found, early = await lookup_and_timeline(reader, order_id(1), CSR, limit=200)
            assert len(sent) == 1 and [item.document["order_id"] for item in found] == [order_id(1)]
            shown = timeline_of(found[0], early)
            separate = await reader.timeline(order_id(1), limit=200, tier=Tier.HOT)
            assert shown is not None and shown.entries and shown == separate  # the very answer of a second read
            found, early = await lookup_and_timeline(reader, "#W1", CSR, limit=200)  # not a global id
            assert [item.document["order_id"] for item in found] == [order_id(1)] and early is not None
            assert timeline_of(found[0], early) is None  # read separately, as before
        finally:
            await client.close()

    asyncio.run(scenario())
