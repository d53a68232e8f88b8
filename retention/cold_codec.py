"""The typed Parquet layout of a cold order, and its exact round trip (pure conversion, no I/O).

A cold order is stored as what it is made of: its events, as typed columns (timestamps as
UTC datetimes, amounts as integers in minor units with their scale, enums as strings that
Parquet dictionary-encodes), each with the instant its timeline document was indexed. An event
stores only what the row does not already say: not the row's order id, and its id and source version cut by
`retention.cold_event_forms` (`id_form` + the id's rest, `version_from_time`).
The order document and its timeline are a pure function of the set of its events (the
repository's merge and timeline rules), so they are not stored twice: they are recomputed
when the order is read, the timeline only when first asked for (a lookup or a history page
needs the document alone, about a third of the cost of both). Beside the events, a few summary columns (customer keys, channel
and status as dictionary-encoded categoricals, placed/updated datetimes, the total) let
analysts scan the parts with polars without decoding anything.

Guarantee: `decode(encode(row)) == row`, exactly. `encode` recomputes the document and the
timeline from the events and compares them with what it was given; an order whose stored
form is not reproduced exactly (written by an older release, say) keeps its document and
timeline as JSON text instead (`document_json`, `timeline_json`), so nothing is ever
changed by passing through cold. A move from warm recomputes once: the `Derivation` that
`full_warm_derived` made while reading the warm copy back is reused by `encode`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial, reduce
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

from adapters.cold_rows import ColdRow
from adapters.deferred_import import deferred
from retention.cold_event_forms import event_id, id_form, source_version, version_form
from order_domain.merge import State, apply_change, initial_state
from order_domain.model import OrderChange
from order_domain.significance import TimelineEntry, timeline_entry_id
from order_domain.stored_forms import event_document, order_document
from order_domain.timeline import event_set, replay

pa = deferred("pyarrow")

DERIVED_FIELDS = ("search", "facts")  # recomputed when an order leaves cold (`retention.copies`)


@cache
def utc_micros() -> pa.DataType:
    return pa.timestamp("us", tz="UTC")


@cache
def money() -> pa.DataType:
    """amount = minor * 10**-scale"""
    return pa.struct([("minor", pa.int64()), ("scale", pa.int8())])


@cache
def category() -> pa.DataType:
    return pa.dictionary(pa.int32(), pa.string())


def arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a pydantic field annotation (models become structs, tuples lists)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return arrow_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return arrow_type(inner)
    if origin in (tuple, list):
        return pa.list_(arrow_type(get_args(annotation)[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([(name, arrow_type(field.annotation)) for name, field in annotation.model_fields.items()])
    simple = {bool: pa.bool_(), int: pa.int64(), Decimal: money(), datetime: utc_micros(), str: pa.string()}
    for python_type, arrow in simple.items():
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return arrow
    raise TypeError(f"no Arrow type for {annotation!r}")


@cache
def event_type() -> pa.DataType:
    return pa.struct([("indexed_at", utc_micros()), ("id_form", pa.string()), ("version_from_time", pa.bool_()),
                      ("change", arrow_type(OrderChange))])


@cache
def cold_schema() -> pa.Schema:
    return pa.schema([
        ("customer_key", pa.string()), ("order_id", pa.string()), ("customer_keys", pa.list_(pa.string())),
        ("channel", category()), ("status", category()), ("placed_at", utc_micros()), ("updated_at", utc_micros()),
        ("total", money()), ("indexed_at", utc_micros()), ("events", pa.list_(event_type())),
        ("document_json", pa.string()), ("timeline_json", pa.string()),
    ])


_ARROW_CONSTANTS = {"UTC_MICROS": utc_micros, "MONEY": money, "CATEGORY": category, "EVENT": event_type,
                    "SCHEMA": cold_schema}


def __getattr__(name: str) -> Any:
    """The Arrow types as module constants (`from retention.cold_codec import SCHEMA`), built on first
    use: importing the codec must not load pyarrow (`adapters.deferred_import`)."""
    if name in _ARROW_CONSTANTS:
        return _ARROW_CONSTANTS[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _to_arrow(value: Any) -> Any:
    if isinstance(value, Decimal):
        sign, digits, exponent = value.as_tuple()
        minor = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        return {"minor": minor, "scale": -int(exponent)}
    if isinstance(value, dict):
        return {k: _to_arrow(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_arrow(v) for v in value]
    return value


def _from_arrow(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"minor", "scale"}:
            return Decimal(value["minor"]).scaleb(-value["scale"])
        return {k: _from_arrow(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_arrow(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """The JSON form the engine stores (Decimals as text, datetimes as RFC 3339)."""
    return orjson.loads(orjson.dumps(value, default=str))


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Derivation:
    """`derive`'s answer for the events of one timeline list at one indexing instant. `encode`
    reuses it for a row whose timeline is that very list (identity) at the same instant, so
    a warm copy read back with `full_warm_derived` is not recomputed again when it is encoded."""

    order_id: str
    source: list[dict[str, Any]]
    indexed_at: datetime
    events: list[tuple[OrderChange, datetime]]
    document: dict[str, Any]
    timeline: list[dict[str, Any]]

    def fits(self, row: ColdRow, indexed_at: datetime | None) -> bool:
        return self.order_id == row.order_id and self.source is row.timeline and self.indexed_at == indexed_at


def _document(state: State | None, order_id: str, indexed: Iterable[str], indexed_at: datetime) -> dict[str, Any]:
    entries = sorted(timeline_entry_id(order_id, event_id) for event_id in indexed)
    document = order_document(state, indexed_at, event_entries=entries) if state is not None else {}
    return _plain(_core(document))


def derive(order_id: str, events: list[tuple[OrderChange, datetime]],
           indexed_at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order document (without derived search fields) and its timeline documents."""
    state, described = replay(None, event_set(change for change, _ in events))
    indexed = {change.event_id: at for change, at in events}
    return _document(state, order_id, indexed, indexed_at), _timeline(described, indexed)


