"""The timeline and "as of" answers: pure functions of the *set* of an order's events. Pure.

Guarantees (property-tested over every channel's journeys):

- `event_set` is the canonical form of what an order received: one event per
  event id (a conflicting resend is settled by content, never by arrival), in
  event-time order — occurred_at, then source_version, then event_id (the same
  total order the merge's stamps use). Heartbeats are not order events.
- `entries` folds that sequence from the empty order: entry i compares the state
  after events 0..i-1 with the state after 0..i. So any permutation or
  duplication of the same events gives the identical entries (ids,
  status_before/after, changes, significance); the last entry's status_after is
  the current document's status (the merge is order-free, so the fold of the
  sorted set *is* the current document).
- `as_of(events, t)` is the order computed from only the events with
  occurred_at <= t; it equals the state after the last entry at or before t.
- `link_changes` derives, from an event that links two orders (a replacement
  naming its original, a return naming its exchange order), an event *for the
  other order*, so the link shows on both timelines whichever arrives first.
  Its id is derived from the source event and the target, so replays dedupe.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from order_domain.merge import State, apply_change, initial_state, merge_all, stamp_of
from order_domain.model import ChangeKind, LinkRelation, Order, OrderChange, OrderLink
from order_domain.significance import TimelineEntry, event_entry, is_noise


def event_set(changes: Iterable[OrderChange]) -> list[OrderChange]:
    """Distinct events in event-time order; of two different events sharing an id, the smaller content wins."""
    unique: dict[str, OrderChange] = {}
    for change in changes:
        if is_noise(change):
            continue
        held = unique.get(change.event_id)
        if held is None or (held != change and change.model_dump_json() < held.model_dump_json()):
            unique[change.event_id] = change
    return sorted(unique.values(), key=stamp_of)


def replay(state: State | None, events: Sequence[OrderChange]) -> tuple[State | None, list[TimelineEntry]]:
    """Folds `events` (in event-time order, all later than what `state` holds) and describes each one.

    `state` None = the order has no events yet. Returns the final state and one entry per event.
    """
    described: list[TimelineEntry] = []
    for event in events:
        after = apply_change(state if state is not None else initial_state(event.order_id), event)
        described.append(event_entry(state, after, event))
        state = after
    return state, described


def entries(events: Iterable[OrderChange]) -> list[TimelineEntry]:
    """Every event's entry (significant or not), in timeline order."""
    return replay(None, event_set(events))[1]


def timeline(events: Iterable[OrderChange]) -> list[TimelineEntry]:
    """What the order's timeline shows: the significant entries, in timeline order."""
    return [entry for entry in entries(events) if entry.significant]


def as_of(events: Iterable[OrderChange], at: datetime) -> Order | None:
    """The order as it stood at `at` (aware): only events that had happened by then; None if none had."""
    if at.tzinfo is None:
        raise ValueError("as_of needs an aware instant")
    happened = [event for event in event_set(events) if event.occurred_at <= at]
    return merge_all(None, happened) if happened else None


def link_changes(change: OrderChange) -> tuple[OrderChange, ...]:
    """The events `change` implies for *other* orders it links to (none for most events)."""
    links: dict[str, list[OrderLink]] = defaultdict(list)
    original = change.original_order_id
    if original and original != change.order_id:
        links[original].append(OrderLink(order_id=change.order_id, relation=LinkRelation.REPLACED_BY))
    for returned in change.returns:
        target = returned.exchange_order_id
        if target and target != change.order_id:
            links[target].append(OrderLink(order_id=change.order_id, relation=LinkRelation.EXCHANGE_FOR,
                                           return_id=returned.return_id))
    return tuple(
        OrderChange(
            event_id=link_event_id(change.event_id, target), order_id=target, channel=change.channel,
            source=change.source, kind=ChangeKind.LINKED, occurred_at=change.occurred_at,
            source_version=change.source_version, actor=change.actor, linked_orders=tuple(found),
        )
        for target, found in sorted(links.items())
    )


def link_event_id(source_event_id: str, target_order_id: str) -> str:
    digest = hashlib.sha256(f"{source_event_id}\x1f{target_order_id}".encode()).hexdigest()[:32]
    return f"link-{digest}"


def with_links(changes: Iterable[OrderChange]) -> tuple[list[OrderChange], dict[str, str]]:
    """The changes followed by the link events they imply (what the write path plans), and the
    source event id of each link event (a rejected link is reported as its source event)."""
    expanded: list[OrderChange] = []
    source_of: dict[str, str] = {}
    for change in changes:
        expanded.append(change)
        for link in link_changes(change):
            expanded.append(link)
            source_of[link.event_id] = change.event_id
    return expanded, source_of
