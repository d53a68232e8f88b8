"""The skewed read workload of the tier bench: which tier answers, once the mover has acted on
measured reads.

Reads are drawn from a fixed distribution over the loaded orders (by placed date):
- storefront (80 % of reads): a customer opens one of their orders; 90 % of these are orders
  placed in the last 30 days, 9 % are "busy" old orders (2 % of the old orders: returns,
  warranty claims, weekly lookers; Zipf-weighted, the same set in every phase), 1 % are any
  old order (the long tail);
- CSR (20 %): a lookup by order id; 60 % recent, 30 % busy old, 10 % any old order.
Phases: (1) training: the reads go through the tier reader with the API's read recorder,
flushed by its own loop every `READ_FLUSH_S` seconds as in the API (counts to the locator;
warm and cold orders the policy places in hot once read moved there at once, as the API
does); (2) one mover pass with the configured thresholds at the present time; (3)
measurement: the same number of fresh reads (another seed), counting the tier that answered
each one (every answer names it). Reported: shares per role and tier, the share of all reads
that touched cold, and where the reads not served from hot come from (role, bucket, tier, and
whether it was the order's first read in the whole workload: a first read of an order nobody
read before is one no read-based policy can anticipate; a repeat read is the policy's to
serve from hot); the orders the recorder moved to hot in each phase, and every order's tier
at the end with the storage per order it costs (each tier at its measured bytes per order).

Both shares are small counts (about 25 cold reads in 3,000), so one seed says little: the
tier bench runs the workload for several seeds, each on its own freshly loaded orders, and
`spread` reports the mean, the worst seed and every seed's figure; the targets are checked on
the worst seed.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.cold_store import ColdStore
from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine
from bench.tier_rest import rest_sweep, shortest_rest_within, storage_per_order
from order_domain.tier_policy import OrderFacts, Tier
from retention.locator import Locator, facts_of
from retention.mover import Mover
from retention.read_recorder import ReadRecorder
from retention.storage import TierNames
from retention.tier_reader import TierReader
from settings import Settings

MIX = {"storefront": (0.8, (0.90, 0.09, 0.01)), "csr": (0.2, (0.60, 0.30, 0.10))}  # role: share, (recent, busy, tail)


@dataclass(frozen=True)
class Read:
    role: str
    bucket: str  # recent, busy, tail
    order_id: str


@dataclass(frozen=True)
class Served:
    role: str
    bucket: str
    tier: str
    first_read: bool  # nobody had read this order before in the workload


@dataclass(frozen=True)
class Population:
    recent: list[str]
    busy: list[str]
    old: list[str]
    busy_weights: list[float]
    facts: dict[str, OrderFacts] = field(default_factory=dict)  # locator facts when the workload starts

    def draw(self, rng: random.Random, reads: int) -> list[Read]:
        """`reads` (role, bucket, order id) triples from the mix above."""
        roles = list(MIX)
        drawn = []
        for role in rng.choices(roles, weights=[MIX[r][0] for r in roles], k=reads):
            kind = rng.choices(("recent", "busy", "tail"), weights=MIX[role][1])[0]
            if kind == "recent" and self.recent:
                order = rng.choice(self.recent)
            elif kind == "busy" and self.busy:
                order = rng.choices(self.busy, weights=self.busy_weights)[0]
            else:
                order = rng.choice(self.old)
            drawn.append(Read(role, kind, order))
        return drawn


def population(locator: Locator, *, now: datetime, seed: int, recent_days: int = 30) -> Population:
    """Orders by age, from the locator (streamed); busy = a fixed 2 % of the old ones."""
    recent, old = [], []
    facts: dict[str, OrderFacts] = {}
    cutoff = (now - timedelta(days=recent_days)).isoformat()
    for page in locator.scan({"match_all": {}}):
        for hit in page:
            facts[hit["_id"]] = facts_of(hit["_source"])
            placed = hit["_source"].get("placed_at") or ""
            (recent if placed >= cutoff else old).append(hit["_id"])
    if not recent or not old:
        raise ValueError(f"the skewed workload needs orders both newer and older than {recent_days} days "
                         f"(found {len(recent)} and {len(old)}): load more orders (1,000 or more)")
    busy = random.Random(seed).sample(old, max(1, len(old) // 50))
    return Population(recent, busy, old, [1 / (rank + 1) for rank in range(len(busy))], facts)


async def _replay(reader: TierReader, reads: list[Read], seen: set[str]) -> Counter[Served]:
    served: Counter[Served] = Counter()
    for read in reads:
        answer = await reader.by_reference(read.order_id)
        tier = str(answer.tier) if answer is not None else "missing"
        served[Served(read.role, read.bucket, tier, read.order_id not in seen)] += 1
        seen.add(read.order_id)
    return served


async def _phase(settings: Settings, names: TierNames, cold: ColdStore, mover: Mover,
                 reads: list[Read], seen: set[str]) -> tuple[Counter[Served], int]:
    """The reads' tiers, and how many orders the recorder moved to hot meanwhile."""
    engine = await AsyncSearchEngine.connect(engine_config(settings))
    tier = settings.tier
    moved: set[str] = set()

    async def move_up(ids: list[str]) -> None:
        moved.update(await asyncio.to_thread(mover.rehydrate, ids))

    recorder = ReadRecorder(engine, names, flush_s=tier.read_flush_s, thresholds=mover.thresholds,
                            promote_warm=tier.promote_warm_on_read, on_rehydrate=move_up)
    recorder.start()
    try:
        return await _replay(TierReader(engine, names, cold, recorder), reads, seen), len(moved)
    finally:
        await recorder.stop()
        await engine.close()


