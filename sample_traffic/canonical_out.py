"""Canonical `OrderChange` JSON, as the app, call center, B2B gateway and store clienteling app publish it. Pure.

The producer owns `event_id` (``{source}:{order_id}:v{n}``, stable across retries),
`order_id` and `source_version` (n), exactly as the ingest contract says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from sample_traffic.catalog import money
from sample_traffic.customers import phone_as
from sample_traffic.drafts import Draft, Item, Parcel


@dataclass(frozen=True)
class Source:
    """Who speaks for an order on a canonical topic: its id, channel, system and references."""

    order_id: str
    channel: str
    source: str
    references: tuple[tuple[str, str], ...] = ()
    actor: str | None = None


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def change(src: Source, version: int, at: datetime, kind: str, **fields: Any) -> bytes:
    """One OrderChange; only the fields the event speaks about are present."""
    body: dict[str, Any] = {
        "event_id": f"{src.source}:{src.order_id}:v{version}", "order_id": src.order_id, "channel": src.channel,
        "source": src.source, "kind": kind, "occurred_at": iso(at), "source_version": version,
    }
    if src.actor:
        body["actor"] = src.actor
    body.update({key: value for key, value in fields.items() if value is not None})
    return orjson.dumps(body)


def refs(src: Source, *extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"kind": kind, "value": value} for kind, value in (*src.references, *extra)]


def customer(d: Draft, *, with_id: bool = True) -> dict[str, Any] | None:
    c = d.customer
    if c is None:
        return None
    body = {"customer_id": c.customer_id if with_id else None, "email": c.email,
            "phone": phone_as(c, d.style), "loyalty_id": c.loyalty_id, "name": c.name}
    return {key: value for key, value in body.items() if value is not None}


def address(d: Draft) -> dict[str, Any] | None:
    c = d.customer
    if c is None:
        return None
    return {"name": c.name, "line1": c.line1, "city": c.city, "region": c.region,
            "postal_code": c.postal_code, "country": "US"}


def full_lines(d: Draft, fulfillment_type: str, store_id: str | None = None, status: str = "open") -> list[dict]:
    return [{"line_id": i.line_id, "sku": i.product.sku, "name": i.product.name, "quantity": i.quantity,
             "unit_price": money(i.product.cents), "status": status, "fulfillment_type": fulfillment_type,
             **({"store_id": store_id} if store_id else {})} for i in d.items]


def line_status(items: tuple[Item, ...], status: str) -> list[dict[str, str]]:
    return [{"line_id": item.line_id, "status": status} for item in items]


def totals(d: Draft, *, free: bool = False) -> dict[str, str]:
    if free:
        return {"subtotal": "0.00", "tax": "0.00", "shipping": "0.00", "discount": money(d.subtotal),
                "total": "0.00"}
    return {"subtotal": money(d.subtotal), "tax": money(d.tax), "shipping": money(d.shipping_cents),
            "total": money(d.total)}


def card_payment(d: Draft, payment_id: str, **amounts: int) -> dict[str, Any]:
    """Brand and last four only; amounts given in cents (authorized=..., captured=..., refunded=...)."""
    c = d.customer
    if c is not None and c.card_brand == "Invoice":
        return {"payment_id": payment_id, "method": "invoice", **{k: money(v) for k, v in amounts.items()}}
    return {"payment_id": payment_id, "method": "card", "brand": c.card_brand if c else "Visa",
            "last4": c.card_last4 if c else "4242", **{k: money(v) for k, v in amounts.items()}}


def shipment(parcel: Parcel, origin: str, *, delivered: bool = False) -> dict[str, Any]:
    body = {"shipment_id": f"SHP-{parcel.tracking[-8:]}-{parcel.number}", "carrier": parcel.carrier,
            "tracking_number": parcel.tracking, "status": "delivered" if delivered else "in_transit",
            "origin": origin, "line_ids": [item.line_id for item in parcel.items],
            "shipped_at": iso(parcel.shipped_at)}
    if delivered:
        body["delivered_at"] = iso(parcel.delivered_at)
    return body
