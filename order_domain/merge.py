"""Merge: fold canonical change events into the current order state. Pure.

Guarantee: the result depends only on the *set* of events applied, never on their
order or on how often each arrives (at-least-once, replays, cross-channel races).
Every field is a join-semilattice:

- scalar fields and every field of a line, shipment, payment and return:
  last writer wins, where "last" is the total order on the stamp
  (occurred_at, source_version, event_id);
- origin facts (channel, placed_at): first writer wins, same total order;
- line status: the highest lifecycle rank wins; the time each order status was
  first reported: the earliest wins (``status_history``);
- order status: a function of the reported statuses (the keys of
  ``status_history``) and the line statuses, so it never contradicts the lines
  (`order_domain.status_rules`);
- references, links to other orders, channels seen and identity keys: set union.

Because max, min and union are commutative, associative and idempotent, so is
`merge`. The per-field stamps live in the document (`Order.stamps`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from order_domain.identity import identity_keys
from order_domain.model import (
    LINE_STATUS_RANK,
    CanonicalModel,
    ChangeKind,
    CustomerIdentity,
    Order,
    OrderChange,
    Totals,
)
from order_domain.state_forms import (  # noqa: F401 - the state's forms, long imported from here
    CONTAINERS,
    KEYED_COLLECTIONS,
    State,
    document_of,
    fields_of,
    order_of,
    plain,
    state_of,
)
from order_domain.status_rules import order_status, reported_status

_LAST_WRITER_SCALARS = ("store_id", "currency", "shipping_address", "original_order_id")
_FIRST_WRITER_SCALARS = ("channel", "placed_at")
_RANKED_ITEM_FIELDS: dict[str, dict[str, dict[Any, int]]] = {"lines": {"status": LINE_STATUS_RANK}}
_CUSTOMER_FIELDS = {field: f"customer.{field}" for field in ("customer_id", "email", "phone", "loyalty_id", "name")}
_TOTALS_FIELDS = {field: f"totals.{field}" for field in Totals.model_fields}  # field -> its stamp key


StampKey = tuple[datetime, int, str]


def stamp_of(change: OrderChange) -> StampKey:
    return (change.occurred_at, change.source_version or 0, change.event_id)


def initial_state(order_id: str) -> State:
    empty = empty_state()
    fresh_dicts = {key: dict(value) for key, value in empty.items() if isinstance(value, dict)}  # never shared
    return {**empty, **fresh_dicts, "order_id": order_id}


@cache
def empty_state() -> State:
    """The state of an order with no events, built once and shared: read it, never change it
    (`initial_state` gives a fresh copy to fold into). Most orders in a batch are new, and
    building it through the model is not cheap."""
    return state_of(Order(order_id="-"))


def apply_change(state: State, change: OrderChange) -> State:
    """The state after `change`, as a new dict; `state` is not modified.

    Batches fold many changes through this without validating in between; `merge`
    wraps it for single changes on validated `Order`s.
    """
    if state["order_id"] != change.order_id:
        raise ValueError(f"change for order {change.order_id!r} applied to order {state['order_id']!r}")
    new = {**state, "stamps": dict(state["stamps"]), "customer": dict(state["customer"]),
           "totals": dict(state["totals"]), "status_history": dict(state["status_history"])}
    writer = _FieldWriter(new["stamps"], stamp_of(change))
    for field in _LAST_WRITER_SCALARS:
        writer.last(new, field, field, _dump(getattr(change, field)))
    if claims_origin(change):
        for field in _FIRST_WRITER_SCALARS:
            writer.first(new, field, field, getattr(change, field))
    _merge_status(new, change)
    _merge_customer(new, change.customer, writer)
    _merge_totals(new, change, writer)
    for collection, id_field in KEYED_COLLECTIONS.items():
        _merge_collection(new, collection, id_field, getattr(change, collection), writer)
    if change.status is not None or any(line.status is not None for line in change.lines):
        line_statuses = (line.get("status") for line in new["lines"])
        new["status"] = order_status(reported_status(new["status_history"]), line_statuses)
    new["references"] = _union(state["references"], [_dump(ref) for ref in change.references], key=_ref_key)
    if change.linked_orders:
        new["linked_orders"] = _union(state["linked_orders"], [_dump(link) for link in change.linked_orders],
                                      key=_link_key)
    new["channels_seen"] = _grown(state["channels_seen"], (change.channel,))
    if change.customer is not None:
        new["identity_keys"] = _grown(state["identity_keys"], identity_keys(change.customer))
    if new["updated_at"] is None or change.occurred_at > new["updated_at"]:
        new["updated_at"] = change.occurred_at
    return new


def merge(current: Order | None, change: OrderChange) -> Order:
    """Return the state after `change`; `current` is not modified."""
    state = state_of(current) if current is not None else initial_state(change.order_id)
    return order_of(apply_change(state, change))


def merge_all(current: Order | None, changes: Iterable[OrderChange]) -> Order | None:
    changes = list(changes)
    if not changes:
        return current
    state = state_of(current) if current is not None else initial_state(changes[0].order_id)
    for change in changes:
        state = apply_change(state, change)
    return order_of(state)


def claims_origin(change: OrderChange) -> bool:
    """Only the placing of an order says where it came from; a return in store does not."""
    return change.kind is ChangeKind.CREATED or change.placed_at is not None


class _FieldWriter:
    """Applies one event's values to fields, consulting and updating the stamps."""

    def __init__(self, stamps: dict[str, StampKey], stamp: StampKey) -> None:
        self.stamps = stamps
        self.stamp = stamp

    def last(self, target: dict[str, Any], field: str, stamp_key: str, value: Any) -> None:
        if value is None:
            return
        held = self.stamps.get(stamp_key)
        if held is None or self.stamp > held:
            target[field] = value
            self.stamps[stamp_key] = self.stamp

    def first(self, target: dict[str, Any], field: str, stamp_key: str, value: Any) -> None:
        if value is None:
            return
        held = self.stamps.get(stamp_key)
        if held is None or self.stamp < held:
            target[field] = value
            self.stamps[stamp_key] = self.stamp


