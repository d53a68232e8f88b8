"""Amazon SP-API Orders adapter: getOrder / getOrderItems envelopes -> canonical changes."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoders import amazon_sp
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


def only(doc: Any) -> OrderChange:
    changes = amazon_sp.decode(json.dumps(doc).encode())
    assert len(changes) == 1
    return changes[0]


def get_order(status: str, **fields: Any) -> dict[str, Any]:
    order = {"AmazonOrderId": "111-0000001-0000001", "LastUpdateDate": "2026-03-01T10:00:00Z", "OrderStatus": status}
    return {"operation": "getOrder", "payload": {**order, **fields}}


def test_get_order_maps_status_ids_total_buyer_and_address() -> None:
    change = only(load("amazon_get_order.json"))
    assert change.order_id == "amz-902-3159896-1390916"
    assert (change.channel, change.status) == (Channel.MARKETPLACE, OrderStatus.CONFIRMED)
    assert change.kind is ChangeKind.STATUS_CHANGED
    assert OrderReference(kind=ReferenceKind.MARKETPLACE_ORDER_ID, value="902-3159896-1390916") in change.references
    assert change.placed_at is not None and change.placed_at.isoformat() == "2026-03-01T18:12:44+00:00"
    assert change.source_version == int(change.occurred_at.timestamp() * 1000)
    assert (change.currency, change.totals.total if change.totals else None) == ("USD", Decimal("45.98"))
    assert change.customer is not None and change.customer.email == "7dvq2hx0bq1q8zr@marketplace.amazon.com"
    assert change.shipping_address is not None and change.shipping_address.region == "WA"
    assert change.event_id.startswith("amz:getOrder:")


def test_unwrapped_response_payload_is_accepted() -> None:
    change = only(load("amazon_get_order_shipped.json"))
    assert (change.status, change.kind) == (OrderStatus.SHIPPED, ChangeKind.FULFILLMENT)


@pytest.mark.parametrize(
    ("native", "status"),
    [
        ("Pending", OrderStatus.PENDING),
        ("PendingAvailability", OrderStatus.PENDING),
        ("Unshipped", OrderStatus.CONFIRMED),
        ("PartiallyShipped", OrderStatus.PARTIALLY_SHIPPED),
        ("Shipped", OrderStatus.SHIPPED),
        ("InvoiceUnconfirmed", OrderStatus.SHIPPED),
        ("Canceled", OrderStatus.CANCELLED),
        ("Unfulfillable", OrderStatus.CANCELLED),
    ],
)
def test_order_status_mapping(native: str, status: OrderStatus) -> None:
    assert only(get_order(native)).status is status


def test_get_order_items_builds_lines_with_unit_price_and_ship_to_home() -> None:
    change = only(load("amazon_get_order_items.json"))
    assert change.kind is ChangeKind.LINES_CHANGED and change.currency == "USD"
    assert change.occurred_at.isoformat() == "2026-03-01T18:20:00+00:00"
    assert [(line.line_id, line.sku, line.quantity, line.unit_price) for line in change.lines] == [
        ("68828574383266", "TEE-BLK-M", 2, Decimal("19.00")),
        ("68828574383267", "B00TESTA02", 1, Decimal("7.98")),
    ]
    assert {line.fulfillment_type for line in change.lines} == {FulfillmentType.SHIP_TO_HOME}


def test_item_status_from_quantities() -> None:
    doc = load("amazon_get_order_items.json")
    items = doc["payload"]["payload"]["OrderItems"]
    items[0]["QuantityShipped"] = 2
    items[1]["QuantityOrdered"] = 0
    change = only(doc)
    assert [line.status for line in change.lines] == [LineStatus.SHIPPED, LineStatus.CANCELLED]
    assert change.source_version == 2


def test_same_content_same_event_id_and_changed_content_new_id() -> None:
    doc = load("amazon_get_order.json")
    assert only(doc).event_id == only(copy.deepcopy(doc)).event_id
    doc["payload"]["payload"]["OrderStatus"] = "Shipped"
    assert only(doc).event_id != only(load("amazon_get_order.json")).event_id


@pytest.mark.parametrize(
    ("doc", "reason", "location"),
    [
        ({"operation": "listOrders", "payload": {}}, "unknown_topic", "operation"),
        ({"payload": {}}, "missing_field", "operation"),
        (get_order("Lost"), "invalid_value", "payload.OrderStatus"),
        (get_order("Shipped", LastUpdateDate="2026-03-01T10:00:00"), "invalid_timestamp", "payload.LastUpdateDate"),
        (get_order("Shipped", AmazonOrderId=None), "missing_field", "payload.AmazonOrderId"),
        (get_order("Shipped", FulfillmentChannel="XYZ"), "invalid_value", "payload.FulfillmentChannel"),
        (get_order("Shipped", OrderTotal={"CurrencyCode": "USD", "Amount": "ten"}), "invalid_value",
         "payload.OrderTotal.Amount"),
        (get_order("Shipped", OrderTotal={"Amount": "1.00"}), "missing_field", "payload.OrderTotal.CurrencyCode"),
        (get_order("Shipped", NumberOfItemsShipped=-1), "invalid_value", "payload.NumberOfItemsShipped"),
        ({"operation": "getOrderItems", "payload": {"AmazonOrderId": "1", "OrderItems": [
            {"OrderItemId": "a", "QuantityOrdered": -2}]}}, "invalid_value", "payload.OrderItems[0].QuantityOrdered"),
        ({"operation": "getOrderItems", "payload": {"AmazonOrderId": "1"}}, "missing_field", "payload.OrderItems"),
        ({"operation": "getOrderItems", "payload": {"AmazonOrderId": "1", "OrderItems": [
            {"OrderItemId": "a", "QuantityOrdered": 1}, {"OrderItemId": "a", "QuantityOrdered": 1}]}},
         "invalid_value", "payload.OrderItems"),
    ],
)
def test_bad_payloads_fail_with_reason_and_location(doc: dict[str, Any], reason: str, location: str) -> None:
    with pytest.raises(ChannelDecodeError) as caught:
        amazon_sp.decode(json.dumps(doc).encode())
    assert (caught.value.source, caught.value.reason, caught.value.location) == ("amazon_sp", reason, location)




@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_channel_decode_error(payload: bytes) -> None:
    decodes_or_rejects(amazon_sp.decode, payload)


ORDER_KEYS = ["AmazonOrderId", "LastUpdateDate", "PurchaseDate", "OrderStatus", "FulfillmentChannel", "OrderTotal",
              "BuyerInfo", "ShippingAddress", "OrderItems", "NumberOfItemsShipped", "payload"]


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["getOrder", "getOrderItems"]),
    st.dictionaries(st.sampled_from(ORDER_KEYS), JSON_VALUES, max_size=8),
    st.sampled_from(["amazon_get_order.json", "amazon_get_order_items.json"]),
)
def test_arbitrary_structures_only_raise_channel_decode_error(
    operation: str, overrides: dict[str, Any], base: str
) -> None:
    doc = load(base)
    inner = doc["payload"]["payload"]
    inner.update(overrides)
    decodes_or_rejects(amazon_sp.decode, json.dumps({"operation": operation, "payload": inner}).encode())
