"""Plan the writes for one batch of canonical changes. Pure: no I/O.

Given the batch, the stored state of the orders it touches (with the engine's
seq_no/primary_term) and, for orders that received a late event, their stored
event documents, it returns the order documents to write, each guarded by the
seq_no it was computed from, and the event documents to (re)write. The writer
sends them; on a guard conflict it re-reads and calls this again for just those orders.

The event set: every event of an order is kept as a document in the order-events
family (id from order id + event id; the original event inside; `significant`
says whether the timeline shows it), and the order document lists those ids
(`event_entries`, read in real time with the order). So:

- an event already listed is a replay: nothing is written for it;
- new events all later than everything the order holds (the usual case) are
  described against the stored state: one new event document each, nothing
  re-read;
- otherwise (`history_needed`) the order's listed event documents are read, the
  whole timeline is recomputed from the event set (`order_domain.timeline`),
  and every entry from the first new event on whose content changed is
  rewritten — status_before/after and significance follow event time, not
  arrival. Entries are never deleted (every event keeps one): an entry that
  stops mattering is rewritten with `significant` False, and the reverse.

Cost: one event document per non-heartbeat event (before, only significant
changes had one: about 4% more documents on the sample traffic), the event ids
in the order document (32 bytes each), and for late events one extra real-time
read of that order's event documents plus a fold of its events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from order_domain.merge import State, order_of, stamp_of, state_of
from order_domain.model import Order, OrderChange
from order_domain.significance import TimelineEntry, is_noise, timeline_entry_id
from order_domain.stored_forms import EVENT_LOG, entry_fields, event_document, order_document  # noqa: F401 - the writer's
from order_domain.timeline import event_set, replay

PROJECTION_ONLY_FIELDS = ("indexed_at", "search", "facts", EVENT_LOG)
ENTRY_CONTENT = ("significant", "categories", "changes", "status_before", "status_after", "store_id")


@dataclass(frozen=True)
class StoredOrder:
    """An order as stored, with the guard of that version. Read back (`order`), or remembered by
    the writer from its own acknowledged write (`state`, the merge state it wrote: no read, no
    validation round trip)."""

    order: Order | None
    seq_no: int
    primary_term: int
    event_entries: tuple[str, ...] = ()  # ids of the order's event documents
    state: State | None = None

    def merge_state(self) -> State:
        if self.state is not None:
            return self.state
        assert self.order is not None  # one of the two is always given
        return state_of(self.order)

    @property
    def updated_at(self) -> datetime | None:
        return self.state.get("updated_at") if self.state is not None else self.order.updated_at if self.order else None


@dataclass(frozen=True)
class StoredEvent:
    """An event document read back: the event it keeps and what its entry said (`ENTRY_CONTENT`)."""

    change: OrderChange
    content: dict[str, Any]


@dataclass(frozen=True)
class OrderWrite:
    order_id: str
    state: State  # merge state; validated into an `Order` only when someone asks
    guard: tuple[int, int] | None  # (seq_no, primary_term); None = the order must not exist yet
    event_ids: tuple[str, ...]
    event_entries: tuple[str, ...] = ()

    @property
    def order(self) -> Order:
        return order_of(self.state)


@dataclass
class WritePlan:
    orders: list[OrderWrite] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)  # event documents to write, significant or not
    noise: list[OrderChange] = field(default_factory=list)
    unchanged: list[OrderChange] = field(default_factory=list)

    @property
    def timeline(self) -> list[TimelineEntry]:
        """The written entries the timeline shows."""
        return [entry for entry in self.entries if entry.significant]


def order_from_document(source: Mapping[str, Any]) -> Order:
    return Order.model_validate({k: v for k, v in source.items() if k not in PROJECTION_ONLY_FIELDS})


def stored_order(hit: Mapping[str, Any]) -> StoredOrder:
    source = hit["_source"]
    return StoredOrder(order_from_document(source), int(hit["_seq_no"]), int(hit["_primary_term"]),
                       tuple(source.get(EVENT_LOG) or ()))


def stored_event(hit: Mapping[str, Any]) -> StoredEvent:
    source = hit["_source"]
    return StoredEvent(OrderChange.model_validate(source["event"]), {key: source.get(key) for key in ENTRY_CONTENT})


def _by_order(changes: Iterable[OrderChange], plan: WritePlan | None = None) -> dict[str, list[OrderChange]]:
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in changes:
        if is_noise(change):
            if plan is not None:
                plan.noise.append(change)
        else:
            by_order[change.order_id].append(change)
    return by_order


def history_needed(changes: Iterable[OrderChange], stored: Mapping[str, StoredOrder]) -> dict[str, tuple[str, ...]]:
    """Orders with a new event not later than all they hold: the ids of their event documents to read."""
    needed: dict[str, tuple[str, ...]] = {}
    for order_id, batch in _by_order(changes).items():
        held = stored.get(order_id)
        fresh = _fresh(order_id, batch, held) if held is not None else []
        if held is not None and held.event_entries and fresh and _late(fresh, held):
            needed[order_id] = held.event_entries  # (a document from before event lists has none to read)
    return needed


def _fresh(order_id: str, batch: list[OrderChange], held: StoredOrder | None) -> list[OrderChange]:
    """The batch's events the order does not hold yet, in event-time order."""
    known = set(held.event_entries) if held is not None else set()
    return [change for change in event_set(batch) if timeline_entry_id(order_id, change.event_id) not in known]


