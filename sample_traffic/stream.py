"""`generate`: the order budget, the channel and journey mix, and the interleaved stream. Pure.

Orders are placed evenly over ``[start, start + days)`` and generated one at a
time; each journey's messages are cut off at ``start + days`` ("now"), so old
orders are mostly closed while recent ones are still moving. A heap over a
small window of journeys interleaves them by time: memory is constant in the
number of orders, and one order's messages keep their true time order.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from sample_traffic import journeys_canonical as jc
from sample_traffic import journeys_store as js
from sample_traffic import journeys_web as jw
from sample_traffic.journeys_base import Ctx, Timeline
from sample_traffic.messages import Step, TrafficMessage
from order_domain.model import Channel

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = 12
Journey = Callable[[Ctx, datetime, str], Timeline]

# Primary-order weights; journeys that create a second order (replacements, exchanges) top the
# call center and store up, so the *resulting* order mix is web 35, app 15, store 25,
# marketplace 12, call center 8, b2b 5 (%).
CHANNEL_WEIGHTS: dict[Channel, float] = {
    Channel.WEB: 0.35, Channel.APP: 0.15, Channel.STORE: 0.2273,
    Channel.MARKETPLACE: 0.12, Channel.CALL_CENTER: 0.05, Channel.B2B: 0.05,
}
# (journey, weight, builder, orders it creates); the first entry is the single-order fallback.
JOURNEYS: dict[Channel, list[tuple[str, float, Journey, int]]] = {
    Channel.WEB: [("ship_to_home", 0.62, jw.ship_to_home, 1), ("bopis", 0.15, jw.bopis, 1),
                  ("cancelled", 0.08, jw.cancelled, 1),
                  ("bought_online_returned_in_store", 0.10, jw.returned_in_store, 1),
                  ("call_center_return_replacement", 0.05, jw.call_center_return, 2)],
    Channel.APP: [("ship_to_home", 0.62, lambda c, p, j: jc.canonical_order(c, p, j, Channel.APP), 1),
                  ("bopis", 0.28, lambda c, p, j: jc.canonical_order(c, p, j, Channel.APP), 1),
                  ("cancelled", 0.10, lambda c, p, j: jc.canonical_order(c, p, j, Channel.APP), 1)],
    Channel.STORE: [("store_sale", 0.68, js.store_sale, 1), ("store_ship_to_home", 0.15, jc.store_ship_to_home, 1),
                    ("exchange", 0.10, js.exchange, 2), ("cancelled", 0.07, js.post_void, 1)],
    Channel.MARKETPLACE: [("marketplace", 0.9, js.marketplace, 1), ("cancelled", 0.1, js.marketplace, 1)],
    Channel.CALL_CENTER: [
        ("ship_to_home", 0.65, lambda c, p, j: jc.canonical_order(c, p, j, Channel.CALL_CENTER), 1),
        ("call_center_return_replacement", 0.25, jc.cc_return_replacement, 2),
        ("cancelled", 0.10, lambda c, p, j: jc.canonical_order(c, p, j, Channel.CALL_CENTER), 1)],
    Channel.B2B: [("b2b", 1.0, jc.b2b_order, 1)],
}
_CHANNELS = list(CHANNEL_WEIGHTS)
_CHANNEL_CUM = list(accumulate(CHANNEL_WEIGHTS.values()))
_JOURNEY_CUM = {channel: list(accumulate(w for _, w, _, _ in options)) for channel, options in JOURNEYS.items()}


def generate(*, orders: int, seed: int, start: datetime | None = None, days: int = 90) -> Iterator[TrafficMessage]:
    """Every message of exactly `orders` orders, reproducible from `seed`, in constant memory."""
    return _interleave(journeys(orders=orders, seed=seed, start=start, days=days), WINDOW)


def journeys(*, orders: int, seed: int, start: datetime | None = None, days: int = 90) -> Iterator[list[Step]]:
    """`generate`'s journeys one at a time, before they are interleaved: each journey's steps in
    time order, `Step.creates` marking the messages that create its orders. A journey's messages
    name only the orders it creates, so callers may split the journeys between processes."""
    if orders < 0:
        raise ValueError(f"orders must be >= 0, got {orders}")
    if days <= 0:
        raise ValueError(f"days must be > 0, got {days}")
    begin = DEFAULT_START if start is None else start
    if begin.tzinfo is None:
        raise ValueError("start must carry a timezone (e.g. datetime(2026, 1, 1, tzinfo=UTC))")
    return _journeys(orders, seed, begin.astimezone(UTC), days)


def _journeys(orders: int, seed: int, begin: datetime, days: int) -> Iterator[list[Step]]:
    """Journeys in placing order until the budget of created orders is spent exactly."""
    rng = random.Random(seed)
    ctx = Ctx(rng=rng, seed=seed, pool=max(8, orders * 2 // 5), companies=max(3, orders // 120))
    now = begin + timedelta(days=days)
    span = days * 86_400 - 3_600  # the last order is placed at least an hour before "now"
    made = 0
    while made < orders:
        placed = (begin + timedelta(seconds=span * (made + rng.random()) / orders)).replace(microsecond=0)
        name, build = _pick(rng, remaining=orders - made)
        steps = [step for step in build(ctx, placed, name).finish() if step.at <= now]
        made += sum(step.creates for step in steps)
        yield steps


def _pick(rng: random.Random, *, remaining: int) -> tuple[str, Journey]:
    channel = _CHANNELS[min(bisect(_CHANNEL_CUM, rng.random() * _CHANNEL_CUM[-1]), len(_CHANNELS) - 1)]
    options, cum = JOURNEYS[channel], _JOURNEY_CUM[channel]
    name, _, build, creates = options[min(bisect(cum, rng.random() * cum[-1]), len(options) - 1)]
    if creates > remaining:
        name, _, build, _ = options[0]
    return name, build


def _interleave(journeys: Iterable[list[Step]], window: int) -> Iterator[TrafficMessage]:
    """Merge up to `window` journeys by time; each journey's own steps stay in order."""
    source = iter(journeys)
    heap: list[tuple[datetime, int, int, list[Step]]] = []
    serial = 0

    def admit() -> None:
        nonlocal serial
        for steps in source:
            if steps:
                serial += 1
                heapq.heappush(heap, (steps[0].at, serial, 0, steps))
                return

    for _ in range(window):
        admit()
    while heap:
        _, number, index, steps = heapq.heappop(heap)
        yield steps[index].message
        if index + 1 < len(steps):
            heapq.heappush(heap, (steps[index + 1].at, number, index + 1, steps))
        else:
            admit()
