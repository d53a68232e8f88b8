"""Shopify webhook adapter: fixtures decode to the documented mapping; bad input fails cleanly."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.decoders import shopify
from ingest.decoders.reader import ChannelDecodeError
from order_domain.model import (
    ChangeKind,
    Channel,
    FulfillmentType,
    LineStatus,
    OrderChange,
    OrderReference,
    OrderStatus,
    ReferenceKind,
)
from tests.unit.channel_helpers import FIXTURES, JSON_VALUES, decodes_or_rejects



def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def decode_doc(doc: Any) -> list[OrderChange]:
    return shopify.decode(json.dumps(doc).encode())


def only(doc: Any) -> OrderChange:
    changes = decode_doc(doc)
    assert len(changes) == 1
    return changes[0]


def test_orders_create_maps_ids_references_customer_lines_and_masked_payment() -> None:
    change = only(load("shopify_orders_create.json"))
    assert change.order_id == "web-4501"
    assert change.event_id == "shopify:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert (change.channel, change.kind, change.status) == (Channel.WEB, ChangeKind.CREATED, OrderStatus.CONFIRMED)
    assert change.occurred_at.isoformat() == "2026-03-01T15:00:05+00:00"
    assert change.source_version == int(change.occurred_at.timestamp() * 1000)
    assert set(change.references) == {
        OrderReference(kind=ReferenceKind.SOURCE_ORDER_ID, value="4501"),
        OrderReference(kind=ReferenceKind.WEB_ORDER_NUMBER, value="#1001"),
        OrderReference(kind=ReferenceKind.WEB_ORDER_NUMBER, value="1001"),
    }
    assert change.customer is not None and change.customer.customer_id == "shopify-207119551"
    assert change.customer.name == "Ada Lovelace"
    assert [(line.line_id, line.quantity, line.unit_price) for line in change.lines] == [
        ("11001", 2, Decimal("19.00")),
        ("11002", 1, Decimal("20.00")),
    ]
    assert all(line.fulfillment_type is FulfillmentType.SHIP_TO_HOME for line in change.lines)
    payment = change.payments[0]
    assert (payment.brand, payment.last4, payment.captured) == ("Visa", "4242", Decimal("63.48"))
    assert "424242" not in change.model_dump_json()
    assert change.totals is not None and change.totals.total == Decimal("63.48")


def test_orders_updated_fulfilled_adds_shipment_and_tracking_reference() -> None:
    change = only(load("shopify_orders_updated.json"))
    assert change.status is OrderStatus.SHIPPED
    assert {line.status for line in change.lines} == {LineStatus.SHIPPED}
    assert OrderReference(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784") in change.references
    shipment = change.shipments[0]
    assert (shipment.shipment_id, shipment.carrier, shipment.origin) == ("255858046", "UPS", "905684977")
    assert shipment.line_ids == ("11001", "11002")


def test_orders_cancelled_cancels_order_and_lines() -> None:
    change = only(load("shopify_orders_cancelled.json"))
    assert (change.kind, change.status) == (ChangeKind.CANCELLED, OrderStatus.CANCELLED)
    assert {line.status for line in change.lines} == {LineStatus.CANCELLED}


def test_pickup_shipping_line_makes_bopis_lines_at_the_location() -> None:
    change = only(load("shopify_orders_create_pickup.json"))
    assert [(line.fulfillment_type, line.store_id) for line in change.lines] == [
        (FulfillmentType.BOPIS, "905684977")
    ]


def test_fulfillment_webhook_marks_lines_shipped() -> None:
    change = only(load("shopify_fulfillments_create.json"))
    assert (change.order_id, change.kind) == ("web-4501", ChangeKind.FULFILLMENT)
    assert change.status is OrderStatus.PARTIALLY_SHIPPED
    assert {line.line_id: line.status for line in change.lines} == {"11001": LineStatus.SHIPPED,
                                                                    "11002": LineStatus.SHIPPED}
    assert change.shipments[0].tracking_number == "1Z999AA10123456784"


def test_refund_webhook_links_a_return_and_refund_payment() -> None:
    change = only(load("shopify_refunds_create.json"))
    assert (change.kind, change.status) == (ChangeKind.RETURN, OrderStatus.PARTIALLY_RETURNED)
    assert change.lines[0].status is LineStatus.RETURNED
    ret = change.returns[0]
    assert (ret.return_id, ret.line_ids, ret.refund_amount) == ("refund-509562969", ("11001",), Decimal("20.74"))
    assert change.payments[0].refunded == Decimal("20.74")


def test_event_id_without_webhook_id_is_a_stable_content_hash() -> None:
    doc = load("shopify_orders_create.json")
    del doc["webhook_id"]
    first, again = only(doc), only(copy.deepcopy(doc))
    assert first.event_id == again.event_id and first.event_id.startswith("shopify:")
    doc["payload"]["updated_at"] = "2026-03-01T10:00:06-05:00"
    assert only(doc).event_id != first.event_id


def mutate(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "reason", "location"),
    [
        (["topic"], "orders/exploded", "unknown_topic", "topic"),
        (["payload", "id"], KeyError, "missing_field", "payload.id"),
        (["payload", "line_items", 1, "quantity"], -1, "invalid_value", "payload.line_items[1].quantity"),
        (["payload", "line_items", 0, "quantity"], "two", "invalid_value", "payload.line_items[0].quantity"),
        (["payload", "line_items", 0, "quantity"], 1.5, "invalid_value", "payload.line_items[0].quantity"),
        (["payload", "updated_at"], "2026-03-01T10:00:05", "invalid_timestamp", "payload.updated_at"),
        (["payload", "updated_at"], "yesterday", "invalid_timestamp", "payload.updated_at"),
        (["payload", "financial_status"], "lost", "invalid_value", "payload.financial_status"),
        (["payload", "total_price"], "12.3.4", "invalid_value", "payload.total_price"),
        (["payload", "total_price"], True, "invalid_type", "payload.total_price"),
        (["payload", "line_items"], {"id": 1}, "invalid_type", "payload.line_items"),
        (["payload", "currency"], "usd", "invalid_value", "OrderChange.currency"),
        (["payload"], [1, 2], "invalid_type", "payload"),
    ],
)
def test_bad_fields_fail_with_reason_and_location(path: list[Any], value: Any, reason: str, location: str) -> None:
    with pytest.raises(ChannelDecodeError) as caught:
        decode_doc(mutate(load("shopify_orders_create.json"), path, value))
    assert (caught.value.source, caught.value.reason, caught.value.location) == ("shopify", reason, location)
    assert location in str(caught.value)


@pytest.mark.parametrize("payload", [b"", b"{", b'{"topic": NaN}', b"\xff\xfe", b"[" * 100_000, b"null"])
def test_malformed_payloads_fail_cleanly(payload: bytes) -> None:
    with pytest.raises(ChannelDecodeError) as caught:
        shopify.decode(payload)
    assert caught.value.reason in {"malformed_json", "invalid_type", "too_deeply_nested"}




@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_channel_decode_error(payload: bytes) -> None:
    decodes_or_rejects(shopify.decode, payload)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(shopify._HANDLERS)), JSON_VALUES)
def test_arbitrary_bodies_only_raise_channel_decode_error(topic: str, body: Any) -> None:
    decodes_or_rejects(shopify.decode, json.dumps({"topic": topic, "payload": body}).encode())


def leaf_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        items: list[tuple[Any, Any]] = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return [prefix]
    return [prefix] + [p for key, value in items for p in leaf_paths(value, (*prefix, key))]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["shopify_orders_create.json", "shopify_orders_updated.json", "shopify_refunds_create.json",
                     "shopify_fulfillments_create.json"]),
    st.data(),
)
def test_fixture_with_one_value_replaced_only_raises_channel_decode_error(name: str, data: st.DataObject) -> None:
    doc = load(name)
    path = data.draw(st.sampled_from([p for p in leaf_paths(doc) if p]))
    decodes_or_rejects(shopify.decode, json.dumps(mutate(doc, list(path), data.draw(JSON_VALUES))).encode())
