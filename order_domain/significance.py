"""Which changes matter: the timeline rules, as data. Pure.

An event is compared with the order as it stood just before it *in event time*
(`before` -> `after`; `order_domain.timeline` decides what "before" is):

- `TIMELINE_RULES` maps a document path to a timeline category; an entry is
  significant when at least one listed path changed value. Everything else
  (notes, names, `updated_at`, the merge stamps, field order) is noise for the
  timeline. Every event still gets an entry (`significant` False for noise): a
  later-arriving earlier event can make it significant, or the reverse.
- The first event of an order is always significant; the first one that places
  the order (kind created, or a placing time) is marked ``order_created``.
- Heartbeats carry no order data; they are dropped before the merge.
- Entry ids are derived from (order id, event id), so a replay rewrites the same
  entry instead of adding one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from order_domain.merge import State, claims_origin, empty_state
from order_domain.state_forms import KEYED_COLLECTIONS
from order_domain.model import ChangeKind, OrderChange

TIMELINE_RULES: dict[str, str] = {
    "status": "status_transition",
    "lines[].quantity": "line_change",
    "lines[].sku": "line_change",
    "lines[]": "line_change",
    "lines[].status": "line_status",
    "shipments[]": "shipment",
    "shipments[].tracking_number": "shipment",
    "shipments[].status": "shipment",
    "payments[].authorized": "payment",
    "payments[].captured": "payment",
    "payments[].refunded": "payment",
    "returns[]": "return",
    "returns[].status": "return",
    "returns[].refund_amount": "return",
    "shipping_address": "address_change",
    "identity_keys": "customer_linked",
    "original_order_id": "exchange_link",
    "returns[].exchange_order_id": "exchange_link",
    "linked_orders": "exchange_link",
}
NOISE_KINDS = frozenset({ChangeKind.HEARTBEAT})


@dataclass(frozen=True)
class TimelineEntry:
    """What one event did to its order. The event itself is kept as the validated change; its stored
    form (`event`, plain JSON values) is made only when asked: the write path serialises it straight
    to JSON (`event_json`) and never needs the dict, which was the largest single cost of describing
    an event."""

    entry_id: str
    order_id: str
    event_id: str
    occurred_at: datetime
    channel: str
    source: str
    kind: str
    actor: str | None
    categories: tuple[str, ...]
    changes: dict[str, Any] = field(default_factory=dict)
    status_after: str | None = None
    store_id: str | None = None
    change: OrderChange | None = None
    status_before: str | None = None
    significant: bool = True
    source_version: int = 0

    @property
    def key(self) -> tuple[datetime, int, str]:
        """Its place in the timeline: the event-time order (`order_domain.merge.stamp_of`)."""
        return (self.occurred_at, self.source_version, self.event_id)

    @cached_property
    def event(self) -> dict[str, Any]:
        """The event as stored: JSON values, without what it leaves empty or at its default."""
        if self.change is None:
            return {}
        return self.change.model_dump(mode="json", exclude_none=True, exclude_defaults=True)

    def event_json(self) -> bytes:
        """`event` as JSON text, written by pydantic's serialiser without the dict in between: the same
        bytes a JSON encoder writes for `event` (compact, keys in field order; a unit test holds the two
        to byte equality on every channel's traffic)."""
        if self.change is None:
            return b"{}"
        return self.change.__pydantic_serializer__.to_json(self.change, exclude_none=True, exclude_defaults=True)


def is_noise(change: OrderChange) -> bool:
    return change.kind in NOISE_KINDS


@lru_cache(maxsize=65_536)  # asked several times per event on the write path
def timeline_entry_id(order_id: str, event_id: str) -> str:
    return hashlib.sha256(f"{order_id}\x1f{event_id}".encode()).hexdigest()[:32]


def _parsed_rule(path: str) -> tuple[str, str | None, str]:
    """(path, collection or None for a top-level field, item field or "" for membership)."""
    collection, _, item_field = path.partition("[].")
    if path.endswith("[]"):
        return path, path[:-2], ""
    return (path, collection, item_field) if item_field else (path, None, "")


_PARSED_RULES = tuple(_parsed_rule(path) for path in TIMELINE_RULES)  # parsed once: asked for every event


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Rule paths whose value differs, mapped to the new value (None when removed)."""
    changed: dict[str, Any] = {}
    touched: dict[str, list[tuple[str, dict[str, Any] | None, dict[str, Any]]]] = {}  # once per collection
    for path, name, item_field in _PARSED_RULES:
        if name is not None:
            if before.get(name) is after.get(name):  # untouched collection: the merge keeps the same list
                continue
            if name not in touched:
                touched[name] = _touched(before, after, name)
            if item_field:
                _diff_item_field(touched[name], path, item_field, changed)
            else:
                _diff_membership(touched[name], path, changed)
        elif before.get(path) != after.get(path):
            changed[path] = after.get(path)
    return changed


def _touched(before: dict[str, Any], after: dict[str, Any],
             collection: str) -> list[tuple[str, dict[str, Any] | None, dict[str, Any]]]:
    """(id, item before or None, item after) for the items the event wrote, in the after order.
    The merge copies only the items a patch touched, so an item still the same object is unchanged."""
    id_field = KEYED_COLLECTIONS[collection]
    old = {item[id_field]: item for item in before.get(collection) or []}
    return [(item[id_field], held, item) for item in after.get(collection) or []
            if (held := old.get(item[id_field])) is not item]


def _diff_membership(touched: list[tuple[str, Any, Any]], path: str, out: dict[str, Any]) -> None:
    added = sorted(item_id for item_id, held, _ in touched if held is None)
    if added:
        out[path] = {"added": added}


def _diff_item_field(touched: list[tuple[str, Any, Any]], path: str, item_field: str, out: dict[str, Any]) -> None:
    for item_id, held, item in touched:
        if held is not None and held.get(item_field) != item.get(item_field):
            out.setdefault(path, {})[item_id] = item.get(item_field)


def timeline_entry(before: State | None, after: State, change: OrderChange) -> TimelineEntry | None:
    """The significant entry this change makes, or None when nothing that matters changed."""
    entry = event_entry(before, after, change)
    return entry if entry.significant else None


def event_entry(before: State | None, after: State, change: OrderChange) -> TimelineEntry:
    """What `change` did to the order, given the state just before it (None = the order's first event).

    `before` and `after` are merge states (`order_domain.merge.state_of`).
    """
    base = before if before is not None else empty_state()  # read only
    changes = changed_paths(base, after)
    places = claims_origin(change) and "channel" not in base["stamps"]  # the first event that places the order
    if before is None or places:
        changes.setdefault("status", after["status"])
    categories = {TIMELINE_RULES[path] for path in changes}
    if before is None or places:  # an order's own first customer is not a later link
        categories.discard("customer_linked")
    if places:
        categories.add("order_created")
    return TimelineEntry(
        entry_id=timeline_entry_id(change.order_id, change.event_id),
        order_id=change.order_id, event_id=change.event_id, occurred_at=change.occurred_at,
        channel=change.channel.value, source=change.source, kind=change.kind.value, actor=change.actor,
        categories=tuple(sorted(categories)), changes=changes, status_after=str(after["status"]),
        store_id=after.get("store_id"), status_before=None if before is None else str(before["status"]),
        significant=bool(categories), source_version=change.source_version or 0,
        change=change,
    )
