"""Web channel payloads: Shopify Admin webhooks in the envelope the web adapter expects. Pure.

Envelope: ``{"topic", "webhook_id", "payload"}``. Shopify ids are integers
derived from the order's sequence number, so they are unique and reproducible;
timestamps are written in the store's local offset (the adapter normalises them).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

import orjson

from sample_traffic.catalog import money
from sample_traffic.customers import phone_as
from sample_traffic.drafts import Draft, Item, Parcel

_ORDER_BASE = 5_100_000_000
_LINE_BASE = 14_000_000_000
_FULFILLMENT_BASE = 4_200_000_000
_TX_BASE = 7_300_000_000


def shop_order_id(seq: int) -> int:
    return _ORDER_BASE + seq


def line_ids(seq: int, count: int) -> list[str]:
    return [str(_LINE_BASE + seq * 8 + i) for i in range(count)]


def envelope(rng: random.Random, topic: str, body: dict[str, Any]) -> bytes:
    """Wrap a webhook body the way the receiver does; the delivery id is a reproducible UUID4."""
    webhook_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return orjson.dumps({"topic": topic, "webhook_id": webhook_id, "payload": body})


def ts(d: Draft, at: datetime) -> str:
    return at.astimezone(d.store.tz).isoformat()


def order_body(d: Draft, at: datetime, *, financial: str, fulfillment: str | None = None,
               shipped: tuple[tuple[Parcel, str], ...] = (), cancelled: bool = False,
               pickup: bool = False, captured: bool = False) -> dict[str, Any]:
    """An Order resource as orders/create, orders/updated and orders/cancelled deliver it."""
    done = {item.line_id for parcel, _ in shipped for item in parcel.items}
    body: dict[str, Any] = {
        "id": shop_order_id(d.seq), "name": f"#{1001 + d.seq}", "order_number": 1001 + d.seq,
        "email": d.customer.email if d.customer else None,
        "phone": phone_as(d.customer, 1) if d.customer and d.style % 2 else None,
        "created_at": ts(d, d.placed_at), "updated_at": ts(d, at),
        "cancelled_at": ts(d, at) if cancelled else None, "cancel_reason": "customer" if cancelled else None,
        "financial_status": financial, "fulfillment_status": fulfillment, "currency": "USD",
        "total_price": money(d.total), "subtotal_price": money(d.subtotal), "total_tax": money(d.tax),
        "total_discounts": "0.00", "customer": _customer(d), "shipping_address": None if pickup else _address(d),
        "shipping_lines": [_shipping_line(d, pickup)],
        "line_items": [_line_item(item, "fulfilled" if item.line_id in done else None) for item in d.items],
        "fulfillments": [fulfillment_body(d, parcel, status, pickup=pickup,
                                          at=parcel.delivered_at if status == "delivered" else None)
                         for parcel, status in shipped],
        "transactions": transactions(d, captured=captured),
    }
    if pickup:
        body["location_id"] = d.store.store_id
    return body


def _customer(d: Draft) -> dict[str, Any] | None:
    c = d.customer
    if c is None or d.style == 4:  # guest checkout: e-mail only, no customer record
        return None
    return {"id": 6_000_000_000 + c.index, "email": c.email, "phone": "+1" + c.phone,
            "first_name": c.first, "last_name": c.last, "tags": "loyalty" if c.loyalty_id else ""}


def _address(d: Draft) -> dict[str, Any] | None:
    c = d.customer
    if c is None:
        return None
    return {"name": c.name, "first_name": c.first, "last_name": c.last, "address1": c.line1, "address2": None,
            "city": c.city, "province_code": c.region, "zip": c.postal_code, "country": "United States",
            "country_code": "US", "phone": phone_as(c, d.style)}


def _shipping_line(d: Draft, pickup: bool) -> dict[str, Any]:
    if pickup:
        return {"id": 90_000_000 + d.seq, "code": "Pickup", "title": f"Pick up in store ({d.store.city})",
                "source": "shopify", "price": "0.00"}
    return {"id": 90_000_000 + d.seq, "code": "Standard", "title": "Standard Shipping", "source": "shopify",
            "price": money(d.shipping_cents)}


def _line_item(item: Item, fulfillment: str | None) -> dict[str, Any]:
    return {"id": int(item.line_id), "sku": item.product.sku, "title": item.product.name,
            "quantity": item.quantity, "price": money(item.product.cents),
            "fulfillment_status": fulfillment, "requires_shipping": True}


def fulfillment_body(d: Draft, parcel: Parcel, status: str | None, *, pickup: bool = False,
                     at: datetime | None = None) -> dict[str, Any]:
    """A Fulfillment: one parcel (tracked), or for pickup orders the 'ready for pickup' hand-over."""
    tracking = None if pickup else parcel.tracking
    return {
        "id": _FULFILLMENT_BASE + d.seq * 4 + parcel.number, "order_id": shop_order_id(d.seq),
        "status": "success", "shipment_status": status,
        "tracking_company": None if pickup else parcel.carrier, "tracking_number": tracking,
        "tracking_numbers": [tracking] if tracking else [],
        "location_id": d.store.store_id if pickup else f"dc-{1 + d.seq % 3:02d}",
        "created_at": ts(d, parcel.shipped_at), "updated_at": ts(d, at or parcel.shipped_at),
        "line_items": [{"id": int(i.line_id), "sku": i.product.sku, "quantity": i.quantity} for i in parcel.items],
    }


def transactions(d: Draft, *, captured: bool) -> list[dict[str, Any]]:
    """Card payments keep brand + masked number only; authorise-then-capture or a direct sale."""
    c = d.customer
    details = {"credit_card_bin": None, "credit_card_company": c.card_brand if c else "Visa",
               "credit_card_number": f"•••• •••• •••• {c.card_last4 if c else '4242'}"}
    base = {"status": "success", "amount": money(d.total), "gateway": "shopify_payments",
            "payment_details": details}
    if d.style in (0, 3):  # direct sale
        return [{"id": _TX_BASE + d.seq * 4, "kind": "sale", **base}]
    txs = [{"id": _TX_BASE + d.seq * 4 + 1, "kind": "authorization", **base}]
    if captured:
        txs.append({"id": _TX_BASE + d.seq * 4 + 2, "kind": "capture", **base})
    return txs


def refund_body(d: Draft, item: Item, at: datetime) -> dict[str, Any]:
    """refunds/create for one returned line (goods came back: restock_type return)."""
    amount = item.extended + item.extended * 825 // 10_000
    return {
        "id": 509_000_000 + d.seq, "order_id": shop_order_id(d.seq), "created_at": ts(d, at),
        "processed_at": ts(d, at), "note": "Customer return",
        "refund_line_items": [{"id": 104_000_000 + d.seq, "line_item_id": int(item.line_id),
                               "quantity": item.quantity, "subtotal": money(item.extended),
                               "restock_type": "return"}],
        "transactions": [{"id": _TX_BASE + d.seq * 4 + 3, "kind": "refund", "status": "success",
                          "amount": money(amount), "gateway": "shopify_payments"}],
    }
