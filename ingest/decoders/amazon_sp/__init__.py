"""Marketplace adapter: Amazon Selling Partner API (Orders v0, Finances v0) -> canonical `OrderChange`. Pure.

Kafka message (marketplace channel topic). The SP-API poller publishes each API
response untouched inside an envelope::

    {"operation": "getOrder" | "getOrders" | "getOrderItems" | "listFinancialEventsByOrderId",
     "payload": {...the response's "payload" object...} | {"payload": {...}},
     "retrieved_at": "2026-03-01T10:00:00Z"}      # when the poller called the API

``payload`` may be the response's ``payload`` object or the whole response
(``{"payload": {...}}``); both are accepted. A response holding only ``errors``
is rejected (``api_error``); any other operation is ``unknown_topic``. Fields the
adapter does not map are ignored, never a reason to reject.

- getOrder / getOrders: `orders` (one change per Order; occurred_at = LastUpdateDate,
  placed_at = PurchaseDate);
- getOrderItems: `items` (dated by retrieved_at, see there);
- listFinancialEventsByOrderId / listFinancialEvents: `finances` (refunds).

event_id = ``amz:{operation}:`` + sha256 of the key-sorted content: a re-poll that
returns the same content dedupes; changed content is a new event.
"""

from __future__ import annotations

from typing import Any

from ingest.decoders.amazon_sp import finances, items, orders
from ingest.decoders.amazon_sp.common import SOURCE, R
from ingest.decoders.options import DEFAULT_OPTIONS, DecoderOptions
from ingest.decoders.reader import IgnoredPayload, shielded
from order_domain.model import OrderChange

_OPERATIONS = ("getOrder", "getOrders", "getOrderItems", "listFinancialEventsByOrderId", "listFinancialEvents")
__all__ = ["SOURCE", "decode"]


@shielded(SOURCE)
def decode(payload: bytes, options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange]:
    """Decode one enveloped SP-API response into the canonical changes it implies."""
    envelope = R.mapping(R.load_json(payload), "")
    operation = R.text(envelope, "operation", "", required=True)
    if operation not in _OPERATIONS:
        R.fail("unknown_topic", "operation", f"unsupported SP-API operation {operation!r}")
    body, at = _unwrap(R.mapping(R.field(envelope, "payload", "", required=True), "payload"))
    with R.guard():
        if operation == "getOrder":
            return [orders.order(body, at)]
        if operation == "getOrders":
            return _listed(body, at)
        if operation == "getOrderItems":
            return [items.items(body, at, retrieved_at=R.timestamp(envelope, "retrieved_at", ""))]
        return finances.refunds(body, at)


def _unwrap(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Accept the whole response ({"payload": ..., "errors": ...}) or its payload object."""
    if "payload" in body and isinstance(body["payload"], dict):
        return body["payload"], "payload.payload"
    if "errors" in body and not any(key[:1].isupper() for key in body):
        R.fail("api_error", "payload.errors", "the SP-API response carries errors, no payload")
    return body, "payload"


def _listed(body: dict[str, Any], at: str) -> list[OrderChange]:
    found = R.objects(body, "Orders", at)
    if not found:
        raise IgnoredPayload(SOURCE, "no_orders", "getOrders returned an empty page")
    return [orders.order(order, loc) for loc, order in found]
