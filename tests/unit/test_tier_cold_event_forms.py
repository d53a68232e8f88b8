"""Cold events store only the part of their id and version the row does not already say, and
give back every id and version exactly: the channels' own ids, and any odd id."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore
from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.planner import plan_writes
from ingest.topics import CHANNEL_FORMATS
from order_domain.model import OrderChange
from order_domain.stored_forms import event_document, order_document
from retention.cold_codec import EVENT, SCHEMA, UTC_MICROS, TypedOrderCodec
from retention.cold_event_forms import event_id, id_form, milliseconds, source_version, version_form
from retention.copies import OrderCopy, cold_row
from sample_traffic.stream import generate

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def changes() -> list[OrderChange]:
    found: list[OrderChange] = []
    for message in generate(orders=200, seed=7, start=NOW - timedelta(days=120), days=120):
        try:
            found.extend(decode(CHANNEL_FORMATS[message.channel], message.value))
        except (ChannelDecodeError, IgnoredPayload):
            continue
    return found


def test_every_channel_event_id_and_version_come_back_exactly(changes: list[OrderChange]) -> None:
    assert len({c.channel for c in changes}) >= 5
    for change in changes:
        form, rest = id_form(change.event_id, change.order_id, change.source_version)
        assert event_id(form, rest, change.order_id, change.source_version) == change.event_id
        from_time, stored = version_form(change.source_version, change.occurred_at)
        assert source_version(from_time, stored, change.occurred_at) == change.source_version


def test_channel_ids_keep_only_their_random_part(changes: list[OrderChange]) -> None:
    forms = Counter(id_form(c.event_id, c.order_id, c.source_version)[0] for c in changes)
    assert None not in forms  # every sample id follows a pattern
    assert {"poslog:{o}:", "edi-gateway:{o}:v{v}", "mobile-app:{o}:v{v}", "callcenter-crm:{o}:v{v}",
            "shopify:", "amz:getOrder:"} <= set(forms)
    per_channel = {form for form in forms if ":link:" not in form}  # links name another order: kept whole
    assert len(per_channel) <= 16  # a handful of values, not one per order
    assert all(form.endswith(":link:{o}") for form in set(forms) - per_channel)
    assert id_form("edi-gateway:b2b-PO-3:v7", "b2b-PO-3", 7) == ("edi-gateway:{o}:v{v}", "")
    assert id_form("poslog:pos-1:8c6a", "pos-1", 1767229527000) == ("poslog:{o}:", "8c6a")


@pytest.mark.parametrize(("odd", "order_id", "version"), [
    ("no-colon-at-all", "o1", 1), ("{o}:o1:v1", "o1", 1), ("x:{v}", "o1", None), ("", "o1", None),
    ("o1", "o1", None), (":", "o1", 2), ("a:o1:v1", "o1", None), ("a:o1:v01", "o1", 1)])
def test_odd_ids_come_back_exactly(odd: str, order_id: str, version: int | None) -> None:
    form, rest = id_form(odd, order_id, version)
    assert event_id(form, rest, order_id, version) == odd
    if "{" in odd or odd == "no-colon-at-all":
        assert (form, rest) == (None, odd)


@given(st.text(max_size=40), st.text(max_size=12), st.none() | st.integers(min_value=0, max_value=2**62))
def test_any_id_comes_back_exactly(any_id: str, order_id: str, version: int | None) -> None:
    assert event_id(*id_form(any_id, order_id, version), order_id, version) == any_id


@given(st.text(alphabet="ab:{}ov0123", max_size=20), st.text(alphabet="ab:{}ov0123", max_size=6),
       st.none() | st.integers(min_value=0, max_value=30))
def test_ids_built_from_the_row_come_back_exactly(parts: str, order_id: str, version: int | None) -> None:
    for any_id in (f"{parts}:{order_id}:v{version}", f"{order_id}:{parts}", f"s:{order_id}{parts}:{order_id}"):
        assert event_id(*id_form(any_id, order_id, version), order_id, version) == any_id


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
       st.none() | st.integers(min_value=0, max_value=2**62), st.booleans())
def test_any_version_comes_back_exactly(instant: datetime, version: int | None, same: bool) -> None:
    version = milliseconds(instant) if same else version
    from_time, stored = version_form(version, instant)
    assert from_time == (version is not None and version == milliseconds(instant))
    assert source_version(from_time, stored, instant) == version


def _stored(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=str))


def _row(changes: list[OrderChange]) -> ColdRow:
    plan = plan_writes(changes, {})
    write = plan.orders[0]
    document = _stored(order_document(write.state, NOW, event_entries=write.event_entries))
    return cold_row(OrderCopy(write.order_id, document, [_stored(event_document(e, NOW)) for e in plan.entries]))


@pytest.mark.parametrize("odd_id", ["no-pattern", "{o}:weird", "src:o-9:v3", "o-9", "x:o-9:o-9:tail"])
def test_an_order_with_odd_event_ids_passes_through_cold_unchanged(odd_id: str) -> None:
    base = {"order_id": "o-9", "channel": "web", "source": "src", "occurred_at": "2026-01-02T03:04:05.123Z"}
    changes = [OrderChange.model_validate({**base, "event_id": odd_id, "kind": "created",
                                           "source_version": 1767323045123, "placed_at": "2026-01-02T03:04:05Z"}),
               OrderChange.model_validate({**base, "event_id": "src:o-9:v4", "kind": "status_changed",
                                           "source_version": 4, "status": "completed",
                                           "occurred_at": "2026-01-03T03:04:05Z"})]
    row = _row(changes)
    record = TypedOrderCodec().encode(row)
    assert record["document_json"] is None and len(record["events"]) == 2
    assert [e["version_from_time"] for e in record["events"]] == [True, False]
    assert record["events"][1]["id_form"] == "src:{o}:v{v}" and record["events"][1]["change"]["event_id"] == ""
    decoded = TypedOrderCodec().decode(record)  # the timeline comes back sorted by entry id, as ever
    assert orjson.dumps(decoded.document) == orjson.dumps(row.document)
    assert orjson.dumps(decoded.timeline) == orjson.dumps(sorted(row.timeline, key=lambda e: e["entry_id"]))


def _values(rows: list[ColdRow]) -> dict[str, Any]:
    """Each row's document and its timeline in entry order (how cold gives it back), as JSON bytes."""
    return {r.order_id: orjson.dumps([r.document, sorted(r.timeline, key=lambda e: e["entry_id"])]) for r in rows}


