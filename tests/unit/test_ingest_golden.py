"""The cheaper ingest paths store exactly what the plain paths store, on the sample traffic.

Each fast path is checked against an independent computation made here, not a saved blob:
- POSLog child lookups (`xml.child`, walked with `iterchildren`) against lxml's path engine;
- the merge's collections (inlined stamp checks, models read through their field dict, items kept in
  their stored form) against a reference fold written from the merge's rules (last writer wins per
  field by stamp, line status by rank) over the models' own `model_dump()`;
- the order documents (`document_of`, no validation), read back, against the validated model's JSON dump.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import pytest

from ingest.decoders import DEFAULT_OPTIONS, decode
from ingest.decoders.poslog import xml
from ingest.planner import order_document, order_from_document, plan_writes
from ingest.topics import CHANNEL_FORMATS
from order_domain.merge import order_of, stamp_of
from order_domain.model import LINE_STATUS_RANK, OrderChange
from order_domain.timeline import event_set, with_links
from sample_traffic import generate

COLLECTIONS = {"lines": "line_id", "shipments": "shipment_id", "payments": "payment_id", "returns": "return_id"}
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@cache
def _traffic() -> tuple[tuple[str, bytes], ...]:
    formats = {channel: source for channel, source in CHANNEL_FORMATS.items()}
    return tuple((formats[m.channel], m.value) for m in generate(orders=160, seed=23))


@cache
def _changes() -> tuple[OrderChange, ...]:
    return tuple(change for source, payload in _traffic() for change in decode(source, payload, DEFAULT_OPTIONS))


def _by_order() -> dict[str, list[OrderChange]]:
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in with_links(_changes())[0]:
        by_order[change.order_id].append(change)
    return {order_id: event_set(events) for order_id, events in by_order.items()}


def test_the_sample_traffic_covers_every_format_and_collection() -> None:
    assert {source for source, _ in _traffic()} == set(CHANNEL_FORMATS.values())
    for collection in COLLECTIONS:
        assert any(getattr(change, collection) for change in _changes()), collection


def test_poslog_child_lookups_match_the_path_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = [payload for source, payload in _traffic() if source == "poslog"]
    fast = [decode("poslog", payload, DEFAULT_OPTIONS) for payload in payloads]
    monkeypatch.setattr(xml, "_steps", lambda path: None)  # every lookup through element.find(q(path))
    assert [decode("poslog", payload, DEFAULT_OPTIONS) for payload in payloads] == fast
    assert len(payloads) > 20 and sum(map(len, fast)) >= len(payloads)


@pytest.mark.parametrize("namespace", ["", ' xmlns="urn:other"'])
def test_child_walks_every_match_of_a_multi_step_path_in_document_order(namespace: str) -> None:
    root = xml.parse(f"<POSLog{namespace}><T><BusinessUnit/><BusinessUnit><UnitID>s-2</UnitID><UnitID>s-3</UnitID>"
                     f"</BusinessUnit></T></POSLog>".encode())
    transaction = root[0]
    found = xml.child(transaction, "BusinessUnit/UnitID")
    assert found is not None and found.text == "s-2"
    assert found is transaction.find(xml.q("BusinessUnit/UnitID"))
    assert xml.child(transaction, "BusinessUnit/Missing") is None
    assert xml.text(transaction, ".//UnitID") == "s-2"


def _reference_collection(events: list[OrderChange], collection: str) -> list[dict[str, Any]]:
    """Per item and field: the value of the latest event (by stamp) that spoke about it; line status by rank."""
    id_field = COLLECTIONS[collection]
    items: dict[str, dict[str, Any]] = {}
    stamps: dict[tuple[str, str], Any] = {}
    for event in events:
        for patch in getattr(event, collection):
            values = patch.model_dump()
            item = items.setdefault(values[id_field], {id_field: values[id_field]})
            for field, value in values.items():
                if value is None or field == id_field:
                    continue
                if collection == "lines" and field == "status":
                    if field not in item or LINE_STATUS_RANK[value] > LINE_STATUS_RANK[item[field]]:
                        item[field] = value
                elif (held := stamps.get((item[id_field], field))) is None or stamp_of(event) > held:
                    item[field], stamps[(item[id_field], field)] = _stored(value), stamp_of(event)
    return [items[key] for key in sorted(items)]


def _stored(value: Any) -> Any:
    """The stored form of a dumped value: lists for tuples, no None, at any depth (what the state holds)."""
    if isinstance(value, dict):
        return {key: _stored(item) for key, item in value.items() if item is not None}
    return [_stored(item) for item in value] if isinstance(value, (list, tuple)) else value


def _written_states() -> dict[str, dict[str, Any]]:
    plan = plan_writes(with_links(_changes())[0], {})
    return {write.order_id: write.state for write in plan.orders}


def test_merged_collections_match_a_reference_fold_of_the_model_dumps() -> None:
    states = _written_states()
    events = _by_order()
    assert set(states) == set(events)
    for order_id, state in states.items():
        for collection in COLLECTIONS:
            assert state[collection] == _reference_collection(events[order_id], collection), (order_id, collection)


def test_order_documents_equal_the_validated_models_json() -> None:
    states = _written_states()
    for order_id, state in states.items():
        stored = orjson.loads(orjson.dumps(order_document(state, NOW), default=str))
        assert order_from_document(stored).to_document() == order_of(state).to_document(), order_id
        assert set(stored) - set(order_of(state).to_document()) == {"indexed_at", "search", "facts", "event_entries"}
