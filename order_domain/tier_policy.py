"""Which tier each order belongs in, decided from measured reads and changes. Pure.

Tiers, hottest first: hot (current indices), warm (per-month, read-only, force-merged
indices), cold (zstd Parquet per month), deleted (gone, with a durable tombstone).

The decision (`decide_tier`) is a function of one order's facts and the thresholds:
- an open order is always hot;
- an order changed within the hot window, or *busy* (at least `busy_reads` reads in
  the current read window) belongs in hot, however old it is;
- otherwise its idle time (since the later of its last change and its last read)
  places it: warm after `warm_after_idle_days`, cold after `cold_after_idle_days`;
- it is deleted once older than the retention of the tier it would sit in;
- moves towards hot need a reason stronger than one read (hysteresis): a warm order
  comes back only when busy or changed, a cold one when read from cold more than
  `rehydrate_after_cold_reads` times, or changed. One stray read never drags an
  order up, and an order never oscillates between passes.

`due_for_hot` is the same decision asked between passes: the API's read recorder asks it
for the warm and cold orders it has just counted reads of, and hands those it answers yes
for to the mover at once (a busy warm order, a cold order read from cold again), instead of
leaving them where they are until the next pass. It is `decide_tier` itself, so the pass
agrees with every such promotion and never moves the order back for the same reads.

`write_guard` is the pure check the write path makes before applying changes: a
tombstoned order (erased or expired) is blocked, an order outside hot must first be
rehydrated (so the late change merges into its full history), anything else goes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Tier(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"
    DELETED = "deleted"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Tier.HOT: 0, Tier.WARM: 1, Tier.COLD: 2, Tier.DELETED: 3}


@dataclass(frozen=True)
class TierThresholds:
    """Policy knobs (documented defaults live in `settings.TieringSettings`)."""

    hot_window_days: int = 30
    warm_after_idle_days: int = 30
    cold_after_idle_days: int = 300
    read_window_days: int = 30
    busy_reads: int = 3
    rehydrate_after_cold_reads: int = 1  # read from cold again: back to hot
    retention_days: Mapping[Tier, int | None] | None = None  # per tier, from creation; None = keep forever

    def __post_init__(self) -> None:
        if min(self.hot_window_days, self.warm_after_idle_days, self.read_window_days) < 0:
            raise ValueError("day thresholds must not be negative")
        if self.cold_after_idle_days < self.warm_after_idle_days:
            raise ValueError("cold_after_idle_days must be at least warm_after_idle_days")
        if self.busy_reads < 1 or self.rehydrate_after_cold_reads < 0:
            raise ValueError("busy_reads must be >= 1 and rehydrate_after_cold_reads >= 0")

    def retention_for(self, tier: Tier) -> int | None:
        return (self.retention_days or {}).get(tier)


@dataclass(frozen=True)
class OrderFacts:
    """What the locator knows about one order."""

    tier: Tier
    closed: bool
    created_at: datetime
    last_changed: datetime
    last_read: datetime | None = None
    recent_reads: int = 0  # reads since `recent_since`
    recent_since: datetime | None = None
    cold_reads: int = 0  # reads served from cold since it last entered cold


def busy(facts: OrderFacts, thresholds: TierThresholds, now: datetime) -> bool:
    """Read at least `busy_reads` times in a read window that is still current."""
    if facts.recent_since is None or now - facts.recent_since > timedelta(days=thresholds.read_window_days):
        return False
    return facts.recent_reads >= thresholds.busy_reads


def idle_days(facts: OrderFacts, now: datetime) -> float:
    last_activity = max(facts.last_changed, facts.last_read or facts.last_changed)
    return max(0.0, (now - last_activity).total_seconds() / 86400)


def _resting_tier(facts: OrderFacts, thresholds: TierThresholds, now: datetime) -> Tier:
    """Where an order would sit by its idle time alone, retention included."""
    idle = idle_days(facts, now)
    tier = Tier.HOT
    if idle >= thresholds.cold_after_idle_days:
        tier = Tier.COLD
    elif idle >= thresholds.warm_after_idle_days:
        tier = Tier.WARM
    age_days = (now - facts.created_at).total_seconds() / 86400
    retention = thresholds.retention_for(tier)
    if tier is not Tier.HOT and retention is not None and age_days >= retention:
        return Tier.DELETED
    return tier


def decide_tier(facts: OrderFacts, thresholds: TierThresholds, now: datetime) -> Tier:
    """The tier this order should be in now (may equal its current tier)."""
    if facts.tier is Tier.DELETED:
        return Tier.DELETED
    changed_recently = now - facts.last_changed < timedelta(days=thresholds.hot_window_days)
    if not facts.closed or changed_recently or busy(facts, thresholds, now):
        return Tier.HOT
    if facts.tier is Tier.COLD and facts.cold_reads > thresholds.rehydrate_after_cold_reads:
        return Tier.HOT
    resting = _resting_tier(facts, thresholds, now)
    if resting.rank < facts.tier.rank:
        return facts.tier  # hysteresis: reads alone (below the thresholds above) never move an order up
    return resting


def due_for_hot(facts: OrderFacts, thresholds: TierThresholds, now: datetime) -> bool:
    """A warm or cold order whose decision is hot now (its reads made it busy, it was read from
    cold more than `rehydrate_after_cold_reads` times, or it changed): move it up without
    waiting for the next pass. Hot and deleted orders never are (`Mover.rehydrate` leaves an
    order alone while a move of it is pending)."""
    return facts.tier in (Tier.WARM, Tier.COLD) and decide_tier(facts, thresholds, now) is Tier.HOT


class WriteVerdict(StrEnum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    NEEDS_REHYDRATION = "needs_rehydration"


@dataclass(frozen=True)
class ChangeFacts:
    """What the write guard needs to know about one incoming change."""

    order_id: str
    occurred_at: datetime
    customer_key_hashes: tuple[str, ...] = ()


def write_guard(
    changes: Iterable[ChangeFacts], *, tiers: Mapping[str, Tier], tombstoned_orders: Collection[str],
    erased_customers: Mapping[str, datetime],
) -> dict[str, WriteVerdict]:
    """Verdict per order id. `tiers`: the locator's tier of each known order (unknown = new,
    goes to hot); `erased_customers`: customer key hash -> when it was erased.

    Blocked: the order is tombstoned, or deleted, or any change of it names an erased
    customer and happened before that erasure (a replay of the erased history). A
    customer who comes back after erasure and orders again is not blocked.
    """
    verdicts: dict[str, WriteVerdict] = {}
    for change in changes:
        if verdicts.get(change.order_id) is WriteVerdict.BLOCKED:
            continue
        tier = tiers.get(change.order_id, Tier.HOT)
        erased_before = any(
            change.occurred_at <= erased_customers[key] for key in change.customer_key_hashes
            if key in erased_customers
        )
        if change.order_id in tombstoned_orders or tier is Tier.DELETED or erased_before:
            verdicts[change.order_id] = WriteVerdict.BLOCKED
        elif tier is not Tier.HOT:
            verdicts[change.order_id] = WriteVerdict.NEEDS_REHYDRATION
        else:
            verdicts.setdefault(change.order_id, WriteVerdict.ALLOWED)
    return verdicts
