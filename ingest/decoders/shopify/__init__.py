"""Web storefront adapter: Shopify Admin REST webhooks -> canonical `OrderChange`. Pure decoder.

Kafka message (web channel topic). Shopify delivers the topic and the delivery id
in HTTP headers (``X-Shopify-Topic``, ``X-Shopify-Webhook-Id``), so the webhook
receiver wraps the untouched body in an envelope::

    {"topic": "orders/create", "webhook_id": "<X-Shopify-Webhook-Id>", "payload": {...webhook body...}}

Topics: orders/create, orders/updated, orders/cancelled (body = Order, see
`order`), fulfillments/create, fulfillments/update (body = Fulfillment, see
`shipping`), refunds/create (body = Refund, see `refund`),
order_transactions/create (body = Transaction, see `parts`). Any other topic is
``unknown_topic``. A body with ``"test": true`` (a test notification, or a test
order) raises `IgnoredPayload` (``test_notification``). Money and quantities are
accepted as strings or numbers; fields not mapped are ignored.

Ids and ordering:
- order id = ``web-{order id}`` (``order_id`` for fulfillment, refund and transaction bodies);
- occurred_at = ``updated_at`` (refunds: ``created_at``; transactions:
  ``processed_at`` else ``created_at``), UTC; source_version = its epoch ms;
- event_id = ``shopify:{webhook_id}`` (Shopify reuses it on retries), else
  ``shopify:`` + sha256(topic, id, time, key-sorted body).

References: ``name`` ("#1001"), ``order_number`` and ``confirmation_number`` ->
web_order_number, ``id`` -> source_order_id, tracking numbers -> tracking_number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ingest.decoders import status as order_status
from ingest.decoders.options import DEFAULT_OPTIONS, DecoderOptions
from ingest.decoders.reader import (
    IgnoredPayload,
    canonical_json,
    digest,
    shielded,
    version_of,
)
from ingest.decoders.shopify import order, refund, shipping
from ingest.decoders.shopify.parts import (
    SOURCE,
    R,
    address,
    customer,
    tracking_refs,
    transaction,
    transactions,
)
from order_domain.model import ChangeKind, Channel, LineStatus, OrderChange, OrderStatus

_ORDER_KIND = {
    "orders/create": ChangeKind.CREATED,
    "orders/updated": ChangeKind.UPDATED,
    "orders/cancelled": ChangeKind.CANCELLED,
}
Handler = Callable[[str, str | None, dict[str, Any], DecoderOptions], OrderChange]
__all__ = ["SOURCE", "decode"]


@shielded(SOURCE)
def decode(payload: bytes, options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange]:
    """Decode one enveloped Shopify webhook into the canonical change it describes."""
    envelope = R.mapping(R.load_json(payload), "")
    topic = R.text(envelope, "topic", "", required=True) or ""
    handler = _HANDLERS.get(topic)
    if handler is None:
        R.fail("unknown_topic", "topic", f"unsupported Shopify webhook topic {topic!r}")
    webhook_id = R.ident(envelope, "webhook_id", "")
    body = R.mapping(R.field(envelope, "payload", "", required=True), "payload")
    if body.get("test") is True:
        raise IgnoredPayload(SOURCE, "test_notification", f"{topic} body is marked test")
    with R.guard():
        return [handler(topic, webhook_id, body, options)]


def _common(topic: str, webhook_id: str | None, body: dict[str, Any], order_id: str | None,
            moment: datetime | None) -> dict[str, Any]:
    """The fields every change shares: ids, channel, time and version."""
    event_id = f"shopify:{webhook_id}" if webhook_id else "shopify:" + digest(
        topic, body.get("id"), moment, canonical_json(body))
    return {"event_id": event_id, "order_id": f"web-{order_id}", "channel": Channel.WEB, "source": SOURCE,
            "occurred_at": moment, "source_version": version_of(moment) if moment else None}


def _order(topic: str, webhook_id: str | None, body: dict[str, Any], options: DecoderOptions) -> OrderChange:
    at = "payload"
    shop_id = R.ident(body, "id", at, required=True) or ""
    updated = R.timestamp(body, "updated_at", at, required=True)
    cancelled = topic == "orders/cancelled" or R.timestamp(body, "cancelled_at", at) is not None
    lines = order.lines(body, at, cancelled=cancelled, options=options)
    own = transactions(body, at)
    payments = own + [p for loc, r in R.objects(body, "refunds", at) for p in refund.refund_payments(r, loc)]
    summary = order.summary_payment(body, at, shop_id) if not own else None
    return R.build(
        **_common(topic, webhook_id, body, shop_id, updated),
        kind=_ORDER_KIND[topic],
        status=order_status.consistent(order.native_status(body, at, cancelled=cancelled), lines),
        placed_at=R.timestamp(body, "created_at", at),
        currency=R.text(body, "currency", at),
        references=order.references(body, at, shop_id),
        customer=customer(body, at),
        shipping_address=address(body, at),
        lines=tuple(lines),
        shipments=tuple(shipping.shipment(f, loc) for loc, f in R.objects(body, "fulfillments", at)),
        payments=tuple([*payments, summary] if summary else payments),
        totals=order.totals(body, at),
    )


def _fulfillment(topic: str, webhook_id: str | None, body: dict[str, Any], options: DecoderOptions) -> OrderChange:
    at = "payload"
    order_id = R.ident(body, "order_id", at, required=True)
    updated = R.timestamp(body, "updated_at", at) or R.timestamp(body, "created_at", at, required=True)
    lines = shipping.shipped_lines(body, at, options)
    success = shipping.status_of(body, at) == "success"
    return R.build(
        **_common(topic, webhook_id, body, order_id, updated),
        kind=ChangeKind.FULFILLMENT,
        status=OrderStatus.PARTIALLY_SHIPPED if success else None,
        references=tuple(tracking_refs(body, at)),
        shipments=(shipping.shipment(body, at),),
        lines=tuple(lines),
    )


def _refund(topic: str, webhook_id: str | None, body: dict[str, Any], options: DecoderOptions) -> OrderChange:
    at = "payload"
    order_id = R.ident(body, "order_id", at, required=True)
    created = R.timestamp(body, "created_at", at, required=True)
    lines = refund.refund_lines(body, at)
    payments = refund.refund_payments(body, at)
    returned = any(line.status is LineStatus.RETURNED for line in lines)
    cancelled = any(line.status is LineStatus.CANCELLED for line in lines)
    return R.build(
        **_common(topic, webhook_id, body, order_id, created),
        kind=ChangeKind.RETURN if returned else ChangeKind.LINES_CHANGED if cancelled else ChangeKind.PAYMENT,
        status=OrderStatus.PARTIALLY_RETURNED if returned else None,
        lines=tuple(lines),
        payments=tuple(payments),
        returns=(refund.return_link(body, at, lines, payments),),
    )


def _transaction(topic: str, webhook_id: str | None, body: dict[str, Any], options: DecoderOptions) -> OrderChange:
    at = "payload"
    order_id = R.ident(body, "order_id", at, required=True)
    moment = R.timestamp(body, "processed_at", at) or R.timestamp(body, "created_at", at, required=True)
    payment = transaction(body, at)
    if payment is None:
        raise IgnoredPayload(SOURCE, "no_money_moved", "transaction is not a successful charge or refund")
    return R.build(
        **_common(topic, webhook_id, body, order_id, moment),
        kind=ChangeKind.PAYMENT,
        currency=R.text(body, "currency", at),
        payments=(payment,),
    )


_HANDLERS: dict[str, Handler] = {
    **{topic: _order for topic in _ORDER_KIND},
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    "refunds/create": _refund,
    "order_transactions/create": _transaction,
}
