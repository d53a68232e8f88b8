"""Tiering on the real OpenSearch: every transition, reads across tiers, rehydration, late changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.search_engine import AsyncSearchEngine, Feature, SearchEngine
from ingest.writer import OrderStoreWriter
from index_templates import IndexNames
from order_domain.model import ChangeKind, Channel, OrderChange, ReturnLink
from order_domain.tier_policy import Tier, TierThresholds
from adapters.engine_settings import engine_config
from retention.mover import Mover
from retention.read_recorder import ReadRecorder
from retention.storage import unsealed_warm_indices
from retention.tier_reader import TierReader
from retention.write_gate import WriteGate
from settings import Settings
from tests.integration.tiering_support import T0, Clock, census, ingest, order_id, timeline_ids, two_month_store

pytestmark = pytest.mark.engine_features(Feature.SCRIPTS, Feature.BY_QUERY)  # mover: guarded steps, cleanup

N = 60


@pytest.fixture
def tiered(isolated: Settings, engine: SearchEngine, tmp_path: Path) -> tuple[Mover, Clock]:
    return two_month_store(engine, isolated.index_prefix, str(tmp_path / "cold"), orders=N)


def _tiers(engine: SearchEngine, mover: Mover) -> dict[str, str]:
    return {i: e["tier"] for i, e in census(engine, mover)["entries"].items()}


def _assert_each_order_in_exactly_its_tier(engine: SearchEngine, mover: Mover, expected: int) -> None:
    seen = census(engine, mover)
    assert len(seen["entries"]) == expected
    for order, entry in seen["entries"].items():
        assert entry.get("pending") is None
        for tier, copies in seen["copies"].items():
            assert copies[order] == (1 if entry["tier"] == tier else 0), (order, tier, entry["tier"])


def test_hot_to_warm_to_cold_to_deleted(tiered: tuple[Mover, Clock], engine: SearchEngine) -> None:
    mover, clock = tiered
    report = mover.run_pass()
    assert report.examined == N and sum(report.moved.values()) == 0  # all changed within the hot window
    assert set(_tiers(engine, mover).values()) == {"hot"}

    clock.now = T0 + timedelta(days=100)  # every order idle 30..100 days
    report = mover.run_pass()
    assert report.moved == {("hot", "warm"): N}
    _assert_each_order_in_exactly_its_tier(engine, mover, N)
    assert unsealed_warm_indices(engine, mover.names) == []
    months = {e["created_month"] for e in census(engine, mover)["entries"].values()}
    assert engine.aliases_of(mover.names.warm_alias("orders")) == sorted(
        mover.names.warm_index("orders", m) for m in months)
    warm = mover.names.warm_index("order-events", "2025.01")
    assert len(timeline_ids(engine, warm, order_id(0))) == 3 or len(timeline_ids(engine, warm.replace(
        "2025.01", "2025.02"), order_id(0))) == 3
    assert timeline_ids(engine, mover.names.hot.events, order_id(0)) == []

    clock.now = T0 + timedelta(days=300)
    assert mover.run_pass().moved == {("warm", "cold"): N}
    _assert_each_order_in_exactly_its_tier(engine, mover, N)
    assert engine.count(mover.names.warm_alias("orders")) == 0

    clock.now = T0 + timedelta(days=2100)  # past the 2000-day cold retention
    assert mover.run_pass().moved == {("cold", "deleted"): N}
    seen = census(engine, mover)
    assert seen["entries"] == {} and sum(sum(c.values()) for c in seen["copies"].values()) == 0
    assert mover.tombstones.tombstoned_orders([order_id(n) for n in range(N)]) == {order_id(n) for n in range(N)}


async def _reader(settings: Settings, mover: Mover, recorder: ReadRecorder | None = None) -> TierReader:
    engine = await AsyncSearchEngine.connect(engine_config(settings))
    return TierReader(engine, mover.names, mover.copies.cold, recorder)


async def test_reads_answer_the_same_from_every_tier_and_say_which(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings,
) -> None:
    mover, clock = tiered
    reader = await _reader(isolated, mover)
    try:
        hot = await reader.by_reference("#W7")
        assert hot is not None and hot.tier is Tier.HOT and hot.order_id == order_id(7)
        clock.now = T0 + timedelta(days=100)
        mover.run_pass()
        warm = await reader.by_reference("1Z00000007")  # tracking number, any case
        assert warm is not None and warm.tier is Tier.WARM and warm.document == hot.document
        clock.now = T0 + timedelta(days=300)
        mover.run_pass()
        cold = await reader.by_reference(order_id(7))
        assert cold is not None and cold.tier is Tier.COLD and cold.document == hot.document
        tier, timeline = await reader.timeline(order_id(7))  # type: ignore[misc]
        assert tier is Tier.COLD and [e["kind"] for e in timeline] == ["created", "fulfillment", "status_changed"]
        keys = hot.document["identity_keys"][:1]
        first = await reader.customer_history(keys, size=2)
        rest = await reader.customer_history(keys, size=100, after=first.next_after)
        ids = [o.order_id for o in first.orders + rest.orders]
        placed = [o.document["placed_at"] for o in first.orders + rest.orders]
        assert placed == sorted(placed, reverse=True) and len(ids) == len(set(ids)) >= 2
        assert {o.tier for o in first.orders + rest.orders} == {Tier.COLD}
    finally:
        await reader.engine.close()


async def test_an_order_read_from_cold_more_than_n_times_is_rehydrated(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings,
) -> None:
    mover, clock = tiered
    clock.now = T0 + timedelta(days=300)
    assert mover.run_pass().moved == {("hot", "cold"): N}
    rehydrated: list[str] = []

    async def rehydrate(ids: list[str]) -> None:
        rehydrated.extend(mover.rehydrate(ids))

    reader = await _reader(isolated, mover)
    reader.recorder = ReadRecorder(reader.engine, mover.names, thresholds=mover.thresholds,  # after 2 cold reads
                                   on_rehydrate=rehydrate)
    try:
        for _ in range(2):
            assert (await reader.by_reference("#W3")).tier is Tier.COLD  # type: ignore[union-attr]
        assert await reader.recorder.flush() == [] and rehydrated == []
        assert (await reader.by_reference("#W3")).tier is Tier.COLD  # type: ignore[union-attr]
        assert await reader.recorder.flush() == [order_id(3)]
        assert rehydrated == [order_id(3)]
        again = await reader.by_reference("#W3")
        assert again is not None and again.tier is Tier.HOT
    finally:
        await reader.engine.close()
    seen = census(engine, mover)
    entry = seen["entries"][order_id(3)]
    assert (entry["read_count"], entry["cold_reads"], entry["tier"]) == (3, 0, "hot")
    assert (seen["copies"]["hot"][order_id(3)], seen["copies"]["cold"][order_id(3)]) == (1, 1)  # named by nobody
    mover.finish()  # the pass's sweep drops the row the flip left behind
    _assert_each_order_in_exactly_its_tier(engine, mover, N)
    assert len(timeline_ids(engine, mover.names.hot.events, order_id(3))) == 3


@asynccontextmanager
async def _recorder_loop(
    settings: Settings, mover: Mover, *, thresholds: TierThresholds,
) -> AsyncIterator[tuple[TierReader, asyncio.Queue[list[str]]]]:
    """A tier reader whose recorder runs its own loop as in the API (its regular flush an hour away, so
    only a wake-up by a warm or cold read can flush) and hands orders to the mover's own move; the
    queue receives the ids each hand-over moved. `thresholds` are the recorder's policy."""
    handed: asyncio.Queue[list[str]] = asyncio.Queue()

    async def hand_over(ids: list[str]) -> None:
        await handed.put(sorted(await asyncio.to_thread(mover.rehydrate, ids)))

    reader = await _reader(settings, mover)
    reader.recorder = ReadRecorder(reader.engine, mover.names, flush_s=3600, soon_s=0.1,
                                   thresholds=thresholds, on_rehydrate=hand_over)
    reader.recorder.start()
    try:
        yield reader, handed
    finally:
        await reader.recorder.stop()
        await reader.engine.close()


