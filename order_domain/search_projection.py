"""Derived fields stored beside an order: `search` (what CSR free-text search matches:
names, emails, phones in any formatting, every reference, SKUs, tracking numbers)
and `facts` (what analytics aggregate: fulfillment type and time, return channels).
Pure; recomputed from the order on every write.
"""

from __future__ import annotations

import re
from typing import Any

from order_domain.identity import normalize_phone
from order_domain.model import CLOSED_STATUSES, Order, OrderStatus

_NON_DIGITS = re.compile(r"\D+")


def phone_digits(phone: str) -> list[str]:
    """Full international digits and the national part, so '555 010 2030' matches '+15550102030'."""
    normalized = normalize_phone(phone)
    if normalized is None:
        return []
    digits = normalized.lstrip("+")
    return sorted({digits, digits[-10:]})


def search_fields(order: Order) -> dict[str, Any]:
    customer = order.customer
    refs = {ref.value for ref in order.references} | {order.order_id}
    refs |= {s.tracking_number for s in order.shipments if s.tracking_number}
    refs |= {line.sku for line in order.lines if line.sku}
    refs |= {ref.lstrip("#") for ref in refs if ref.startswith("#")}  # "#1042" is also typed "1042"
    refs |= {value for value in (customer.email, customer.loyalty_id) if value}
    texts = [customer.name, customer.email, order.shipping_address.name if order.shipping_address else None]
    texts += [line.name for line in order.lines]
    phones = phone_digits(customer.phone) if customer.phone else []
    return {
        "text": " ".join(t for t in texts if t),
        "refs": sorted(refs),
        "phones": phones,
    }


_FULFILLED = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def order_facts(order: Order) -> dict[str, Any]:
    fulfillment_types = sorted({line.fulfillment_type.value for line in order.lines if line.fulfillment_type})
    fulfilled_at = min((order.status_history[s] for s in _FULFILLED if s in order.status_history), default=None)
    hours = None
    if fulfilled_at is not None and order.placed_at is not None and fulfilled_at >= order.placed_at:
        hours = round((fulfilled_at - order.placed_at).total_seconds() / 3600, 3)
    return_channels = sorted({r.channel.value for r in order.returns if r.channel})
    return {
        "fulfillment_type": fulfillment_types[0] if len(fulfillment_types) == 1 else
        ("mixed" if fulfillment_types else None),
        "fulfillment_hours": hours,
        "return_channels": return_channels,
        "has_return": bool(order.returns),
        "cross_channel": len(order.channels_seen) > 1,
        "closed": order.status in CLOSED_STATUSES,
        "line_count": len(order.lines),
    }