def tiers_at_end(locator: Locator, bytes_per_order: dict[str, float] | None) -> dict[str, Any]:
    """Orders per tier once the workload is over and, given each tier's bytes per order, the mean
    bytes per order over all of them (what the reads' promotions cost in storage)."""
    tiers: dict[str, Tier] = {}
    for page in locator.scan({"match_all": {}}):
        tiers.update((hit["_id"], Tier(hit["_source"]["tier"])) for hit in page)
    counts = Counter(str(tier) for tier in tiers.values())
    out: dict[str, Any] = {"orders": {tier: counts[tier] for tier in ("hot", "warm", "cold")}}
    if bytes_per_order:
        out["bytes_per_order"] = round(storage_per_order(tiers, bytes_per_order), 1)
    return out


def _shares(served: Counter[Served]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    everything = sum(served.values())
    for role in MIX:
        total = sum(n for s, n in served.items() if s.role == role)
        tiers: Counter[str] = Counter()
        for s, n in served.items():
            if s.role == role:
                tiers[s.tier] += n
        out[role] = {"reads": total, **{t: round(n / total, 4) for t, n in sorted(tiers.items())}}
    cold = sum(n for s, n in served.items() if s.tier == "cold")
    out["all_reads_touching_cold"] = round(cold / everything, 4)
    out["storefront_from_hot"] = out["storefront"].get("hot", 0.0)
    out["cold_reads_that_were_first_reads"] = round(
        sum(n for s, n in served.items() if s.tier == "cold" and s.first_read) / cold, 4) if cold else 0.0
    out["not_from_hot"] = [{"role": s.role, "bucket": s.bucket, "tier": s.tier, "first_read": s.first_read,
                            "reads": n} for s, n in sorted(served.items(), key=lambda item: -item[1])
                           if s.tier != "hot"]
    return out


def skewed_workload(settings: Settings, names: TierNames, cold: ColdStore, mover: Mover, *,
                    reads: int, seed: int, bytes_per_order: dict[str, float] | None = None) -> dict[str, Any]:
    """Train on measured reads, run one pass, replay fresh reads: which tier served them; then
    the same draws through the policy model for other warm rests (`bench.tier_rest`), with
    storage per order when each tier's `bytes_per_order` (hot, warm, cold) is given."""
    people = population(mover.locator, now=datetime.now(UTC), seed=seed)
    draws = people.draw(random.Random(seed), reads), people.draw(random.Random(seed + 1), reads)
    seen: set[str] = set()
    training, up_in_training = asyncio.run(_phase(settings, names, cold, mover, draws[0], seen))
    passed_at = mover.clock()
    moved = mover.run_pass()
    measured, up_in_measurement = asyncio.run(_phase(settings, names, cold, mover, draws[1], seen))
    end = tiers_at_end(mover.locator, bytes_per_order)
    sweep = rest_sweep(people.facts, *draws, thresholds=mover.thresholds, now=passed_at,
                       bytes_per_order=bytes_per_order)
    return {"reads_per_phase": reads, "orders": {"recent": len(people.recent), "busy_old": len(people.busy),
                                                 "old": len(people.old)},
            "training": _shares(training), "pass": moved.as_dict(), "measured": _shares(measured),
            "moved_to_hot_by_reads": {"training": up_in_training, "measurement": up_in_measurement}, "at_end": end,
            "rest_sweep": sweep, "rest_within_1pct": shortest_rest_within(sweep, 0.01)}


def spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, worst and every seed's share of all reads touching cold and of storefront reads
    served from hot, over `skewed_workload` runs (one per seed); per seed, the storefront reads
    not served from hot that were repeat reads (the policy's to serve from hot) and, when
    measured, the storage per order at the end."""
    cold = [run["measured"]["all_reads_touching_cold"] for run in runs]
    hot = [run["measured"]["storefront_from_hot"] for run in runs]

    def repeat_misses(run: dict[str, Any], *, tiers: tuple[str, ...], role: str | None = None) -> int:
        return sum(row["reads"] for row in run["measured"]["not_from_hot"]
                   if row["tier"] in tiers and not row["first_read"] and role in (None, row["role"]))

    repeats = [repeat_misses(run, tiers=("cold",)) for run in runs]
    out = {"seeds": len(runs),
           "all_reads_touching_cold": {"mean": round(sum(cold) / len(cold), 4), "worst": max(cold), "each": cold},
           "storefront_from_hot": {"mean": round(sum(hot) / len(hot), 4), "worst": min(hot), "each": hot},
           "repeat_cold_reads": {"total": sum(repeats), "each": repeats},
           "storefront_repeat_reads_not_from_hot": [repeat_misses(run, tiers=("warm", "cold"), role="storefront")
                                                    for run in runs]}
    stored = [run["at_end"]["bytes_per_order"] for run in runs if "bytes_per_order" in run.get("at_end", {})]
    if stored:
        out["bytes_per_order_at_end"] = {"mean": round(sum(stored) / len(stored), 1), "each": stored}
    return out