async def test_an_order_read_from_cold_again_is_rehydrated_by_the_recorder_loop_before_its_regular_flush(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings,
) -> None:
    """The default policy (rehydrate after more than one cold read), with the recorder's own loop:
    a cold read wakes it, so the second read hands the order over long before `flush_s`."""
    mover, clock = tiered
    clock.now = T0 + timedelta(days=300)
    assert mover.run_pass().moved == {("hot", "cold"): N}
    async with _recorder_loop(isolated, mover, thresholds=TierThresholds()) as (reader, handed):
        for reference in ("#W4", "#W6", "#W4"):  # #W4 read again
            assert (await reader.by_reference(reference)).tier is Tier.COLD  # type: ignore[union-attr]
        assert await asyncio.wait_for(handed.get(), timeout=60) == [order_id(4)]
        assert (await reader.by_reference("#W4")).tier is Tier.HOT  # type: ignore[union-attr]
    entries = census(engine, mover)["entries"]
    assert (entries[order_id(4)]["tier"], entries[order_id(4)]["read_count"]) == ("hot", 3)
    assert (entries[order_id(6)]["tier"], entries[order_id(6)]["cold_reads"]) == ("cold", 1)  # one read: stays
    assert handed.empty()


async def test_a_warm_order_read_busy_reads_times_is_back_in_hot_after_the_recorder_flushes(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings,
) -> None:
    """Busy (3 reads in the read window) makes a warm order hot; the recorder's own loop, woken by
    the warm reads, hands it to the mover's move at once instead of waiting for the next pass."""
    mover, clock = tiered
    clock.now = T0 + timedelta(days=100)
    assert mover.run_pass().moved == {("hot", "warm"): N}
    async with _recorder_loop(isolated, mover, thresholds=mover.thresholds) as (reader, handed):
        for reference in ("#W4", "#W6", "1Z00000004", order_id(6), "#W4"):  # #W4 three times, #W6 twice
            assert (await reader.by_reference(reference)).tier is Tier.WARM  # type: ignore[union-attr]
        assert await asyncio.wait_for(handed.get(), timeout=60) == [order_id(4)]
        assert (await reader.by_reference("#W4")).tier is Tier.HOT  # type: ignore[union-attr]
    assert handed.empty()  # #W6, read twice, stays warm
    entries = census(engine, mover)["entries"]
    assert (entries[order_id(4)]["tier"], entries[order_id(4)]["read_count"]) == ("hot", 4)
    assert (entries[order_id(6)]["tier"], entries[order_id(6)]["recent_reads"]) == ("warm", 2)
    _assert_each_order_in_exactly_its_tier(engine, mover, N)  # the warm copy was deleted by the move
    assert len(timeline_ids(engine, mover.names.hot.events, order_id(4))) == 3
    assert mover.run_pass().moved == {}  # the pass agrees: #W4 stays hot, #W6 warm


