"""Decoded channel streams converge: shuffled and duplicated events merge to the same documents.

For each adapter hypothesis generates a stream of *native* payloads for one or a
few orders, decodes them, then replays the resulting events in another order with
duplicates (at-least-once delivery) and checks that `merge_all` gives the same
order documents. A cross-channel case links a Shopify order and a POSLog return.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoders import decode
from order_domain.merge import merge_all
from order_domain.model import Channel, OrderChange, OrderStatus

BASE_TIME = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
OFFSETS = st.sampled_from(["Z", "+00:00", "-05:00", "+01:00"])
LINE_IDS = [11001, 11002, 11003]
SETTINGS = settings(max_examples=60, deadline=None)
POSLOG_NS = "http://www.nrf-arts.org/IXRetail/namespace/"


def stamp(minutes: int, offset: str) -> str:
    """An ISO timestamp `minutes` after BASE_TIME, written with the given UTC offset."""
    hours = 0 if offset in ("Z", "+00:00") else int(offset[:3])
    local = (BASE_TIME + timedelta(minutes=minutes, hours=hours)).replace(tzinfo=None)
    return local.isoformat() + offset


def fold(changes: Iterable[OrderChange]) -> dict[str, dict[str, Any]]:
    """Merge events per order id; the result is what the repository would store."""
    by_order: dict[str, list[OrderChange]] = defaultdict(list)
    for change in changes:
        by_order[change.order_id].append(change)
    return {order_id: merge_all(None, events).to_document() for order_id, events in by_order.items()}


@st.composite
def replays(draw: st.DrawFn, changes: list[OrderChange]) -> list[OrderChange]:
    """The same events in another order, some of them delivered more than once."""
    shuffled = draw(st.permutations(changes))
    extra = draw(st.lists(st.sampled_from(changes), max_size=len(changes))) if changes else []
    return draw(st.permutations(shuffled + extra))


def assert_converges(data: st.DataObject, changes: list[OrderChange]) -> None:
    assert fold(data.draw(replays(changes))) == fold(changes)


# --- Shopify -----------------------------------------------------------------------------------


@st.composite
def shopify_line(draw: st.DrawFn, line_id: int) -> dict[str, Any]:
    return {
        "id": line_id,
        "sku": f"SKU-{line_id}",
        "title": draw(st.sampled_from(["Tee", "Mug", "Cap"])),
        "quantity": draw(st.integers(0, 5)),
        "price": draw(st.sampled_from(["9.99", "19.00", "0.50"])),
        "fulfillment_status": draw(st.sampled_from([None, "fulfilled", "partial"])),
    }


@st.composite
def shopify_webhook(draw: st.DrawFn, order_id: int, index: int) -> bytes:
    topic = draw(st.sampled_from(["orders/create", "orders/updated", "orders/cancelled", "fulfillments/create",
                                  "fulfillments/update", "refunds/create"]))
    when = stamp(draw(st.integers(0, 600)), draw(OFFSETS))
    line_ids = draw(st.lists(st.sampled_from(LINE_IDS), min_size=1, max_size=3, unique=True))
    if topic.startswith("orders/"):
        body: dict[str, Any] = {
            "id": order_id, "name": f"#{order_id}", "order_number": order_id, "updated_at": when,
            "created_at": stamp(0, "Z"), "currency": "USD",
            "email": draw(st.sampled_from(["a@example.com", "b@example.com", None])),
            "financial_status": draw(st.sampled_from(["pending", "paid", "partially_refunded", None])),
            "fulfillment_status": draw(st.sampled_from([None, "partial", "fulfilled"])),
            "total_price": draw(st.sampled_from(["10.00", "12.50"])),
            "line_items": [draw(shopify_line(line_id)) for line_id in line_ids],
        }
    elif topic.startswith("fulfillments/"):
        body = {
            "id": draw(st.sampled_from([501, 502])), "order_id": order_id, "updated_at": when,
            "status": draw(st.sampled_from(["success", "pending", "cancelled"])),
            "tracking_company": "UPS", "tracking_number": draw(st.sampled_from(["1Z1", "1Z2"])),
            "shipment_status": draw(st.sampled_from([None, "in_transit", "delivered"])),
            "line_items": [{"id": line_id} for line_id in line_ids],
        }
    else:
        body = {
            "id": draw(st.sampled_from([901, 902])), "order_id": order_id, "created_at": when,
            "refund_line_items": [{"line_item_id": line_id, "quantity": 1,
                                   "restock_type": draw(st.sampled_from(["return", "cancel", "no_restock"]))}
                                  for line_id in line_ids],
            "transactions": [{"id": 7000 + index, "kind": "refund", "status": "success", "amount": "5.00"}],
        }
    webhook_id = draw(st.sampled_from([None, f"wh-{order_id}-{index}"]))
    return json.dumps({"topic": topic, "webhook_id": webhook_id, "payload": body}).encode()


@st.composite
def shopify_stream(draw: st.DrawFn) -> list[bytes]:
    orders = draw(st.lists(st.sampled_from([4501, 4502]), min_size=1, max_size=8))
    return [draw(shopify_webhook(order_id, index)) for index, order_id in enumerate(orders)]


@SETTINGS
@given(shopify_stream(), st.data())
def test_shopify_stream_converges(payloads: list[bytes], data: st.DataObject) -> None:
    assert_converges(data, [change for payload in payloads for change in decode("shopify", payload)])


# --- Amazon SP-API -----------------------------------------------------------------------------


@st.composite
def amazon_message(draw: st.DrawFn, amazon_id: str) -> bytes:
    if draw(st.booleans()):
        payload = {
            "AmazonOrderId": amazon_id, "PurchaseDate": stamp(0, "Z"),
            "LastUpdateDate": stamp(draw(st.integers(0, 600)), draw(OFFSETS)),
            "OrderStatus": draw(st.sampled_from(["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled"])),
            "FulfillmentChannel": draw(st.sampled_from(["AFN", "MFN"])),
            "OrderTotal": {"CurrencyCode": "USD", "Amount": draw(st.sampled_from(["10.00", "20.00"]))},
            "BuyerInfo": {"BuyerEmail": draw(st.sampled_from(["x@example.com", "y@example.com"]))},
        }
        return json.dumps({"operation": "getOrder", "payload": {"payload": payload}}).encode()
    items = [
        {"OrderItemId": item_id, "SellerSKU": f"SKU-{item_id}", "QuantityOrdered": draw(st.integers(0, 3)),
         "QuantityShipped": draw(st.integers(0, 3)), "ItemPrice": {"CurrencyCode": "USD", "Amount": "6.00"}}
        for item_id in draw(st.lists(st.sampled_from(["i1", "i2"]), min_size=1, unique=True))
    ]
    retrieved = stamp(draw(st.integers(0, 600)), "Z")  # without it the message is dead-lettered, never dated 1970
    envelope = {"operation": "getOrderItems", "payload": {"AmazonOrderId": amazon_id, "OrderItems": items}}
    return json.dumps({**envelope, "retrieved_at": retrieved}).encode()


@SETTINGS
@given(st.lists(st.sampled_from(["111-1", "222-2"]), min_size=1, max_size=8).flatmap(
    lambda ids: st.tuples(*[amazon_message(amazon_id) for amazon_id in ids])), st.data())
def test_amazon_stream_converges(payloads: tuple[bytes, ...], data: st.DataObject) -> None:
    assert_converges(data, [change for payload in payloads for change in decode("amazon_sp", payload)])


# --- POSLog ------------------------------------------------------------------------------------


def poslog(sequence: int, minutes: int, lines: list[str], *, link: str | None = None, cancel: bool = False) -> bytes:
    """A one-transaction POSLog document; `lines` are 'sale:SKU' or 'return:SKU'."""
    items = []
    for number, spec in enumerate(lines, start=1):
        kind, sku = spec.split(":")
        element = "Sale" if kind == "sale" else "Return"
        link_xml = ""
        if link and kind == "return":
            link_xml = (f"<TransactionLink><TransactionID>{link}</TransactionID>"
                        f"<LineNumber>{number}</LineNumber></TransactionLink>")
        items.append(f"<LineItem><SequenceNumber>{number}</SequenceNumber><{element}><ItemID>{sku}</ItemID>"
                     f"<ExtendedAmount>5.00</ExtendedAmount><Quantity>1</Quantity>{link_xml}</{element}></LineItem>")
    tender = (f"<LineItem><SequenceNumber>{len(lines) + 1}</SequenceNumber>"
              '<Tender TenderType="Cash"><Amount>5.00</Amount></Tender></LineItem>')
    flag = ' CancelFlag="true"' if cancel else ""
    return (
        f'<POSLog xmlns="{POSLOG_NS}"><Transaction{flag}>'
        "<RetailStoreID>0042</RetailStoreID><WorkstationID>1</WorkstationID>"
        f"<SequenceNumber>{sequence}</SequenceNumber>"
        f"<BusinessDayDate>2026-03-01</BusinessDayDate><EndDateTime>{stamp(minutes, '-05:00')}</EndDateTime>"
        f"<RetailTransaction>{''.join(items)}{tender}</RetailTransaction></Transaction></POSLog>"
    ).encode()


SALE_ID = "pos-0042-1-100-20260301"


@st.composite
def poslog_stream(draw: st.DrawFn) -> list[bytes]:
    sale_lines = draw(st.lists(st.sampled_from(["sale:A", "sale:B", "sale:C"]), min_size=1, max_size=3))
    stream = [poslog(100, 0, sale_lines, cancel=draw(st.booleans()))]
    for sequence in draw(st.lists(st.integers(101, 105), max_size=4, unique=True)):
        lines = draw(st.lists(st.sampled_from(["return:A", "return:B", "sale:D"]), min_size=1, max_size=3))
        stream.append(poslog(sequence, draw(st.integers(1, 600)), lines, link=SALE_ID))
    return stream


@SETTINGS
@given(poslog_stream(), st.data())
def test_poslog_stream_converges(payloads: list[bytes], data: st.DataObject) -> None:
    assert_converges(data, [change for payload in payloads for change in decode("poslog", payload)])


# --- Canonical ---------------------------------------------------------------------------------


@st.composite
def canonical_event(draw: st.DrawFn, index: int) -> bytes:
    event = {
        "event_id": f"cc-{index}", "order_id": draw(st.sampled_from(["cc-1", "cc-2"])),
        "channel": draw(st.sampled_from(["call_center", "b2b", "app"])), "source": "crm",
        "kind": draw(st.sampled_from(["created", "updated", "fulfillment"])),
        "occurred_at": stamp(draw(st.integers(0, 30)), draw(OFFSETS)),
        "source_version": draw(st.sampled_from([None, 1, 2])),
        "status": draw(st.sampled_from([None, "confirmed", "shipped", "cancelled"])),
        "currency": draw(st.sampled_from([None, "USD", "EUR"])),
        "customer": draw(st.sampled_from([None, {"email": "a@example.com"}, {"email": "b@example.com",
                                                                              "loyalty_id": "L1"}])),
        "lines": [{"line_id": line_id, "quantity": draw(st.integers(0, 3)),
                   "status": draw(st.sampled_from([None, "open", "shipped"]))}
                  for line_id in draw(st.lists(st.sampled_from(["1", "2"]), unique=True))],
        "references": [{"kind": "call_center_ticket", "value": draw(st.sampled_from(["T1", "T2"]))}],
    }
    return json.dumps(event).encode()


@SETTINGS
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(*[canonical_event(i) for i in range(n)])), st.data())
def test_canonical_stream_converges(payloads: tuple[bytes, ...], data: st.DataObject) -> None:
    assert_converges(data, [change for payload in payloads for change in decode("canonical", payload)])


# --- Cross-channel: bought online, returned in store --------------------------------------------


@SETTINGS
@given(shopify_stream(), st.integers(1, 900), st.data())
def test_web_order_and_store_return_converge_in_any_order(
    web_payloads: list[bytes], return_minutes: int, data: st.DataObject
) -> None:
    create = {"topic": "orders/create", "payload": {"id": 4501, "name": "#4501", "created_at": stamp(0, "Z"),
                                                    "updated_at": stamp(0, "Z"), "financial_status": "paid"}}
    store_return = poslog(777, return_minutes, ["return:A"], link="web-4501")
    changes = [change for payload in [json.dumps(create).encode(), *web_payloads]
               for change in decode("shopify", payload)]
    changes += decode("poslog", store_return)
    assert_converges(data, changes)
    web = fold(changes)["web-4501"]
    assert web["channel"] == Channel.WEB and set(web["channels_seen"]) >= {"web", "store"}
    store_links = [ret for ret in web["returns"] if ret.get("channel") == "store"]
    assert store_links == [{"return_id": "pos-0042-1-777-20260301", "channel": "store", "status": "returned",
                            "line_ids": ["1"], "refund_amount": "5.00", "store_id": "0042"}]
    assert {"kind": "pos_receipt", "value": "0042-1-777"} in web["references"]
    assert web["status"] in {s.value for s in OrderStatus if s not in (OrderStatus.PENDING, OrderStatus.CONFIRMED)}