def _late(fresh: list[OrderChange], held: StoredOrder) -> bool:
    latest = held.updated_at
    return latest is not None and fresh[0].occurred_at <= latest


def plan_writes(
    changes: Iterable[OrderChange], stored: Mapping[str, StoredOrder],
    history: Mapping[str, Sequence[StoredEvent]] | None = None,
) -> WritePlan:
    """`history` holds the event documents `history_needed` named; without them, a late event is
    described as if it came last (right only when events arrive in event-time order)."""
    plan = WritePlan()
    by_order = _by_order(changes, plan)
    for order_id in sorted(by_order):
        held = stored.get(order_id)
        batch = by_order[order_id]
        fresh = _fresh(order_id, batch, held)
        fresh_ids = {change.event_id for change in fresh}
        plan.unchanged += [change for change in batch if change.event_id not in fresh_ids]
        if fresh:
            _plan_one_order(plan, fresh, held, (history or {}).get(order_id))
    return plan


def _plan_one_order(plan: WritePlan, fresh: list[OrderChange], held: StoredOrder | None,
                    history: Sequence[StoredEvent] | None) -> None:
    state, described = replay(held.merge_state() if held is not None else None, fresh)
    if held is not None and history is not None and _late(fresh, held):
        described = _recomputed(fresh, history)
    assert state is not None  # fresh is never empty
    plan.entries += described
    known = held.event_entries if held is not None else ()
    entries = tuple(sorted({*known, *(timeline_entry_id(c.order_id, c.event_id) for c in fresh)}))
    guard = (held.seq_no, held.primary_term) if held is not None else None
    plan.orders.append(OrderWrite(fresh[0].order_id, state, guard, tuple(c.event_id for c in fresh), entries))


def _recomputed(fresh: list[OrderChange], history: Sequence[StoredEvent]) -> list[TimelineEntry]:
    """The whole timeline again from the event set; the entries from the first new event on that changed."""
    held = {event.change.event_id: event.content for event in history}
    start = stamp_of(fresh[0])
    _, described = replay(None, event_set([*(event.change for event in history), *fresh]))
    return [entry for entry in described if entry.key >= start and held.get(entry.event_id) != _content(entry)]


def _content(entry: TimelineEntry) -> dict[str, Any]:
    """What the entry says, as the engine gives it back (JSON; decimals as strings, like the engine adapter)."""
    document = entry_fields(entry, entry.occurred_at)
    return orjson.loads(orjson.dumps({key: document[key] for key in ENTRY_CONTENT}, default=str))