async def test_without_warm_promotion_the_recorder_leaves_busy_warm_orders_to_the_pass(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings,
) -> None:
    mover, clock = tiered
    clock.now = T0 + timedelta(days=100)
    mover.run_pass()
    handed: list[str] = []

    async def promote(ids: list[str]) -> None:
        handed.extend(ids)

    reader = await _reader(isolated, mover)
    reader.recorder = ReadRecorder(reader.engine, mover.names, thresholds=mover.thresholds, promote_warm=False,
                                   on_rehydrate=promote)
    try:
        for _ in range(3):
            assert (await reader.by_reference("#W5")).tier is Tier.WARM  # type: ignore[union-attr]
        assert await reader.recorder.flush() == [] and handed == []
    finally:
        await reader.engine.close()
    assert census(engine, mover)["entries"][order_id(5)]["tier"] == "warm"
    assert mover.run_pass().moved == {("warm", "hot"): 1}


@pytest.mark.parametrize("days", [100, 300], ids=["warm", "cold"])
def test_a_late_change_brings_the_order_back_to_hot_with_its_full_history(
    tiered: tuple[Mover, Clock], engine: SearchEngine, isolated: Settings, days: int,
) -> None:
    mover, clock = tiered
    clock.now = T0 + timedelta(days=days)
    mover.run_pass()
    late = OrderChange(event_id="late-return", order_id=order_id(5), channel=Channel.STORE, source="pos",
                       kind=ChangeKind.RETURN, occurred_at=clock.now,
                       returns=(ReturnLink(return_id="r1", channel=Channel.STORE, status="received"),))
    admission = WriteGate(mover).admit([late])
    assert admission.rehydrated == {order_id(5)} and admission.to_write == [late]
    outcome = OrderStoreWriter(engine, IndexNames(isolated.index_prefix)).write(admission.to_write)
    assert outcome.orders_written == 1
    mover.locator.sync_from_hot()
    engine.refresh(mover.names.hot.orders)
    stored = engine.get(mover.names.hot.orders, order_id(5))["_source"]  # type: ignore[index]
    assert stored["status"] == "completed" and stored["returns"][0]["return_id"] == "r1"
    assert [r["value"] for r in stored["references"]] == ["#W5"]  # the history merged, not a new order
    assert len(timeline_ids(engine, mover.names.hot.events, order_id(5))) == 4
    left_behind = census(engine, mover)["copies"]
    assert (left_behind["warm"][order_id(5)], left_behind["cold"][order_id(5)]) == (0, 1 if days == 300 else 0)
    mover.finish()  # a warm copy is deleted at once; a cold row waits for the pass's sweep
    _assert_each_order_in_exactly_its_tier(engine, mover, N)
    assert census(engine, mover)["entries"][order_id(5)]["tier"] == "hot"
    assert mover.run_pass().moved == {}  # changed just now: it stays hot