def derive_document(order_id: str, events: list[tuple[OrderChange, datetime]],
                    indexed_at: datetime) -> dict[str, Any]:
    """`derive`'s document alone: the merge folded without describing each event (what a
    lookup or a history page needs; about a third of `derive`'s cost)."""
    changes = event_set(change for change, _ in events)
    state = reduce(apply_change, changes, initial_state(changes[0].order_id)) if changes else None
    return _document(state, order_id, {c.event_id for c, _ in events}, indexed_at)


def derive_timeline(events: list[tuple[OrderChange, datetime]]) -> list[dict[str, Any]]:
    """`derive`'s timeline documents alone, sorted by entry id."""
    _, described = replay(None, event_set(change for change, _ in events))
    return _timeline(described, {change.event_id: at for change, at in events})


def _timeline(described: list[TimelineEntry], indexed: dict[str, datetime]) -> list[dict[str, Any]]:
    timeline = [event_document(entry, indexed[entry.event_id]) for entry in described]
    return sorted(_plain(timeline), key=_entry_id)


def _events_of(timeline: list[dict[str, Any]]) -> list[tuple[OrderChange, datetime]] | None:
    try:
        return [(OrderChange.model_validate(entry["event"]), datetime.fromisoformat(entry["indexed_at"]))
                for entry in timeline]
    except (KeyError, TypeError, ValueError):
        return None


def _derivation(order_id: str, timeline: list[dict[str, Any]], indexed_at: datetime | None) -> Derivation | None:
    """`derive` over the timeline's own events; None when they cannot give this order back."""
    events = _events_of(timeline)
    if not events or indexed_at is None or any(change.order_id != order_id for change, _ in events):
        return None
    return Derivation(order_id, timeline, indexed_at, events, *derive(order_id, events, indexed_at))


def _summary(row: ColdRow) -> dict[str, Any]:
    """The columns analysts scan; never read back (the document is the events' merge)."""
    document = row.document
    total = (document.get("totals") or {}).get("total")
    return {"customer_key": row.customer_key, "order_id": row.order_id,
            "customer_keys": document.get("identity_keys") or [], "channel": document.get("channel"),
            "status": document.get("status"), "placed_at": _instant(document.get("placed_at")),
            "updated_at": _instant(document.get("updated_at")),
            "total": _to_arrow(Decimal(str(total))) if total is not None else None,
            "indexed_at": _instant(document.get("indexed_at"))}


def _reproduced(derivation: Derivation | None, document: dict[str, Any], timeline: list[dict[str, Any]]) -> bool:
    """True when the events alone give back exactly the row's document and timeline."""
    return derivation is not None and (derivation.document, derivation.timeline) == (
        document, sorted(timeline, key=_entry_id))


def _core(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in DERIVED_FIELDS}