def _merge_status(state: dict[str, Any], change: OrderChange) -> None:
    """Records when each status was first reported; the status itself follows in `apply_change`."""
    if change.status is None:
        return
    held = state["status_history"].get(change.status)
    if held is None or change.occurred_at < held:
        state["status_history"][change.status] = change.occurred_at


def _merge_customer(state: dict[str, Any], customer: CustomerIdentity | None, writer: _FieldWriter) -> None:
    """The raw card token is never stored: it only contributes a hashed identity key."""
    if customer is None:
        return
    for field, stamp_key in _CUSTOMER_FIELDS.items():
        writer.last(state["customer"], field, stamp_key, getattr(customer, field))


def _merge_totals(state: dict[str, Any], change: OrderChange, writer: _FieldWriter) -> None:
    if change.totals is None:
        return
    for field, value in fields_of(change.totals).items():
        writer.last(state["totals"], field, _TOTALS_FIELDS[field], value)


def _merge_collection(
    state: dict[str, Any],
    collection: str,
    id_field: str,
    patches: tuple[CanonicalModel, ...],
    writer: _FieldWriter,
) -> None:
    """Each patch field is written when the event's stamp beats the field's stamp (`_FieldWriter.last`,
    inlined: this loop runs for every field of every item of every event)."""
    if not patches:
        return  # the list stays the same object: the timeline diff skips what the event did not touch
    items = {item[id_field]: item for item in state[collection]}
    stamps, stamp = writer.stamps, writer.stamp
    ranked = _RANKED_ITEM_FIELDS.get(collection, {})
    for patch in patches:
        values = fields_of(patch)
        item_id = values[id_field]
        item = items[item_id] = dict(items.get(item_id) or {id_field: item_id})
        prefix = f"{collection}.{item_id}."
        for field, value in values.items():
            if value is None or field == id_field:  # None: the event does not speak about the field
                continue
            if field in ranked:
                _raise_by_rank(item, field, value, ranked[field])
                continue
            held = stamps.get(key := prefix + field)
            if held is None or stamp > held:
                item[field] = plain(value) if type(value) in CONTAINERS else value  # the stored form already
                stamps[key] = stamp
    state[collection] = [items[item_id] for item_id in sorted(items)]


def _raise_by_rank(item: dict[str, Any], field: str, value: Any, ranks: dict[Any, int]) -> None:
    if value is None:
        return
    held = item.get(field)
    if held is None or ranks[value] > ranks[held]:
        item[field] = value


def _union(held: list[Any], new: list[Any], *, key: Any) -> list[Any]:
    """The held items plus new ones by key (a held item wins), sorted by key. The held list itself
    when every new item is already held (most events repeat an order's references): the key is
    the item's whole content, so an equal item is the same member."""
    if all(item in held for item in new):
        return held
    merged = {key(item): item for item in held}
    for item in new:
        merged.setdefault(key(item), item)
    return [merged[k] for k in sorted(merged)]


def _grown(held: list[Any], new: Iterable[Any]) -> list[Any]:
    """Set union kept sorted; the held list itself when nothing is new (lists in a state are never
    changed in place, so sharing them between states is safe)."""
    missing = [item for item in new if item not in held]
    return sorted({*held, *missing}) if missing else held


def _ref_key(reference: Any) -> tuple[str, str]:
    ref = reference if isinstance(reference, dict) else reference.model_dump()
    return (str(ref["kind"]), ref["value"])


def _link_key(link: dict[str, Any]) -> tuple[str, str, str]:
    return (link["order_id"], str(link["relation"]), link.get("return_id") or "")


def _dump(value: Any) -> Any:
    return fields_of(value) if isinstance(value, CanonicalModel) else value
