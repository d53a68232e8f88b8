"""The warm-rest model of the tier bench: the real policy applied to a workload's draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.tier_rest import cold_touches, rest_sweep, shortest_rest_within, storage_per_order, tiers_after_pass
from order_domain.tier_policy import OrderFacts, Tier, TierThresholds

NOW = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = TierThresholds(hot_window_days=30, warm_after_idle_days=30, cold_after_idle_days=180,
                        rehydrate_after_cold_reads=1)


@dataclass(frozen=True)
class Read:
    order_id: str


def _order(days_idle: int, *, closed: bool = True) -> OrderFacts:
    changed = NOW - timedelta(days=days_idle)
    return OrderFacts(tier=Tier.HOT, closed=closed, created_at=changed, last_changed=changed)


FACTS = {"new": _order(5), "open": _order(300, closed=False), "w100": _order(100), "c200": _order(200),
         "c300": _order(300), "read300": _order(300)}


def test_the_pass_follows_the_policy_and_a_training_read_keeps_an_order_hot() -> None:
    tiers = tiers_after_pass(FACTS, [Read("read300")], thresholds=POLICY, now=NOW)
    assert tiers == {"new": Tier.HOT, "open": Tier.HOT, "w100": Tier.WARM, "c200": Tier.COLD,
                     "c300": Tier.COLD, "read300": Tier.HOT}


def test_an_order_read_from_cold_more_than_the_threshold_is_rehydrated() -> None:
    tiers = {"a": Tier.COLD, "b": Tier.WARM, "c": Tier.COLD}
    reads = [Read(i) for i in ("a", "a", "a", "a", "b", "c")]
    assert cold_touches(tiers, reads, rehydrate_after=1) == 3  # a twice (then hot), c once
    assert cold_touches(tiers, reads, rehydrate_after=5) == 5
    assert tiers["a"] is Tier.COLD  # the caller's mapping is left alone


def test_storage_is_each_tier_at_its_bytes_per_order() -> None:
    tiers = {"a": Tier.HOT, "b": Tier.WARM, "c": Tier.COLD, "d": Tier.COLD}
    assert storage_per_order(tiers, {"hot": 1000, "warm": 500, "cold": 100}) == (1000 + 500 + 200) / 4


def test_the_sweep_trades_cold_reads_for_storage_as_the_rest_grows() -> None:
    measured = [Read(i) for i in ("new", "c200", "c300", "w100", "c300")]
    rows = rest_sweep(FACTS, [], measured, thresholds=POLICY, now=NOW,
                      bytes_per_order={"hot": 1000, "warm": 500, "cold": 100}, rest_days=(90, 250, 365))
    by_days = {row["cold_after_idle_days"]: row for row in rows}
    assert sorted(by_days) == [90, 180, 250, 365] and [r["configured"] for r in rows] == [False, True, False, False]
    assert [by_days[d]["all_reads_touching_cold"] for d in (90, 180, 250, 365)] == [0.8, 0.6, 0.4, 0.0]
    assert by_days[90]["orders"] == {"hot": 0.3333, "warm": 0.0, "cold": 0.6667}
    assert by_days[180]["bytes_per_order"] == round((2000 + 500 + 300) / 6, 1)
    assert by_days[365]["bytes_vs_configured"] == round(((2000 + 2000) / 6) / ((2000 + 500 + 300) / 6), 3)
    assert shortest_rest_within(rows, 0.5) == 250 and shortest_rest_within(rows, 0.0) == 365
    assert shortest_rest_within(rows[:1], 0.1) is None
