"""Shared by the tiering integration tests and the tier bench: orders written through the real
ingest writer, a mover with a controllable clock, and a census of every copy in every tier."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.cold_store import ColdStore
from adapters.search_engine import SearchEngine
from index_templates import IndexNames
from ingest.writer import OrderStoreWriter
from order_domain.model import (
    Channel, ChangeKind, CustomerIdentity, OrderChange, OrderLine, OrderReference, OrderStatus, ReferenceKind,
    Shipment, Totals,
)
from order_domain.tier_policy import Tier, TierThresholds
from retention.cold_codec import TypedOrderCodec
from retention.copies import TierCopies
from retention.locator import Locator
from retention.mover import Decision, Mover
from retention.storage import TierNames, install_tier_storage

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
THRESHOLDS = TierThresholds(hot_window_days=30, warm_after_idle_days=30, cold_after_idle_days=180,
                            read_window_days=30, busy_reads=3, rehydrate_after_cold_reads=2,
                            retention_days={Tier.COLD: 2000})


def order_id(n: int) -> str:
    return f"ord-{n:06d}"


def order_changes(n: int, *, customers: int = 50, start: datetime = T0, months: int = 3,
                  seed: int = 7) -> Iterator[OrderChange]:
    """Two to three events per order (placed, shipped, completed), spread over `months` months."""
    rng = random.Random(seed + n)
    placed = start + timedelta(days=rng.randrange(0, 28 * months), minutes=rng.randrange(0, 1440))
    customer = rng.randrange(customers)
    who = CustomerIdentity(customer_id=f"cust-{customer}", email=f"shopper{customer}@example.com",
                           name=f"Shopper {customer}", phone=f"+1 555 01{customer:05d}")
    lines = tuple(OrderLine(line_id=str(i), sku=f"SKU-{rng.randrange(500)}", name=f"Item {i}", quantity=1 + i,
                            unit_price=Decimal(rng.randrange(100, 9000)) / 100) for i in range(1 + rng.randrange(3)))
    common = dict(order_id=order_id(n), channel=Channel.WEB, source="tiering-test")
    yield OrderChange(event_id=f"{order_id(n)}-placed", kind=ChangeKind.CREATED, occurred_at=placed, placed_at=placed,
                      status=OrderStatus.CONFIRMED, customer=who, lines=lines, currency="USD",
                      references=(OrderReference(kind=ReferenceKind.WEB_ORDER_NUMBER, value=f"#W{n}"),),
                      totals=Totals(total=sum((ln.unit_price or 0) * (ln.quantity or 0) for ln in lines)),
                      **common)
    shipped = placed + timedelta(days=1)
    yield OrderChange(event_id=f"{order_id(n)}-shipped", kind=ChangeKind.FULFILLMENT, occurred_at=shipped,
                      status=OrderStatus.SHIPPED, shipments=(Shipment(shipment_id="s1", carrier="UPS",
                                                                       tracking_number=f"1Z{n:08d}"),), **common)
    yield OrderChange(event_id=f"{order_id(n)}-done", kind=ChangeKind.STATUS_CHANGED,
                      occurred_at=placed + timedelta(days=3), status=OrderStatus.COMPLETED, **common)


def ingest(engine: SearchEngine, prefix: str, orders: range, **kwargs: Any) -> None:
    writer = OrderStoreWriter(engine, IndexNames(prefix))
    batch: list[OrderChange] = []
    for n in orders:
        batch.extend(order_changes(n, **kwargs))
        if len(batch) >= 900:
            writer.write(batch)
            batch = []
    if batch:
        writer.write(batch)
    engine.refresh(f"{prefix}-orders,{prefix}-order-events")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def make_mover(engine: SearchEngine, prefix: str, cold_root: str, *, clock: Clock, batch: int = 100,
               thresholds: TierThresholds = THRESHOLDS) -> Mover:
    names = TierNames(prefix)
    install_tier_storage(engine, names)
    copies = TierCopies(engine, names, ColdStore(cold_root, codec=TypedOrderCodec(), row_group_rows=16))
    return Mover(copies, thresholds, batch=batch, clock=clock)


def two_month_store(engine: SearchEngine, prefix: str, cold_root: str, *, orders: int) -> tuple[Mover, Clock]:
    """`orders` orders over two creation months, all hot, and a mover whose clock starts ten days on."""
    ingest(engine, prefix, range(orders), months=2)
    clock = Clock(T0 + timedelta(days=10))
    return make_mover(engine, prefix, cold_root, clock=clock, batch=25), clock


def place(mover: Mover, targets: dict[str, Tier]) -> None:
    """Move chosen orders to chosen tiers now (whatever the policy would say), as the mover moves:
    journaled batches of one target tier and one creation month, then seal and sweep."""
    mover.locator.sync_from_hot()
    entries = {i: hit["_source"] for i, hit in mover.locator.get(targets).items()}
    batches: dict[tuple[Tier, str], list[Decision]] = {}
    for order, target in targets.items():
        entry = entries[order]
        if entry["tier"] != target:
            batches.setdefault((target, entry["created_month"]), []).append(Decision(entry, target))
    for (target, _), decisions in sorted(batches.items(), key=lambda item: (item[0][0].rank, item[0][1])):
        assert mover.move(decisions, target) == {d.entry["order_id"] for d in decisions}
    mover.finish()
    mover.engine.refresh(f"{mover.names.hot.orders},{mover.names.hot.events}")


def census(engine: SearchEngine, mover: Mover) -> dict[str, Any]:
    """Every copy of every order, per tier, and what the locator says."""
    names, hot = mover.names, mover.names.hot
    engine.refresh(f"{hot.orders},{hot.events},{names.locator}")
    copies: dict[str, Counter[str]] = {"hot": Counter(), "warm": Counter(), "cold": Counter()}
    copies["hot"].update(_ids(engine, hot.orders))
    if engine.aliases_of(names.warm_alias("orders")):
        engine.refresh(names.warm_alias("orders"))
        copies["warm"].update(_ids(engine, names.warm_alias("orders")))
    cold = mover.copies.cold
    for part in cold.parts():
        copies["cold"].update(row.order_id for row in cold.read_all(part))
    entries = {hit["_id"]: hit["_source"] for page in Locator(engine, names).scan({"match_all": {}})
               for hit in page}
    return {"copies": copies, "entries": entries}


def _ids(engine: SearchEngine, index: str) -> list[str]:
    body = {"size": 10_000, "_source": False, "query": {"match_all": {}}}
    return [hit["_id"] for hit in engine.search(index, body)["hits"]["hits"]]


def timeline_ids(engine: SearchEngine, index: str, order: str) -> list[str]:
    engine.refresh(index)
    body = {"size": 1000, "_source": False, "query": {"term": {"order_id": order}}}
    return sorted(hit["_id"] for hit in engine.search(index, body)["hits"]["hits"])
