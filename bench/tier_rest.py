"""The warm rest against the reads that touch cold: what each `cold_after_idle_days` would give
under the skewed workload, and what it would cost in storage (part of `bench.tier_workload`).

Almost every read that touches cold in the skewed workload is the first read of an old order
in the long tail, which no read-based policy can anticipate; the share of such reads is the
tail's share of the reads times the share of old orders resting in cold. Only the rest in warm
(days idle before cold) changes that share, at the price of keeping more orders warm. This
model replays the workload's own draws (same population, same seeds) through the real policy
(`order_domain.tier_policy.decide_tier`) for several rests, without the engine:
- the training reads mark each read order as read at the pass (as the read recorder does);
- one pass decides every order's tier from its locator facts at load time plus those reads;
- the measured reads count a touch of cold for every read of an order the pass left in cold,
  and bring an order back to hot once read from cold more than `rehydrate_after_cold_reads`
  times (the recorder's rehydration; its flush delay is ignored). A busy warm order the recorder
  brings back to hot is not modelled, on purpose: it changes which tier serves warm reads, never
  whether a read touches cold, the only share this model answers for.
Storage per order is each tier's count times that tier's bytes per order, measured in the same
bench run (`bench.tier_bench`: hot, warm and cold copies of the same orders). The model at the
configured rest is reported beside the measured share of the same run: that is its check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from order_domain.tier_policy import OrderFacts, Tier, TierThresholds, decide_tier

REST_DAYS = (60, 90, 120, 180, 240, 270, 300, 365)  # the bench's history spans 400 days


class WorkloadRead(Protocol):
    @property
    def order_id(self) -> str: ...


def tiers_after_pass(facts: Mapping[str, OrderFacts], training: Sequence[WorkloadRead], *,
                     thresholds: TierThresholds, now: datetime) -> dict[str, Tier]:
    """Each order's tier after one pass at `now`, its training reads recorded as reads at `now`."""
    reads = Counter(read.order_id for read in training)
    tiers: dict[str, Tier] = {}
    for order_id, order in facts.items():
        if reads[order_id]:
            since = order.recent_since or now
            order = replace(order, last_read=now, recent_since=since, recent_reads=order.recent_reads + reads[order_id])
        tiers[order_id] = decide_tier(order, thresholds, now)
    return tiers


def cold_touches(tiers: Mapping[str, Tier], measured: Sequence[WorkloadRead], *, rehydrate_after: int) -> int:
    """Reads served from cold; an order read from cold more than `rehydrate_after` times is hot after."""
    tier_now = dict(tiers)
    cold_reads: Counter[str] = Counter()
    touched = 0
    for read in measured:
        if tier_now.get(read.order_id) is Tier.COLD:
            touched += 1
            cold_reads[read.order_id] += 1
            if cold_reads[read.order_id] > rehydrate_after:
                tier_now[read.order_id] = Tier.HOT
    return touched


def storage_per_order(tiers: Mapping[str, Tier], bytes_per_order: Mapping[str, float]) -> float:
    """Mean bytes per order over every order, each at its tier's measured bytes per order."""
    counts = Counter(str(tier) for tier in tiers.values())
    return sum(n * bytes_per_order[tier] for tier, n in counts.items()) / max(1, len(tiers))


def rest_sweep(facts: Mapping[str, OrderFacts], training: Sequence[WorkloadRead], measured: Sequence[WorkloadRead],
               *, thresholds: TierThresholds, now: datetime, bytes_per_order: Mapping[str, float] | None = None,
               rest_days: Sequence[int] = REST_DAYS) -> list[dict[str, Any]]:
    """Per rest (days idle before cold): tier shares of the orders, the share of the measured
    reads touching cold, and (given each tier's bytes per order) the mean bytes per order and
    its ratio to the configured rest's."""
    rows = []
    for days in sorted({*rest_days, thresholds.cold_after_idle_days}):
        policy = replace(thresholds, cold_after_idle_days=max(days, thresholds.warm_after_idle_days))
        tiers = tiers_after_pass(facts, training, thresholds=policy, now=now)
        counts = Counter(str(tier) for tier in tiers.values())
        row: dict[str, Any] = {
            "cold_after_idle_days": days, "configured": days == thresholds.cold_after_idle_days,
            "orders": {tier: round(counts[tier] / len(tiers), 4) for tier in ("hot", "warm", "cold")},
            "all_reads_touching_cold": round(cold_touches(
                tiers, measured, rehydrate_after=thresholds.rehydrate_after_cold_reads) / max(1, len(measured)), 4)}
        if bytes_per_order:
            row["bytes_per_order"] = round(storage_per_order(tiers, bytes_per_order), 1)
        rows.append(row)
    if bytes_per_order:
        base = next(row["bytes_per_order"] for row in rows if row["configured"])
        for row in rows:
            row["bytes_vs_configured"] = round(row["bytes_per_order"] / base, 3)
    return rows


def shortest_rest_within(rows: Sequence[Mapping[str, Any]], share: float) -> int | None:
    """The shortest rest whose modelled share of reads touching cold is at most `share`."""
    met = [row["cold_after_idle_days"] for row in rows if row["all_reads_touching_cold"] <= share]
    return min(met) if met else None
