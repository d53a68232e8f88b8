"""Status semantics, decoder side (issue 12, section 3), one test per rule, on spec-written corpus messages."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from ingest.decoders import ChannelDecodeError, DecoderOptions, decode, status
from order_domain.identity import hash_card_token, identity_keys
from order_domain.model import (
    STATUS_RANK,
    ChangeKind,
    FulfillmentType,
    LineStatus,
    OrderChange,
    OrderLine,
    OrderStatus,
)
from tests.unit.test_decoder_corpora import CASES, CORPORA, OPTIONS


def corpus(channel: str, name: str) -> dict[str, Any]:
    return json.loads((CORPORA / channel / name).read_text())


def shopify(doc: dict[str, Any], options: DecoderOptions = OPTIONS) -> OrderChange:
    [change] = decode("shopify", json.dumps(doc).encode(), options)
    return change


def line_states(change: OrderChange) -> dict[str, LineStatus | None]:
    return {line.line_id: line.status for line in change.lines}


def test_refund_before_shipment_cancels_the_lines_it_is_not_a_return() -> None:
    change = shopify(corpus("shopify", "refunds_create_before_shipment.json"))
    assert line_states(change) == {"14100000001": LineStatus.CANCELLED}
    assert (change.kind, change.status, change.returns[0].status) == (ChangeKind.LINES_CHANGED, None, "cancelled")


def test_refund_with_restock_returns_the_lines() -> None:
    change = shopify(corpus("shopify", "refunds_create_return_with_restock.json"))
    assert line_states(change) == {"14100000001": LineStatus.RETURNED}
    assert (change.kind, change.status) == (ChangeKind.RETURN, OrderStatus.PARTIALLY_RETURNED)


def test_refund_without_restock_is_a_refund_not_a_return() -> None:
    change = shopify(corpus("shopify", "refunds_create_without_restock.json"))
    assert line_states(change) == {"14100000001": None}
    assert (change.kind, change.status, change.returns[0].status) == (ChangeKind.PAYMENT, None, "refunded")
    assert change.payments[0].refunded == Decimal("40.01")


@pytest.mark.parametrize("state", ["pending", "open", "cancelled", "error", "failure"])
def test_fulfillments_that_did_not_succeed_never_ship(state: str) -> None:
    doc = corpus("shopify", "fulfillments_update_delivered.json")
    doc["payload"]["status"] = state
    change = shopify(doc)
    assert change.status is None and change.lines == ()
    assert (change.shipments[0].status, change.shipments[0].shipped_at, change.shipments[0].delivered_at) == (
        state, None, None)


def test_a_line_shipped_in_three_parts_is_shipped_only_when_the_last_part_leaves() -> None:
    base = corpus("shopify", "fulfillments_create_b2b_part_of_line.json")
    changes = []
    for part, remaining in enumerate((20, 10, 0), start=1):
        doc = copy.deepcopy(base)
        doc["webhook_id"] = f"part-{part}"
        doc["payload"]["id"] = 4801100 + part
        item = doc["payload"]["line_items"][0]
        item.update(fulfillable_quantity=remaining, fulfillment_status="fulfilled" if remaining == 0 else "partial")
        changes.append(shopify(doc))
    assert [line_states(c)["14100000009"] for c in changes] == [None, None, LineStatus.SHIPPED]
    assert [(s.line_id, s.quantity) for c in changes for s in c.shipments[0].lines or ()] == [
        ("14100000009", 10)] * 3
    assert {c.status for c in changes} == {OrderStatus.PARTIALLY_SHIPPED}


def test_delivered_comes_from_the_carrier_event() -> None:
    in_transit = corpus("shopify", "fulfillments_update_delivered.json")
    in_transit["payload"]["shipment_status"] = "in_transit"
    assert set(line_states(shopify(in_transit)).values()) == {LineStatus.SHIPPED}
    delivered = shopify(corpus("shopify", "fulfillments_update_delivered.json"))
    assert set(line_states(delivered).values()) == {LineStatus.DELIVERED}
    assert delivered.shipments[0].delivered_at is not None
    amazon = decode("amazon_sp", (CORPORA / "amazon_sp" / "get_order_easy_ship_delivered.json").read_bytes())
    assert amazon[0].status is OrderStatus.DELIVERED


def fulfillment_types(channel: str, name: str, options: DecoderOptions = OPTIONS) -> set[FulfillmentType | None]:
    changes = decode(channel, (CORPORA / channel / name).read_bytes(), options)
    return {line.fulfillment_type for line in changes[0].lines}


def test_fulfillment_type_ship_to_home_pickup_and_ship_from_store() -> None:
    assert fulfillment_types("shopify", "orders_create_paid.json") == {FulfillmentType.SHIP_TO_HOME}
    assert fulfillment_types("shopify", "orders_create_pickup.json") == {FulfillmentType.BOPIS}
    assert fulfillment_types("shopify", "orders_updated_ship_from_store.json") == {FulfillmentType.SHIP_FROM_STORE}
    unconfigured = DecoderOptions()
    assert fulfillment_types("shopify", "orders_updated_ship_from_store.json", unconfigured) == {
        FulfillmentType.SHIP_TO_HOME}
    assert fulfillment_types("poslog", "v2_sale_retail_store_id.xml") == {FulfillmentType.CARRY_OUT}
    assert fulfillment_types("poslog", "ship_from_store_delivery.xml") == {FulfillmentType.SHIP_FROM_STORE}
    assert fulfillment_types("amazon_sp", "get_order_items_unshipped.json") == {FulfillmentType.SHIP_TO_HOME}
    assert fulfillment_types("amazon_sp", "get_order_items_store_chain.json") == {FulfillmentType.SHIP_FROM_STORE}


def decoded_corpus() -> list[OrderChange]:
    changes = []
    for channel, name, expected in CASES:
        if "changes" in expected:
            changes += decode(channel, (CORPORA / channel / name).read_bytes(), OPTIONS)
    return changes


def test_an_order_status_never_contradicts_the_lines_of_the_same_full_order_event() -> None:
    full = [c for c in decoded_corpus() if c.kind in (ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.CANCELLED)
            and c.lines and c.source in ("shopify", "poslog")]
    assert len(full) >= 30
    for change in full:
        implied = status.from_lines(change.lines)
        assert change.status is not None, change.event_id
        assert implied is None or STATUS_RANK[change.status] >= STATUS_RANK[implied], change.event_id


def test_no_invented_dates_anywhere() -> None:
    for change in decoded_corpus():
        assert change.occurred_at.year >= 2025
        assert change.placed_at is None or change.placed_at.year >= 2025


def test_amazon_refund_is_money_not_a_return() -> None:
    [change] = decode("amazon_sp", (CORPORA / "amazon_sp" / "financial_events_refund.json").read_bytes())
    assert (change.status, change.lines) == (None, ())
    [payment], [ret] = change.payments, change.returns
    assert (payment.refunded, ret.refund_amount, ret.status, ret.line_ids) == (
        Decimal("20.2"), Decimal("20.2"), "refunded", ("52983741920381",))


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], None),
        ([LineStatus.OPEN, LineStatus.OPEN], None),
        ([LineStatus.SHIPPED, LineStatus.OPEN], OrderStatus.PARTIALLY_SHIPPED),
        ([LineStatus.SHIPPED, LineStatus.CANCELLED], OrderStatus.SHIPPED),
        ([LineStatus.DELIVERED, LineStatus.PICKED_UP], OrderStatus.DELIVERED),
        ([LineStatus.PICKED_UP, LineStatus.PICKED_UP], OrderStatus.COMPLETED),
        ([LineStatus.RETURNED, LineStatus.SHIPPED], OrderStatus.PARTIALLY_RETURNED),
        ([LineStatus.RETURNED, LineStatus.CANCELLED], OrderStatus.RETURNED),
        ([LineStatus.CANCELLED, LineStatus.CANCELLED], OrderStatus.CANCELLED),
    ],
)
def test_status_implied_by_a_complete_line_list(states: list[LineStatus], expected: OrderStatus | None) -> None:
    lines = [OrderLine(line_id=str(i), status=state) for i, state in enumerate(states)]
    assert status.from_lines(lines) is expected


def test_store_time_zones_are_configuration_and_never_guessed() -> None:
    payload = (CORPORA / "poslog" / "v3_no_offset_store_time_zone.xml").read_bytes()
    with pytest.raises(ChannelDecodeError) as caught:
        decode("poslog", payload)  # default options: no zone configured for the store
    assert (caught.value.reason, caught.value.location) == ("invalid_timestamp", "/POSLog/Transaction/BeginDateTime")
    berlin = decode("poslog", payload, DecoderOptions(pos_default_tz="Europe/Berlin"))
    assert berlin[0].occurred_at.isoformat() == "2026-07-05T12:04:55+00:00"
    with pytest.raises(ValueError, match="unknown time zone"):
        DecoderOptions(pos_store_tz={"0042": "Mars/Olympus_Mons"})


def test_a_masked_card_number_is_payment_data_never_an_identity_key() -> None:
    carded = [c for c in decoded_corpus() if any(p.last4 for p in c.payments)]
    assert len(carded) >= 10
    for change in carded:
        token = change.customer.card_token if change.customer else None
        keys = identity_keys(change.customer)
        assert [k for k in keys if k.startswith("card:")] == ([f"card:{hash_card_token(token)}"] if token else [])
        assert not any(p.last4 and p.last4 in key for p in change.payments for key in keys)


@pytest.mark.parametrize(
    ("name", "value", "loyalty"),
    [("Loyalty ID", "LY-1", "LY-1"), ("loyalty", "LY-2", "LY-2"), ("member_number", 7781, "7781"),
     ("Rewards card", "RC-9", "RC-9"), ("membership_level", "gold", None), ("reward points", "120", None),
     ("gift_note", "LY-3", None)],
)
def test_loyalty_ids_only_from_attributes_named_as_an_id(name: str, value: object, loyalty: str | None) -> None:
    doc = corpus("shopify", "orders_create_paid.json")
    doc["payload"]["note_attributes"] = [{"name": name, "value": value}]
    change = shopify(doc)
    assert change.customer is not None and change.customer.loyalty_id == loyalty
