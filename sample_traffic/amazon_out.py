"""Marketplace payloads: Amazon SP-API Orders v0 responses in the poller's envelope. Pure.

Envelope: ``{"operation": "getOrder" | "getOrderItems", "payload": ..., "retrieved_at": ...}``.
The poller sometimes forwards the whole response (``{"payload": {...}}``) and
sometimes only its payload object; the adapter accepts both, so both appear.
"""

from __future__ import annotations

import random
from functools import lru_cache
from datetime import datetime
from typing import Any

import orjson

from sample_traffic.canonical_out import iso
from sample_traffic.catalog import money
from sample_traffic.drafts import Draft


def amazon_order_id(rng: random.Random, seq: int) -> str:
    """The familiar 3-7-7 digit shape; the middle block is the sequence number, so ids never collide."""
    return f"{rng.choice((111, 112, 113, 114, 702, 902))}-{seq:07d}-{rng.randrange(10**7):07d}"


def _envelope(operation: str, body: dict[str, Any], retrieved_at: datetime, wrap: bool) -> bytes:
    return orjson.dumps({"operation": operation, "payload": {"payload": body} if wrap else body,
                         "retrieved_at": iso(retrieved_at)})


def get_order(d: Draft, amazon_id: str, status: str, updated: datetime, retrieved: datetime, *,
              shipped_units: int, afn: bool, wrap: bool) -> bytes:
    """getOrder: buyer and address data only once the order left Pending (as SP-API restricts it)."""
    units = sum(item.quantity for item in d.items)
    body: dict[str, Any] = {
        "AmazonOrderId": amazon_id, "SellerOrderId": f"SO-{d.seq:08d}" if d.style % 2 else None,
        "PurchaseDate": iso(d.placed_at), "LastUpdateDate": iso(updated), "OrderStatus": status,
        "FulfillmentChannel": "AFN" if afn else "MFN", "SalesChannel": "Amazon.com",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": money(d.total)},
        "NumberOfItemsShipped": shipped_units, "NumberOfItemsUnshipped": units - shipped_units,
        "PaymentMethod": "Other", "MarketplaceId": "ATVPDKIKX0DER", "IsPrime": afn,
    }
    c = d.customer
    if status != "Pending" and c is not None:
        body["BuyerInfo"] = {"BuyerEmail": f"{c.index:x}q{c.card_last4}@marketplace.amazon.com",
                             "BuyerName": c.name}
        body["ShippingAddress"] = {"Name": c.name, "AddressLine1": c.line1, "City": c.city,
                                   "StateOrRegion": c.region, "PostalCode": c.postal_code, "CountryCode": "US"}
    return _envelope("getOrder", {k: v for k, v in body.items() if v is not None}, retrieved, wrap)


def get_order_items(d: Draft, amazon_id: str, shipped: dict[str, int], retrieved: datetime, *, wrap: bool) -> bytes:
    """getOrderItems: ItemPrice is the line total; QuantityShipped grows as parcels leave."""
    items = [{"ASIN": _asin(item.product.sku),
              "SellerSKU": item.product.sku, "OrderItemId": item.line_id, "Title": item.product.name,
              "QuantityOrdered": item.quantity, "QuantityShipped": shipped.get(item.line_id, 0),
              "ItemPrice": {"CurrencyCode": "USD", "Amount": money(item.extended)},
              "ItemTax": {"CurrencyCode": "USD", "Amount": money(item.extended * 825 // 10_000)}}
             for item in d.items]
    return _envelope("getOrderItems", {"AmazonOrderId": amazon_id, "OrderItems": items}, retrieved, wrap)


@lru_cache(maxsize=None)
def _asin(sku: str) -> str:
    """A stable ASIN-looking id per SKU (no Python hash: that is salted per process)."""
    value = 0
    for ch in sku:
        value = (value * 131 + ord(ch)) % 36**8
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(8):
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return "B0" + out
