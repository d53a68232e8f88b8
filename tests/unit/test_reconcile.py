"""Reconciliation's pure parts: reading an export, folding it, and reporting each kind of drift."""

from __future__ import annotations

from pathlib import Path

import orjson

from ingest.reconcile import Fingerprint, compare, expected_orders, fingerprint_of_document, read_export


def _print(order_id: str, *, day: str = "2026-03-01", status: str = "shipped", total: str = "10") -> Fingerprint:
    return Fingerprint(order_id=order_id, day=day, status=status, lines=(("1", "shipped", 1),), total=total,
                       shipments=1, returns=0)


def test_an_identical_store_is_clean_with_equal_day_checksums() -> None:
    prints = {p.order_id: p for p in (_print("a"), _print("b"), _print("c", day="2026-03-02"))}
    report = compare("web", prints, dict(prints))
    assert report.clean
    assert [(d.day, d.export_count, d.store_count, d.agrees) for d in report.days] == [
        ("2026-03-01", 2, 2, True), ("2026-03-02", 1, 1, True)]


def test_missing_extra_and_stale_orders_are_each_reported_with_their_fields() -> None:
    expected = {p.order_id: p for p in (_print("a"), _print("b"), _print("c"))}
    stored = {"a": _print("a"), "b": _print("b", status="confirmed", total="12"), "x": _print("x")}
    report = compare("web", expected, stored)
    assert [(d.order_id, d.kind) for d in report.drift] == [("c", "missing"), ("x", "extra"), ("b", "differs")]
    assert report.drift[2].fields == {"status": ("shipped", "confirmed"), "total": ("10", "12")}
    day = report.days[0]
    assert (day.export_count, day.store_count, day.agrees) == (3, 3, False)  # same count, other content
    assert not report.clean


def test_checksums_do_not_depend_on_the_order_orders_are_read_in() -> None:
    prints = [_print(str(i)) for i in range(20)]
    forward = compare("web", {p.order_id: p for p in prints}, {})
    backward = compare("web", {p.order_id: p for p in reversed(prints)}, {})
    assert forward.days[0].export_checksum == backward.days[0].export_checksum != f"{0:016x}"


def test_money_is_compared_as_a_number_not_as_text() -> None:
    a = fingerprint_of_document({"order_id": "o", "totals": {"total": "10.50"}})
    b = fingerprint_of_document({"order_id": "o", "totals": {"total": 10.5}})
    assert a.total == b.total == "10.5"


def test_an_export_is_read_as_json_messages_and_raw_strings(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(b'{"a": 1}\n\n"<POSLog/>"\n')
    assert list(read_export(export)) == [b'{"a":1}', b"<POSLog/>"]


def test_the_export_is_folded_per_order_and_refused_messages_are_counted() -> None:
    created = {"event_id": "e1", "order_id": "cc-1", "channel": "call_center", "source": "desk", "kind": "created",
               "occurred_at": "2026-03-01T10:00:00Z", "status": "confirmed", "placed_at": "2026-03-01T10:00:00Z"}
    shipped = {**created, "event_id": "e2", "kind": "status_changed", "occurred_at": "2026-03-02T10:00:00Z",
               "status": "shipped"}
    values = [orjson.dumps(shipped), orjson.dumps(created), b"not json"]
    orders, messages, refused = expected_orders("canonical", values)
    assert (messages, refused) == (3, 1)
    assert list(orders) == ["cc-1"]
    assert orders["cc-1"].status.value == "shipped"
