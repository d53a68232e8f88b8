"""The typed cold layout: sample traffic of every channel goes through cold and comes back exactly,
stored as typed events (no JSON text), with the columns analysts scan typed as documented."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.planner import plan_writes
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import OrderChange
from order_domain.stored_forms import event_document, order_document
from retention.cold_codec import MONEY, UTC_MICROS, TypedOrderCodec, arrow_type, derive, full_warm, lean_warm
from retention.copies import OrderCopy, cold_row, with_derived
from sample_traffic.stream import generate

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _stored(value: Any) -> Any:
    """What the engine hands back: the JSON its serialiser wrote (Decimals as text)."""
    return orjson.loads(orjson.dumps(value, default=str))


@pytest.fixture(scope="module")
def copies() -> list[OrderCopy]:
    changes: list[OrderChange] = []
    for message in generate(orders=150, seed=5, start=NOW - timedelta(days=120), days=120):
        try:
            changes.extend(decode(CHANNEL_FORMATS[message.channel], message.value))
        except (ChannelDecodeError, IgnoredPayload):
            continue
    plan = plan_writes(changes, {})
    timelines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in plan.entries:
        timelines[entry.order_id].append(_stored(event_document(entry, NOW)))
    return [OrderCopy(w.order_id, _stored(order_document(w.state, NOW, event_entries=w.event_entries)),
                      timelines[w.order_id]) for w in plan.orders]


def test_every_channel_round_trips_exactly_through_typed_events(copies: list[OrderCopy], tmp_path: Path) -> None:
    assert len({c.document["channel"] for c in copies}) >= 4
    codec = TypedOrderCodec()
    records = [codec.encode(cold_row(c)) for c in copies]
    assert [r["document_json"] for r in records] == [None] * len(copies)  # none needed the JSON fallback
    store = ColdStore(str(tmp_path), codec=codec, row_group_rows=32)
    written = store.write_part("2026.01", (cold_row(c) for c in copies))
    assert written is not None and written.rows == len(copies)
    store.forget_cache()
    for copy in copies:
        row = store.read(written.path, written.row_groups[copy.order_id], [copy.order_id])[copy.order_id]
        assert row.document == cold_row(copy).document
        assert sorted(row.timeline, key=lambda e: e["entry_id"]) == sorted(copy.timeline, key=lambda e: e["entry_id"])


def test_the_columns_are_typed(copies: list[OrderCopy], tmp_path: Path) -> None:
    store = ColdStore(str(tmp_path), codec=TypedOrderCodec())
    written = store.write_part("2026.01", (cold_row(c) for c in copies))
    assert written is not None
    table = pq.read_table(tmp_path / written.path)
    assert table.schema.field("placed_at").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_dictionary(table.schema.field("status").type)
    assert table.schema.field("customer_keys").type == pa.list_(pa.string())
    change = table.schema.field("events").type.value_type.field("change").type
    assert change.field("occurred_at").type == UTC_MICROS
    assert change.field("lines").type.value_type.field("unit_price").type == MONEY
    first = next(c for c in copies if (c.document.get("totals") or {}).get("total"))
    total = table.filter(pa.compute.equal(table.column("order_id"), first.order_id)).column("total")[0].as_py()
    assert Decimal(total["minor"]).scaleb(-total["scale"]) == Decimal(first.document["totals"]["total"])


def test_amounts_keep_their_exact_scale() -> None:
    row = next(iter(_one_order_with_price(Decimal("12.5"))))
    assert TypedOrderCodec().decode(TypedOrderCodec().encode(row)).document["lines"][0]["unit_price"] == "12.5"


def _one_order_with_price(price: Decimal) -> list[ColdRow]:
    change = OrderChange.model_validate({
        "event_id": "e1", "order_id": "o1", "channel": "web", "source": "test", "kind": "created",
        "occurred_at": "2026-01-02T03:04:05Z", "placed_at": "2026-01-02T03:04:05Z",
        "lines": [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": str(price)}]})
    plan = plan_writes([change], {})
    write = plan.orders[0]
    return [cold_row(OrderCopy("o1", _stored(order_document(write.state, NOW, event_entries=write.event_entries)),
                               [_stored(event_document(e, NOW)) for e in plan.entries]))]


def test_a_row_not_made_of_its_events_is_kept_as_json_text() -> None:
    (row,) = _one_order_with_price(Decimal("3.10"))
    edited = ColdRow(row.order_id, row.customer_key, row.placed_at, {**row.document, "status": "completed"},
                     row.timeline)
    record = TypedOrderCodec().encode(edited)
    assert record["events"] == [] and record["document_json"] is not None
    assert TypedOrderCodec().decode(record) == edited


def test_arrow_types_follow_the_model() -> None:
    assert arrow_type(OrderChange).field("source_version").type == pa.int64()
    assert arrow_type(OrderChange).field("references").type.value_type.field("kind").type == pa.string()


def test_a_warm_copy_drops_its_stamps_and_gets_them_back_exactly(copies: list[OrderCopy]) -> None:
    for copy in copies:
        full = with_derived(copy.document)
        lean = lean_warm(full, copy.timeline)
        assert "stamps" not in lean and {k: v for k, v in full.items() if k != "stamps"} == lean
        restored = full_warm(_stored(lean), copy.timeline)
        assert restored == full and list(restored) == list(full)  # same values, same field order


def test_a_warm_copy_not_made_of_its_events_keeps_its_stamps() -> None:
    (row,) = _one_order_with_price(Decimal("3.10"))
    edited = {**row.document, "stamps": {**row.document["stamps"], "status": {"event_id": "elsewhere"}}}
    assert lean_warm(edited, row.timeline) == edited
    assert full_warm(edited, row.timeline) == edited
    without_events = [{k: v for k, v in entry.items() if k != "event"} for entry in row.timeline]
    assert lean_warm(row.document, without_events) == row.document
    with pytest.raises(ValueError, match="neither stamps nor events"):
        full_warm({k: v for k, v in row.document.items() if k != "stamps"}, without_events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_set_of_an_orders_events_survives_the_warm_form(copies: list[OrderCopy], data: st.DataObject) -> None:
    """Whatever subset of its events an order has received (in any arrival order), the warm form
    gives back exactly the document the write path stores for that subset."""
    copy = data.draw(st.sampled_from(copies))
    chosen = data.draw(st.lists(st.sampled_from(copy.timeline), min_size=1, unique_by=lambda e: e["entry_id"]))
    events = [(OrderChange.model_validate(e["event"]), datetime.fromisoformat(e["indexed_at"])) for e in chosen]
    document, timeline = derive(copy.order_id, events, NOW)
    if not document:
        return  # a set with no placing event is not an order yet
    full = with_derived(document)
    lean = lean_warm(full, timeline)
    assert "stamps" not in lean
    assert full_warm(_stored(lean), timeline) == full


def test_a_decoded_row_computes_its_timeline_only_when_asked_and_it_equals_the_eager_one(
        copies: list[OrderCopy]) -> None:
    codec = TypedOrderCodec()
    for copy in copies:
        row = cold_row(copy)
        decoded = codec.decode(codec.encode(row))
        assert not decoded.timeline_computed
        assert decoded.document == row.document  # the document alone, timeline still not computed
        assert not decoded.timeline_computed
        events = [(OrderChange.model_validate(e["event"]), datetime.fromisoformat(e["indexed_at"]))
                  for e in copy.timeline]
        eager_document, eager_timeline = derive(copy.order_id, events, NOW)
        assert decoded.document == eager_document and list(decoded.document) == list(eager_document)
        assert decoded.timeline == eager_timeline  # computed now, exactly the eager answer
        assert decoded.timeline_computed and decoded.timeline is decoded.timeline  # kept, not recomputed
        assert decoded == ColdRow(row.order_id, row.customer_key, row.placed_at, row.document,
                                  sorted(row.timeline, key=lambda e: e["entry_id"]))


def test_rows_compare_by_value_whether_their_timeline_is_computed_or_not(copies: list[OrderCopy]) -> None:
    codec = TypedOrderCodec()
    record = codec.encode(cold_row(copies[0]))
    first, second = codec.decode(record), codec.decode(record)
    assert first == second and first.timeline_computed and second.timeline_computed
    other = codec.decode(codec.encode(cold_row(copies[1])))
    assert first != other
    assert "not computed" in repr(codec.decode(record))


def test_a_warm_copy_read_back_is_not_recomputed_when_encoded(copies: list[OrderCopy],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from retention import cold_codec

    codec = TypedOrderCodec()
    warm = []
    for copy in copies:
        lean = _stored(lean_warm(with_derived(copy.document), copy.timeline))
        document, derivation = cold_codec.full_warm_derived(lean, copy.timeline)
        assert derivation is not None and document == with_derived(copy.document)
        warm.append(OrderCopy(copy.order_id, document, copy.timeline, derivation=derivation))
    expected = [codec.encode(cold_row(c)) for c in copies]  # recomputed from scratch
    calls = []
    monkeypatch.setattr(cold_codec, "derive", lambda *args: calls.append(args) or derive(*args))
    assert [codec.encode(cold_row(c)) for c in warm] == expected
    assert calls == []  # every move reused what reading the warm copy recomputed
    stranger = OrderCopy(copies[0].order_id, warm[0].document, list(copies[0].timeline), derivation=warm[0].derivation)
    assert codec.encode(cold_row(stranger)) == expected[0] and len(calls) == 1  # another timeline list: recomputed


def test_a_derivation_made_for_other_events_is_never_trusted(copies: list[OrderCopy]) -> None:
    from retention import cold_codec

    codec = TypedOrderCodec()
    _, derivation = cold_codec.full_warm_derived(_stored(lean_warm(with_derived(copies[1].document),
                                                                  copies[1].timeline)), copies[1].timeline)
    row = cold_row(OrderCopy(copies[0].order_id, copies[0].document, copies[0].timeline, derivation=derivation))
    assert codec.encode(row) == codec.encode(cold_row(copies[0]))


def test_a_history_read_of_cold_orders_does_not_compute_their_timelines(copies: list[OrderCopy],
                                                                        tmp_path: Path) -> None:
    import asyncio

    from retention.storage import TierNames
    from retention.tier_reader import TierReader

    store = ColdStore(str(tmp_path), codec=TypedOrderCodec(), row_group_rows=16)
    written = store.write_part("2026.01", (cold_row(c) for c in copies[:40]))
    assert written is not None
    reader = TierReader(None, TierNames("p"), store)  # type: ignore[arg-type]  # cold entries only: no engine
    entries = [{"order_id": c.order_id, "tier": "cold", "location": written.path,
                "row_group": written.row_groups[c.order_id]} for c in copies[:40]]
    for _ in range(2):  # decoded from Parquet, then answered from the decoded rows in memory
        found = asyncio.run(reader.fetch(entries))
        assert [o.order_id for o in found] == [c.order_id for c in copies[:40]]
        assert [o.document["status"] for o in found] == [c.document["status"] for c in copies[:40]]
    rows = store.cached(written.path, [c.order_id for c in copies[:40]])
    assert rows is not None and [r.timeline_computed for r in rows.values()] == [False] * 40
    first = copies[0]
    assert rows[first.order_id].timeline == sorted(first.timeline, key=lambda e: e["entry_id"])
