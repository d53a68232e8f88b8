"""Plan the writes for one batch of canonical changes. Pure: no I/O.

Given the batch and the stored state of the orders it touches (with the engine's
seq_no/primary_term), it returns the order documents to write, each guarded by the
seq_no it was computed from, and the timeline entries to add. The writer sends
them; on a guard conflict it re-reads and calls this again for just those orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from order_domain.merge import State, apply_change, document_of, initial_state, order_of, state_of
from order_domain.model import Order, OrderChange
from order_domain.search_projection import order_facts, search_fields
from order_domain.significance import TimelineEntry, is_noise, timeline_entry

PROJECTION_ONLY_FIELDS = ("indexed_at", "search", "facts")


@dataclass(frozen=True)
class StoredOrder:
    order: Order
    seq_no: int
    primary_term: int


@dataclass(frozen=True)
class OrderWrite:
    order_id: str
    state: State  # merge state; validated into an `Order` only when someone asks
    guard: tuple[int, int] | None  # (seq_no, primary_term); None = the order must not exist yet
    event_ids: tuple[str, ...]

    @property
    def order(self) -> Order:
        return order_of(self.state)


@dataclass
class WritePlan:
    orders: list[OrderWrite] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    noise: list[OrderChange] = field(default_factory=list)
    unchanged: list[OrderChange] = field(default_factory=list)


def order_from_document(source: Mapping[str, Any]) -> Order:
    return Order.model_validate({k: v for k, v in source.items() if k not in PROJECTION_ONLY_FIELDS})


def stored_order(hit: Mapping[str, Any]) -> StoredOrder:
    return StoredOrder(order_from_document(hit["_source"]), int(hit["_seq_no"]), int(hit["_primary_term"]))


def order_document(state: State, indexed_at: datetime) -> dict[str, Any]:
    """What is stored: the order, when it was indexed (freshness), and the search projection."""
    document = document_of(state)
    return {**document, "indexed_at": indexed_at.isoformat(), "search": search_fields(document),
            "facts": order_facts(document)}


def plan_writes(changes: Iterable[OrderChange], stored: Mapping[str, StoredOrder]) -> WritePlan:
    plan = WritePlan()
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in changes:
        (plan.noise.append(change) if is_noise(change) else by_order[change.order_id].append(change))
    for order_id in sorted(by_order):
        _plan_one_order(plan, order_id, by_order[order_id], stored.get(order_id))
    return plan


def _plan_one_order(plan: WritePlan, order_id: str, changes: list[OrderChange], held: StoredOrder | None) -> None:
    """Folds the batch's changes on plain states; validates the result once."""
    state = state_of(held.order) if held is not None else None
    applied: list[str] = []
    for change in changes:
        after = apply_change(state if state is not None else initial_state(order_id), change)
        if state is not None and after == state:
            plan.unchanged.append(change)
            continue
        if (entry := timeline_entry(state, after, change)) is not None:
            plan.timeline.append(entry)
        applied.append(change.event_id)
        state = after
    if applied and state is not None:
        guard = (held.seq_no, held.primary_term) if held is not None else None
        plan.orders.append(OrderWrite(order_id, state, guard, tuple(applied)))
