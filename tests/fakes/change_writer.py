"""An in-memory `ChangeWriter`: the real planner and merge over a dict of stored orders, no engine."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.planner import StoredOrder, plan_writes
from ingest.writer import WriteOutcome
from order_domain.model import Order, OrderChange


class InMemoryWriter:
    def __init__(self) -> None:
        self.orders: dict[str, StoredOrder] = {}
        self.timeline: dict[str, str] = {}  # entry id -> order id
        self.batches: list[list[str]] = []  # event ids per write call

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome:
        self.batches.append([change.event_id for change in changes])
        plan = plan_writes(changes, self.orders)
        for entry in plan.timeline:
            self.timeline[entry.entry_id] = entry.order_id
        for write in plan.orders:
            held = self.orders.get(write.order_id)
            self.orders[write.order_id] = StoredOrder(write.order, (held.seq_no + 1) if held else 0, 1)
        return WriteOutcome(orders_written=len(plan.orders), timeline_written=len(plan.timeline),
                            noise=len(plan.noise), unchanged=len(plan.unchanged))

    def documents(self) -> dict[str, Order]:
        return {order_id: stored.order for order_id, stored in self.orders.items()}