def lean_warm(document: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """The warm form of an order document: without its merge stamps when `full_warm` gives
    them back exactly from the timeline's events (else unchanged, so nothing is lost)."""
    if "stamps" not in document:
        return document
    derivation = _derivation(str(document.get("order_id")), timeline, _instant(document.get("indexed_at")))
    if not _reproduced(derivation, _core(document), timeline):
        return document
    return {k: v for k, v in document.items() if k != "stamps"}


def full_warm(document: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """The document `lean_warm` was given: the stamps recomputed from the timeline's events,
    in their stored place among the fields."""
    return full_warm_derived(document, timeline)[0]


def full_warm_derived(document: dict[str, Any], timeline: list[dict[str, Any]],
                      ) -> tuple[dict[str, Any], Derivation | None]:
    """`full_warm`, with what it recomputed (None when the document kept its stamps), for `encode`."""
    if "stamps" in document:
        return document, None
    derivation = _derivation(str(document.get("order_id")), timeline, _instant(document.get("indexed_at")))
    if derivation is None:
        raise ValueError(f"warm order {document.get('order_id')} has neither stamps nor events to recompute them")
    derived = derivation.document
    order = list(derived) + [k for k in document if k not in derived]
    return {k: document[k] if k in document else derived[k] for k in order}, derivation


def encode(row: ColdRow) -> dict[str, Any]:
    """One Parquet record for `row` (see the module docstring for what is stored)."""
    summary = _summary(row)
    derivation = row.derivation if isinstance(row.derivation, Derivation) and row.derivation.fits(
        row, summary["indexed_at"]) else _derivation(row.order_id, row.timeline, summary["indexed_at"])
    if derivation is None or not _reproduced(derivation, row.document, row.timeline):
        return {**summary, "events": [], "document_json": orjson.dumps(row.document).decode(),
                "timeline_json": orjson.dumps(row.timeline).decode()}
    events = sorted(derivation.events, key=lambda event: (event[0].occurred_at, event[0].event_id))
    stored = [_stored_event(change, at) for change, at in events]
    return {**summary, "events": stored, "document_json": None, "timeline_json": None}


def _stored_event(change: OrderChange, indexed_at: datetime) -> dict[str, Any]:
    """One event as stored: without the row's order id, its id and version cut to what the row
    does not already say (`retention.cold_event_forms`)."""
    from_time, version = version_form(change.source_version, change.occurred_at)
    form, rest = id_form(change.event_id, change.order_id, change.source_version)
    stored = _to_arrow(change.model_dump(exclude={"order_id"}))
    return {"indexed_at": indexed_at, "id_form": form, "version_from_time": from_time,
            "change": {**stored, "event_id": rest, "source_version": version}}


def _event(stored: dict[str, Any], order_id: str) -> OrderChange:
    """The event `_stored_event` was given."""
    change = _from_arrow(stored["change"])
    version = source_version(bool(stored.get("version_from_time")), change["source_version"], change["occurred_at"])
    return OrderChange.model_validate({**change, "order_id": order_id, "source_version": version,  # no form
                                       "event_id": event_id(stored.get("id_form"), change["event_id"],  # (older
                                                            order_id, version)})  # parts): stored whole


def decode(record: dict[str, Any]) -> ColdRow:
    """The row `encode` was given, from its record: the document recomputed from the events
    now, the timeline only when first asked for (`ColdRow.timeline`)."""
    if record["document_json"] is not None:
        document, timeline = orjson.loads(record["document_json"]), orjson.loads(record["timeline_json"])
        return ColdRow(record["order_id"], record["customer_key"], document.get("placed_at"), document, timeline)
    events = [(_event(e, record["order_id"]), e["indexed_at"]) for e in record["events"]]
    document = derive_document(record["order_id"], events, record["indexed_at"])
    return ColdRow(record["order_id"], record["customer_key"], document.get("placed_at"), document,
                   partial(derive_timeline, events))


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry.get("entry_id"))


class TypedOrderCodec:
    """`encode`/`decode` as the `adapters.cold_rows.ColdCodec` the store is given."""

    sort_by = ("customer_key", "order_id")
    dictionary_columns = ("channel", "status")
    read_columns = ("customer_key", "order_id", "indexed_at", "events", "document_json", "timeline_json")

    @property
    def schema(self) -> pa.Schema:
        return cold_schema()

    def encode(self, row: ColdRow) -> dict[str, Any]:
        return encode(row)

    def decode(self, record: dict[str, Any]) -> ColdRow:
        return decode(record)
