"""Derived fields stored beside an order: `search` (what CSR free-text search matches:
names, emails, phones in any formatting, every reference, SKUs, tracking numbers)
and `facts` (what analytics aggregate: fulfillment type and time, return channels).
Pure; recomputed on every write from the order's document form
(`order_domain.merge.document_of`, or `Order.to_document()`), so no model is rebuilt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from order_domain.identity import normalize_phone
from order_domain.model import CLOSED_STATUSES, OrderStatus

def phone_digits(phone: str) -> list[str]:
    """Full international digits and the national part, so '555 010 2030' matches '+15550102030'."""
    normalized = normalize_phone(phone)
    if normalized is None:
        return []
    digits = normalized.lstrip("+")
    return sorted({digits, digits[-10:]})


def search_fields(document: dict[str, Any]) -> dict[str, Any]:
    customer = document.get("customer") or {}
    lines = document.get("lines") or []
    refs = {ref["value"] for ref in document.get("references") or []} | {document["order_id"]}
    refs |= {s["tracking_number"] for s in document.get("shipments") or [] if s.get("tracking_number")}
    refs |= {line["sku"] for line in lines if line.get("sku")}
    refs |= {ref.lstrip("#") for ref in refs if ref.startswith("#")}  # "#1042" is also typed "1042"
    refs |= {value for value in (customer.get("email"), customer.get("loyalty_id")) if value}
    texts = [customer.get("name"), customer.get("email"), (document.get("shipping_address") or {}).get("name")]
    texts += [line.get("name") for line in lines]
    phones = phone_digits(customer["phone"]) if customer.get("phone") else []
    return {
        "text": " ".join(t for t in texts if t),
        "refs": sorted(refs),
        "phones": phones,
    }


_FULFILLED = (str(OrderStatus.DELIVERED), str(OrderStatus.COMPLETED))
_CLOSED = frozenset(str(status) for status in CLOSED_STATUSES)


def order_facts(document: dict[str, Any]) -> dict[str, Any]:
    lines = document.get("lines") or []
    returns = document.get("returns") or []
    history = {str(status): _instant(at) for status, at in (document.get("status_history") or {}).items()}
    fulfillment_types = sorted({str(line["fulfillment_type"]) for line in lines if line.get("fulfillment_type")})
    fulfilled_at = min((history[s] for s in _FULFILLED if s in history), default=None)
    placed_at = _instant(document.get("placed_at"))
    hours = None
    if fulfilled_at is not None and placed_at is not None and fulfilled_at >= placed_at:
        hours = round((fulfilled_at - placed_at).total_seconds() / 3600, 3)
    return_channels = sorted({str(r["channel"]) for r in returns if r.get("channel")})
    return {
        "fulfillment_type": fulfillment_types[0] if len(fulfillment_types) == 1 else
        ("mixed" if fulfillment_types else None),
        "fulfillment_hours": hours,
        "return_channels": return_channels,
        "has_return": bool(returns),
        "cross_channel": len(document.get("channels_seen") or []) > 1,
        "closed": str(document.get("status", OrderStatus.PENDING)) in _CLOSED,
        "line_count": len(lines),
    }


def _instant(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
