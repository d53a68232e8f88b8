"""The tier decision and the write guard (pure), case by case and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from order_domain.tier_policy import (
    ChangeFacts, OrderFacts, Tier, TierThresholds, WriteVerdict, decide_tier, due_for_hot, write_guard,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
T = TierThresholds(hot_window_days=30, warm_after_idle_days=30, cold_after_idle_days=180, read_window_days=30,
                   busy_reads=3, rehydrate_after_cold_reads=3, retention_days={Tier.COLD: 2555})


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def facts(*, tier: Tier = Tier.HOT, closed: bool = True, created: float = 400, changed: float = 400,
          read: float | None = None, recent_reads: int = 0, recent_since: float | None = None,
          cold_reads: int = 0) -> OrderFacts:
    return OrderFacts(tier=tier, closed=closed, created_at=days_ago(created), last_changed=days_ago(changed),
                      last_read=None if read is None else days_ago(read), recent_reads=recent_reads,
                      recent_since=None if recent_since is None else days_ago(recent_since), cold_reads=cold_reads)


@pytest.mark.parametrize("tier", [Tier.HOT, Tier.WARM, Tier.COLD])
def test_an_open_order_is_always_hot_however_old_and_idle(tier: Tier) -> None:
    assert decide_tier(facts(tier=tier, closed=False, created=3000, changed=3000), T, NOW) is Tier.HOT


def test_a_busy_old_order_stays_hot() -> None:
    busy = facts(created=330, changed=300, read=1, recent_reads=3, recent_since=10)
    assert decide_tier(busy, T, NOW) is Tier.HOT


def test_a_busy_warm_order_comes_back_to_hot() -> None:
    assert decide_tier(facts(tier=Tier.WARM, read=1, recent_reads=5, recent_since=20), T, NOW) is Tier.HOT


def test_reads_of_an_expired_read_window_do_not_make_an_order_busy() -> None:
    stale = facts(read=100, recent_reads=50, recent_since=130)
    assert decide_tier(stale, T, NOW) is Tier.WARM


def test_one_read_less_than_busy_keeps_a_hot_order_hot_while_it_is_recent() -> None:
    assert decide_tier(facts(read=2, recent_reads=2, recent_since=20), T, NOW) is Tier.HOT


def test_an_idle_recent_closed_order_goes_warm_only_after_the_hot_window() -> None:
    lenient = TierThresholds(hot_window_days=30, warm_after_idle_days=7, cold_after_idle_days=180)
    assert decide_tier(facts(created=20, changed=20), lenient, NOW) is Tier.HOT
    assert decide_tier(facts(created=29.9, changed=29.9), lenient, NOW) is Tier.HOT
    assert decide_tier(facts(created=30, changed=30), lenient, NOW) is Tier.WARM


def test_idle_time_counts_from_the_later_of_change_and_read() -> None:
    assert decide_tier(facts(changed=100, read=10), T, NOW) is Tier.HOT
    assert decide_tier(facts(changed=100, read=40), T, NOW) is Tier.WARM
    assert decide_tier(facts(changed=200, read=170), T, NOW) is Tier.WARM
    assert decide_tier(facts(changed=200, read=180), T, NOW) is Tier.COLD


@pytest.mark.parametrize(("idle", "expected"), [(29.99, Tier.HOT), (30, Tier.WARM), (179.99, Tier.WARM),
                                                (180, Tier.COLD)])
def test_boundaries_are_inclusive_at_the_threshold(idle: float, expected: Tier) -> None:
    assert decide_tier(facts(created=idle + 1, changed=idle), T, NOW) is expected


def test_a_long_idle_hot_order_goes_straight_to_cold() -> None:
    assert decide_tier(facts(changed=365), T, NOW) is Tier.COLD


def test_a_cold_order_read_more_than_n_times_is_rehydrated() -> None:
    assert decide_tier(facts(tier=Tier.COLD, read=1, cold_reads=3), T, NOW) is Tier.COLD
    assert decide_tier(facts(tier=Tier.COLD, read=1, cold_reads=4), T, NOW) is Tier.HOT


def test_cold_reads_do_not_matter_outside_cold() -> None:
    assert decide_tier(facts(tier=Tier.WARM, changed=100, cold_reads=50), T, NOW) is Tier.WARM


def test_one_read_never_moves_a_warm_or_cold_order_up() -> None:
    assert decide_tier(facts(tier=Tier.WARM, read=1, recent_reads=1, recent_since=1), T, NOW) is Tier.WARM
    assert decide_tier(facts(tier=Tier.COLD, read=1, recent_reads=1, recent_since=1, cold_reads=1), T,
                       NOW) is Tier.COLD


def test_a_recent_change_brings_any_tier_back_to_hot() -> None:
    assert decide_tier(facts(tier=Tier.COLD, changed=1), T, NOW) is Tier.HOT
    assert decide_tier(facts(tier=Tier.WARM, changed=29), T, NOW) is Tier.HOT


def test_retention_deletes_only_past_the_retention_of_the_resting_tier() -> None:
    assert decide_tier(facts(created=2554, changed=2000), T, NOW) is Tier.COLD
    assert decide_tier(facts(tier=Tier.COLD, created=2555, changed=2000), T, NOW) is Tier.DELETED
    assert decide_tier(facts(created=2600, changed=100), T, NOW) is Tier.WARM  # warm keeps forever here


def test_a_busy_order_past_retention_is_kept_while_busy() -> None:
    assert decide_tier(facts(tier=Tier.COLD, created=3000, changed=3000, read=1, recent_reads=9, recent_since=5),
                       T, NOW) is Tier.HOT


def test_retention_per_tier_applies_to_warm_when_configured() -> None:
    warm_retention = TierThresholds(retention_days={Tier.WARM: 365})
    assert decide_tier(facts(created=365, changed=100), warm_retention, NOW) is Tier.DELETED
    assert decide_tier(facts(created=364, changed=100), warm_retention, NOW) is Tier.WARM


def test_deleted_stays_deleted() -> None:
    assert decide_tier(facts(tier=Tier.DELETED, closed=False, changed=0), T, NOW) is Tier.DELETED


def test_thresholds_refuse_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="cold_after_idle_days"):
        TierThresholds(warm_after_idle_days=90, cold_after_idle_days=30)
    with pytest.raises(ValueError, match="busy_reads"):
        TierThresholds(busy_reads=0)
    with pytest.raises(ValueError, match="negative"):
        TierThresholds(hot_window_days=-1)


@given(tier=st.sampled_from([Tier.HOT, Tier.WARM, Tier.COLD]), closed=st.booleans(),
       changed=st.floats(0, 4000), read=st.none() | st.floats(0, 4000), reads=st.integers(0, 20),
       since=st.none() | st.floats(0, 100), cold_reads=st.integers(0, 20), extra_age=st.floats(0, 500))
def test_property_decisions_are_consistent(tier: Tier, closed: bool, changed: float, read: float | None,
                                           reads: int, since: float | None, cold_reads: int,
                                           extra_age: float) -> None:
    order = facts(tier=tier, closed=closed, created=changed + extra_age, changed=changed, read=read,
                  recent_reads=reads, recent_since=since, cold_reads=cold_reads)
    decided = decide_tier(order, T, NOW)
    if not closed:
        assert decided is Tier.HOT
    if decided.rank < tier.rank:  # an upward move always has a reason beyond idle time
        assert not closed or changed < 30 or (reads >= 3 and since is not None and since <= 30) or cold_reads > 3
    moved_reads = cold_reads if decided is tier else 0  # entering a tier resets its cold read count
    again = OrderFacts(**{**order.__dict__, "tier": decided, "cold_reads": moved_reads})
    if decided is not Tier.DELETED and decided.rank >= tier.rank:
        assert decide_tier(again, T, NOW) is decided  # stable: the next pass does not move it again


def test_a_warm_order_is_due_for_hot_once_its_reads_make_it_busy() -> None:
    assert not due_for_hot(facts(tier=Tier.WARM, read=0, recent_reads=2, recent_since=3), T, NOW)
    assert due_for_hot(facts(tier=Tier.WARM, read=0, recent_reads=3, recent_since=3), T, NOW)


def test_reads_of_an_expired_window_never_make_a_warm_order_due() -> None:
    assert not due_for_hot(facts(tier=Tier.WARM, read=0, recent_reads=9, recent_since=31), T, NOW)


def test_a_cold_order_is_due_when_read_from_cold_more_than_n_times_or_busy() -> None:
    assert not due_for_hot(facts(tier=Tier.COLD, read=0, recent_reads=2, recent_since=1, cold_reads=3), T, NOW)
    assert due_for_hot(facts(tier=Tier.COLD, read=0, recent_reads=2, recent_since=1, cold_reads=4), T, NOW)
    assert due_for_hot(facts(tier=Tier.COLD, read=0, recent_reads=3, recent_since=1, cold_reads=0), T, NOW)


def test_hot_and_deleted_orders_are_never_due() -> None:
    assert not due_for_hot(facts(tier=Tier.HOT, read=0, recent_reads=9, recent_since=1), T, NOW)
    assert not due_for_hot(facts(tier=Tier.DELETED, read=0, recent_reads=9, recent_since=1, cold_reads=9), T, NOW)


def test_the_busy_threshold_is_the_one_that_brings_warm_orders_back() -> None:
    eager = TierThresholds(busy_reads=2)
    read_twice = facts(tier=Tier.WARM, read=0, recent_reads=2, recent_since=3)
    assert (due_for_hot(read_twice, eager, NOW), due_for_hot(read_twice, T, NOW)) == (True, False)


@given(tier=st.sampled_from([Tier.WARM, Tier.COLD]), changed=st.floats(0, 4000), reads=st.integers(0, 20),
       since=st.none() | st.floats(0, 100), cold_reads=st.integers(0, 20), extra_age=st.floats(0, 500))
def test_property_an_order_moved_up_when_due_stays_hot_at_the_next_pass(
    tier: Tier, changed: float, reads: int, since: float | None, cold_reads: int, extra_age: float,
) -> None:
    """What the read recorder hands over (just read: the flush stamps `last_read`) is what the pass
    decides, and once in hot with its cold reads reset the pass keeps it there."""
    order = facts(tier=tier, created=changed + extra_age, changed=changed, read=0, recent_reads=reads,
                  recent_since=since, cold_reads=cold_reads)
    due = due_for_hot(order, T, NOW)
    assert due == (decide_tier(order, T, NOW) is Tier.HOT)
    if due:
        assert decide_tier(OrderFacts(**{**order.__dict__, "tier": Tier.HOT, "cold_reads": 0}), T, NOW) is Tier.HOT


ERASED_AT = days_ago(5)


def guard(*changes: ChangeFacts, tiers: dict[str, Tier] | None = None) -> dict[str, WriteVerdict]:
    return write_guard(changes, tiers=tiers or {}, tombstoned_orders={"gone"}, erased_customers={"h1": ERASED_AT})


def test_write_guard_allows_new_and_hot_orders() -> None:
    assert guard(ChangeFacts("new", NOW), ChangeFacts("o1", NOW), tiers={"o1": Tier.HOT}) == {
        "new": WriteVerdict.ALLOWED, "o1": WriteVerdict.ALLOWED}


def test_write_guard_asks_to_rehydrate_warm_and_cold_orders() -> None:
    verdicts = guard(ChangeFacts("w", NOW), ChangeFacts("c", NOW), tiers={"w": Tier.WARM, "c": Tier.COLD})
    assert verdicts == {"w": WriteVerdict.NEEDS_REHYDRATION, "c": WriteVerdict.NEEDS_REHYDRATION}


def test_write_guard_blocks_tombstoned_and_deleted_orders() -> None:
    verdicts = guard(ChangeFacts("gone", NOW), ChangeFacts("d", NOW), tiers={"d": Tier.DELETED})
    assert verdicts == {"gone": WriteVerdict.BLOCKED, "d": WriteVerdict.BLOCKED}


def test_write_guard_blocks_a_replay_of_an_erased_customer_but_not_their_later_orders() -> None:
    replayed = ChangeFacts("old", days_ago(30), ("h1",))
    later = ChangeFacts("later", days_ago(1), ("h1",))
    assert guard(replayed, later) == {"old": WriteVerdict.BLOCKED, "later": WriteVerdict.ALLOWED}


def test_write_guard_one_blocked_change_blocks_its_whole_order() -> None:
    first = ChangeFacts("o", days_ago(30), ("h1",))
    second = ChangeFacts("o", days_ago(1))
    assert guard(first, second) == {"o": WriteVerdict.BLOCKED}
    assert guard(second, first) == {"o": WriteVerdict.BLOCKED}
