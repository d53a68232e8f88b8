"""The typed Parquet layout of a cold order, and its exact round trip (pure conversion, no I/O).

A cold order is stored as what it is made of: its events, as typed columns (timestamps as
UTC datetimes, amounts as integers in minor units with their scale, enums as strings that
Parquet dictionary-encodes), each with the instant its timeline document was indexed.
The order document and its timeline are a pure function of the set of its events (the
repository's merge and timeline rules), so they are not stored twice: they are recomputed
when the order is read. Beside the events, a few summary columns (customer keys, channel
and status as dictionary-encoded categoricals, placed/updated datetimes, the total) let
analysts scan the parts with polars without decoding anything.

Guarantee: `decode(encode(row)) == row`, exactly. `encode` recomputes the document and the
timeline from the events and compares them with what it was given; an order whose stored
form is not reproduced exactly (written by an older release, say) keeps its document and
timeline as JSON text instead (`document_json`, `timeline_json`), so nothing is ever
changed by passing through cold.
"""

from __future__ import annotations

import types
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
import pyarrow as pa
from pydantic import BaseModel

from adapters.cold_store import ColdRow
from order_domain.model import OrderChange
from order_domain.significance import timeline_entry_id
from order_domain.stored_forms import event_document, order_document
from order_domain.timeline import event_set, replay

DERIVED_FIELDS = ("search", "facts")  # recomputed when an order leaves cold (`retention.copies`)

UTC_MICROS = pa.timestamp("us", tz="UTC")
MONEY = pa.struct([("minor", pa.int64()), ("scale", pa.int8())])  # amount = minor * 10**-scale
CATEGORY = pa.dictionary(pa.int32(), pa.string())


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
    simple = {bool: pa.bool_(), int: pa.int64(), Decimal: MONEY, datetime: UTC_MICROS, str: pa.string()}
    for python_type, arrow in simple.items():
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return arrow
    raise TypeError(f"no Arrow type for {annotation!r}")


EVENT = pa.struct([("indexed_at", UTC_MICROS), ("change", arrow_type(OrderChange))])
SCHEMA = pa.schema([
    ("customer_key", pa.string()), ("order_id", pa.string()), ("customer_keys", pa.list_(pa.string())),
    ("channel", CATEGORY), ("status", CATEGORY), ("placed_at", UTC_MICROS), ("updated_at", UTC_MICROS),
    ("total", MONEY), ("indexed_at", UTC_MICROS), ("events", pa.list_(EVENT)),
    ("document_json", pa.string()), ("timeline_json", pa.string()),
])


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


def derive(order_id: str, events: list[tuple[OrderChange, datetime]],
           indexed_at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order document (without derived search fields) and its timeline documents."""
    indexed = {change.event_id: at for change, at in events}
    state, described = replay(None, event_set(change for change, _ in events))
    entries = sorted(timeline_entry_id(order_id, event_id) for event_id in indexed)
    document = order_document(state, indexed_at, event_entries=entries) if state is not None else {}
    timeline = [event_document(entry, indexed[entry.event_id]) for entry in described]
    core = {k: v for k, v in document.items() if k not in DERIVED_FIELDS}
    return _plain(core), sorted(_plain(timeline), key=lambda e: e["entry_id"])


def _events_of(row: ColdRow) -> list[tuple[OrderChange, datetime]] | None:
    try:
        return [(OrderChange.model_validate(entry["event"]), datetime.fromisoformat(entry["indexed_at"]))
                for entry in row.timeline]
    except (KeyError, TypeError, ValueError):
        return None


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


def _reproduced(row: ColdRow, events: list[tuple[OrderChange, datetime]] | None,
                indexed_at: datetime | None) -> bool:
    """True when the events alone give back exactly the row's document and timeline."""
    if not events or indexed_at is None or any(change.order_id != row.order_id for change, _ in events):
        return False
    return derive(row.order_id, events, indexed_at) == (row.document, sorted(row.timeline, key=_entry_id))


def _core(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in DERIVED_FIELDS}


def lean_warm(document: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """The warm form of an order document: without its merge stamps when `full_warm` gives
    them back exactly from the timeline's events (else unchanged, so nothing is lost)."""
    row = ColdRow(order_id=str(document.get("order_id")), customer_key="", placed_at=None,
                  document=_core(document), timeline=timeline)
    if "stamps" not in document or not _reproduced(row, _events_of(row), _instant(document.get("indexed_at"))):
        return document
    return {k: v for k, v in document.items() if k != "stamps"}


def full_warm(document: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """The document `lean_warm` was given: the stamps recomputed from the timeline's events,
    in their stored place among the fields."""
    if "stamps" in document:
        return document
    events = _events_of(ColdRow(str(document.get("order_id")), "", None, document, timeline))
    indexed_at = _instant(document.get("indexed_at"))
    if not events or indexed_at is None:
        raise ValueError(f"warm order {document.get('order_id')} has neither stamps nor events to recompute them")
    derived, _ = derive(str(document["order_id"]), events, indexed_at)
    order = list(derived) + [k for k in document if k not in derived]
    return {k: document[k] if k in document else derived[k] for k in order}


def encode(row: ColdRow) -> dict[str, Any]:
    """One Parquet record for `row` (see the module docstring for what is stored)."""
    summary = _summary(row)
    events = _events_of(row)
    if events is None or not _reproduced(row, events, summary["indexed_at"]):
        return {**summary, "events": [], "document_json": orjson.dumps(row.document).decode(),
                "timeline_json": orjson.dumps(row.timeline).decode()}
    stored = [{"indexed_at": at, "change": _to_arrow(change.model_dump(exclude={"order_id"}))}
              for change, at in events]  # the row's order id is not repeated per event
    stored.sort(key=lambda e: (e["change"]["occurred_at"], e["change"]["event_id"]))
    return {**summary, "events": stored, "document_json": None, "timeline_json": None}


def decode(record: dict[str, Any]) -> ColdRow:
    """The row `encode` was given, from its record (the document recomputed from the events)."""
    if record["document_json"] is not None:
        document, timeline = orjson.loads(record["document_json"]), orjson.loads(record["timeline_json"])
    else:
        events = [(OrderChange.model_validate({**_from_arrow(e["change"]), "order_id": record["order_id"]}),
                   e["indexed_at"]) for e in record["events"]]
        document, timeline = derive(record["order_id"], events, record["indexed_at"])
    return ColdRow(order_id=record["order_id"], customer_key=record["customer_key"],
                   placed_at=document.get("placed_at"), document=document, timeline=timeline)


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry.get("entry_id"))


class TypedOrderCodec:
    """`encode`/`decode` as the `adapters.cold_store.ColdCodec` the store is given."""

    schema = SCHEMA
    sort_by = ("customer_key", "order_id")
    dictionary_columns = ("channel", "status")
    read_columns = ("customer_key", "order_id", "indexed_at", "events", "document_json", "timeline_json")

    def encode(self, row: ColdRow) -> dict[str, Any]:
        return encode(row)

    def decode(self, record: dict[str, Any]) -> ColdRow:
        return decode(record)