def _old_layout(record: dict[str, Any]) -> dict[str, Any]:
    """`record` as a part written before event forms stored it: whole ids and versions."""
    events = []
    for stored in record["events"]:
        change = stored["change"]
        version = source_version(stored["version_from_time"], change["source_version"], change["occurred_at"])
        whole = event_id(stored["id_form"], change["event_id"], record["order_id"], version)
        events.append({"indexed_at": stored["indexed_at"],
                       "change": {**change, "event_id": whole, "source_version": version}})
    return {**record, "events": events}


def test_parts_written_before_event_forms_are_read_and_merged_unchanged(changes: list[OrderChange],
                                                                         tmp_path: Path) -> None:
    plan = plan_writes(changes, {})
    timelines: dict[str, list[dict[str, Any]]] = {}
    for entry in plan.entries:
        timelines.setdefault(entry.order_id, []).append(_stored(event_document(entry, NOW)))
    rows = [cold_row(OrderCopy(w.order_id, _stored(order_document(w.state, NOW, event_entries=w.event_entries)),
                               timelines[w.order_id])) for w in plan.orders][:60]
    codec = TypedOrderCodec()
    old_event = pa.struct([("indexed_at", UTC_MICROS), ("change", EVENT.field("change").type)])
    old_schema = pa.schema([pa.field("events", pa.list_(old_event)) if f.name == "events" else f for f in SCHEMA])
    (tmp_path / "orders" / "2026.01").mkdir(parents=True)
    old = "orders/2026.01/part-old.parquet"
    pq.write_table(pa.Table.from_pylist([_old_layout(codec.encode(r)) for r in rows[:30]], schema=old_schema),
                   tmp_path / old)
    store = ColdStore(str(tmp_path), codec=codec, row_group_rows=8)
    new = store.write_part("2026.01", rows[30:])
    assert new is not None
    assert _values(store.read_all(old)) == _values(rows[:30])
    merged = store.merge_parts([old, new.path], {r.order_id for r in rows})
    assert merged is not None and merged.rows == 60
    assert _values(store.read_all(merged.path)) == _values(rows)
