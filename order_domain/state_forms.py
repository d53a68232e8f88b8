"""The merge state and its two outer forms: the validated `Order` and the stored document. Pure.

A state is the plain-dict form of an order the merge (`order_domain.merge`) folds events into,
with its stamps as sortable tuples. Invariant kept by both ways a state is made (`state_of` here,
`merge.apply_change`): an item of a keyed collection (lines, shipments, payments, returns) holds
no None value and no tuple, at any depth (`plain`) — already the stored form, so `document_of`
copies those lists instead of walking every item of every order on every write.
"""

from __future__ import annotations

from typing import Any

from order_domain.model import (
    Address,
    CanonicalModel,
    Order,
    OrderLine,
    OrderLink,
    OrderReference,
    Payment,
    ReturnLink,
    Shipment,
    Totals,
)

State = dict[str, Any]
KEYED_COLLECTIONS = {
    "lines": "line_id", "shipments": "shipment_id", "payments": "payment_id", "returns": "return_id",
}


def state_of(order: Order) -> State:
    """The plain-dict form the merge works on (stamps as sortable tuples, collection items `plain`)."""
    state = order.model_dump()
    state["stamps"] = {key: (s["occurred_at"], s["source_version"], s["event_id"]) for key, s in state["stamps"].items()}
    for collection in KEYED_COLLECTIONS:
        state[collection] = [plain(item) for item in state[collection]]
    return state


def order_of(state: State) -> Order:
    return Order.model_validate({**state, "stamps": _stamp_documents(state)})


def _stamp_documents(state: State) -> dict[str, dict[str, Any]]:
    """One dict per distinct stamp, shared by the fields it stamps (one event stamps many fields)."""
    made: dict[tuple[Any, ...], dict[str, Any]] = {}
    return {key: made.get(s) or made.setdefault(s, {"occurred_at": s[0], "source_version": s[1], "event_id": s[2]})
            for key, s in sorted(state["stamps"].items())}


def document_of(state: State) -> dict[str, Any]:
    """The stored form of a state: what `order_of(state).to_document()` gives, without
    the validation round trip, which was the largest single cost of the write path.
    Safe because a state is only ever built by `apply_change` from validated events.
    Values keep their Python types (datetime, Decimal, enums) for the JSON serialiser.
    The keyed collections' items are shared with the state (read only: a document is serialised,
    never changed); the rest is walked by `plain`.
    """
    document = {key: list(value) if key in KEYED_COLLECTIONS else plain(value) if type(value) in CONTAINERS else value
                for key, value in state.items() if value is not None and key not in ("stamps", "status_history")}
    document["status_history"] = {str(status): at for status, at in state["status_history"].items()}
    document["stamps"] = _stamp_documents(state)
    return document


def plain(value: Any) -> Any:
    """Drops None values from dicts, at every depth; tuples become lists (as the model dumps them).
    Scalars are not passed through a call: this walk touches every value it is given."""
    kind = type(value)
    if kind is dict:
        return {key: plain(item) if type(item) in CONTAINERS else item
                for key, item in value.items() if item is not None}
    if kind is list or kind is tuple:
        return [plain(item) if type(item) in CONTAINERS else item for item in value]
    return value


CONTAINERS = frozenset({dict, list, tuple})


def fields_of(model: CanonicalModel) -> dict[str, Any]:
    """`model.model_dump()`, without the serialiser where no field holds a model: the frozen model's
    own field dict, shared (read only; a state never mutates what it took from an event)."""
    if type(model) in _FLAT_MODELS:
        return model.__dict__
    return model.model_dump()


def _is_flat(model: type[CanonicalModel]) -> bool:
    """No field can hold another model (a tuple of strings or enums is fine: dumped as is)."""
    return not any(_holds_model(info.annotation) for info in model.model_fields.values())


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, CanonicalModel):
        return True
    return any(_holds_model(arg) for arg in getattr(annotation, "__args__", ()))


_FLAT_MODELS = frozenset(model for model in (OrderLine, Shipment, Payment, ReturnLink, OrderReference, OrderLink,
                                             Address, Totals) if _is_flat(model))
