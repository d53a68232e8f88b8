"""Web storefront adapter: Shopify Admin REST webhooks -> canonical `OrderChange`. Pure decoder.

Kafka message (web channel topic). Shopify delivers the topic and the delivery id
in HTTP headers (``X-Shopify-Topic``, ``X-Shopify-Webhook-Id``), so the webhook
receiver wraps the untouched body in an envelope::

    {"topic": "orders/create", "webhook_id": "<X-Shopify-Webhook-Id>", "payload": {...webhook body...}}

Topics: orders/create, orders/updated, orders/cancelled (body = Order),
fulfillments/create, fulfillments/update (body = Fulfillment), refunds/create
(body = Refund). Any other topic is rejected with reason ``unknown_topic``.

Ids and ordering:
- order id = ``web-{order id}`` (``order_id`` for fulfillment and refund bodies);
- occurred_at = ``updated_at`` (refunds: ``created_at``), converted to UTC;
  source_version = its epoch milliseconds;
- event_id = ``shopify:{webhook_id}`` (Shopify reuses it on retries), else
  ``shopify:`` + sha256(topic, id, updated_at, key-sorted body), so a replay
  of the same body always gets the same id and different bodies never share one.

Status mapping (the highest-ranked candidate wins, as in the merge):

    cancelled_at set / orders/cancelled    -> cancelled
    financial_status pending, expired      -> pending
    authorized, partially_paid, paid       -> confirmed
    partially_refunded                     -> partially_returned
    refunded                               -> returned
    voided                                 -> cancelled
    fulfillment_status partial             -> partially_shipped
    fulfilled                              -> shipped
    restocked                              -> returned
    fulfillment webhook, status success    -> partially_shipped (lower bound; orders/updated raises it)
    refund with a restock_type "return"    -> partially_returned

Line status: fulfilled -> shipped (picked_up on pickup orders); cancelled order -> cancelled;
otherwise open. A refund line with restock_type return -> returned, cancel -> cancelled.
Fulfillment type: an order whose shipping line code/title/source says "pickup" is
buy-online-pickup-in-store (store = order ``location_id``); other lines that
require shipping are ship-to-home.

References: ``name`` ("#1001") and ``order_number`` -> web_order_number, ``id`` ->
source_order_id, tracking numbers -> tracking_number. Shopify customer ids are
namespaced (``shopify-{id}``) so they never collide with another system's ids.
Payments keep the card brand and the last four digits only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ingest.decoders.reader import Reader, canonical_json, digest, join, version_of
from order_domain.model import (
    STATUS_RANK,
    Address,
    ChangeKind,
    Channel,
    CustomerIdentity,
    FulfillmentType,
    LineStatus,
    OrderChange,
    OrderLine,
    OrderReference,
    OrderStatus,
    Payment,
    ReferenceKind,
    ReturnLink,
    Shipment,
    Totals,
)

SOURCE = "shopify"
_R = Reader(SOURCE)
_FINANCIAL = {
    "pending": OrderStatus.PENDING,
    "expired": OrderStatus.PENDING,
    "authorized": OrderStatus.CONFIRMED,
    "partially_paid": OrderStatus.CONFIRMED,
    "paid": OrderStatus.CONFIRMED,
    "partially_refunded": OrderStatus.PARTIALLY_RETURNED,
    "refunded": OrderStatus.RETURNED,
    "voided": OrderStatus.CANCELLED,
}
_FULFILLMENT = {
    "unfulfilled": None,
    "partial": OrderStatus.PARTIALLY_SHIPPED,
    "fulfilled": OrderStatus.SHIPPED,
    "restocked": OrderStatus.RETURNED,
}
_LINE_FULFILLMENT = {"fulfilled", "partial", "not_eligible", "unfulfilled"}
_ORDER_KIND = {
    "orders/create": ChangeKind.CREATED,
    "orders/updated": ChangeKind.UPDATED,
    "orders/cancelled": ChangeKind.CANCELLED,
}
_PICKUP = re.compile(r"pick[\s_-]?up", re.IGNORECASE)
_AMOUNT_KIND = {"authorization": "authorized", "capture": "captured", "sale": "captured", "refund": "refunded"}


def decode(payload: bytes) -> list[OrderChange]:
    """Decode one enveloped Shopify webhook into the canonical change it describes."""
    envelope = _R.mapping(_R.load_json(payload), "")
    topic = _R.text(envelope, "topic", "", required=True)
    handler = _HANDLERS.get(topic or "")
    if handler is None:
        _R.fail("unknown_topic", "topic", f"unsupported Shopify webhook topic {topic!r}")
    webhook_id = _R.ident(envelope, "webhook_id", "")
    body = _R.mapping(_R.field(envelope, "payload", "", required=True), "payload")
    with _R.guard():
        return [handler(topic, webhook_id, body)]


def _event_id(topic: str, webhook_id: str | None, body: dict[str, Any], stamp: object) -> str:
    """Shopify's delivery id when we have it; otherwise a hash of the body itself."""
    if webhook_id:
        return f"shopify:{webhook_id}"
    return "shopify:" + digest(topic, body.get("id"), stamp, canonical_json(body))


def _order(topic: str, webhook_id: str | None, body: dict[str, Any]) -> OrderChange:
    at = "payload"
    shop_id = _R.ident(body, "id", at, required=True)
    updated = _R.timestamp(body, "updated_at", at, required=True)
    cancelled = topic == "orders/cancelled" or _R.timestamp(body, "cancelled_at", at) is not None
    pickup = _is_pickup(body)
    return _R.build(
        event_id=_event_id(topic, webhook_id, body, updated),
        order_id=f"web-{shop_id}",
        channel=Channel.WEB,
        source=SOURCE,
        kind=_ORDER_KIND[topic],
        occurred_at=updated,
        source_version=version_of(updated),
        status=_order_status(body, cancelled=cancelled),
        placed_at=_R.timestamp(body, "created_at", at),
        currency=_R.text(body, "currency", at),
        references=_order_refs(body, shop_id),
        customer=_customer(body),
        shipping_address=_address(body),
        lines=tuple(_lines(body, pickup=pickup, cancelled=cancelled)),
        shipments=tuple(_shipment(f, loc) for loc, f in _R.objects(body, "fulfillments", at)),
        payments=tuple(_payments(body, "payload")),
        totals=_totals(body),
    )


def _order_status(body: dict[str, Any], *, cancelled: bool) -> OrderStatus | None:
    """Map financial + fulfillment status; the highest lifecycle rank wins (cancel beats all)."""
    financial = _R.text(body, "financial_status", "payload")
    fulfillment = _R.text(body, "fulfillment_status", "payload")
    if financial is not None and financial not in _FINANCIAL:
        _R.fail("invalid_value", "payload.financial_status", f"unknown financial_status {financial!r}")
    if fulfillment is not None and fulfillment not in _FULFILLMENT:
        _R.fail("invalid_value", "payload.fulfillment_status", f"unknown fulfillment_status {fulfillment!r}")
    candidates = [_FINANCIAL.get(financial or ""), _FULFILLMENT.get(fulfillment or "")]
    candidates.append(OrderStatus.CANCELLED if cancelled else None)
    present = [status for status in candidates if status is not None]
    return max(present, key=STATUS_RANK.__getitem__) if present else None


def _is_pickup(body: dict[str, Any]) -> bool:
    """Shopify marks local pickup on the shipping line (code/title/source), not on items."""
    for loc, line in _R.objects(body, "shipping_lines", "payload"):
        words = " ".join(_R.text(line, key, loc) or "" for key in ("code", "title", "source"))
        if _PICKUP.search(words):
            return True
    return False


def _order_refs(body: dict[str, Any], shop_id: str) -> tuple[OrderReference, ...]:
    refs = [OrderReference(kind=ReferenceKind.SOURCE_ORDER_ID, value=shop_id)]
    for key in ("name", "order_number"):
        value = _R.ident(body, key, "payload")
        if value:
            refs.append(OrderReference(kind=ReferenceKind.WEB_ORDER_NUMBER, value=value))
    for loc, fulfillment in _R.objects(body, "fulfillments", "payload"):
        refs.extend(_tracking_refs(fulfillment, loc))
    return tuple(refs)


def _tracking_numbers(fulfillment: dict[str, Any], at: str) -> list[str]:
    numbers = [_R.text(fulfillment, "tracking_number", at)]
    many = _R.field(fulfillment, "tracking_numbers", at) or []
    if not isinstance(many, list) or not all(isinstance(n, str) for n in many):
        _R.fail("invalid_type", join(at, "tracking_numbers"), "expected a list of strings")
    numbers.extend(n.strip() for n in many)
    return sorted({n for n in numbers if n})


def _tracking_refs(fulfillment: dict[str, Any], at: str) -> list[OrderReference]:
    return [OrderReference(kind=ReferenceKind.TRACKING_NUMBER, value=n) for n in _tracking_numbers(fulfillment, at)]


def _customer(body: dict[str, Any]) -> CustomerIdentity | None:
    customer = _R.mapping(_R.field(body, "customer", "payload") or {}, "payload.customer")
    at = "payload.customer"
    names = [_R.text(customer, "first_name", at), _R.text(customer, "last_name", at)]
    customer_id = _R.ident(customer, "id", at)
    identity = CustomerIdentity(
        customer_id=f"shopify-{customer_id}" if customer_id else None,
        email=_R.text(body, "email", "payload") or _R.text(customer, "email", at),
        phone=_R.text(body, "phone", "payload") or _R.text(customer, "phone", at),
        name=" ".join(n for n in names if n) or None,
    )
    return identity if identity.model_dump(exclude_none=True) else None


def _address(body: dict[str, Any]) -> Address | None:
    raw = _R.field(body, "shipping_address", "payload")
    if raw is None:
        return None
    at = "payload.shipping_address"
    address = _R.mapping(raw, at)
    return Address(
        name=_R.text(address, "name", at),
        line1=_R.text(address, "address1", at),
        line2=_R.text(address, "address2", at),
        city=_R.text(address, "city", at),
        region=_R.text(address, "province_code", at) or _R.text(address, "province", at),
        postal_code=_R.text(address, "zip", at),
        country=_R.text(address, "country_code", at) or _R.text(address, "country", at),
    )


def _lines(body: dict[str, Any], *, pickup: bool, cancelled: bool) -> list[OrderLine]:
    store = _R.ident(body, "location_id", "payload") if pickup else None
    lines: dict[str, OrderLine] = {}
    for loc, item in _R.objects(body, "line_items", "payload"):
        line_id = _R.ident(item, "id", loc, required=True)
        if line_id in lines:
            _R.fail("invalid_value", join(loc, "id"), f"duplicate line item id {line_id}")
        ships = item.get("requires_shipping", True) is not False
        kind = (FulfillmentType.BOPIS if pickup else FulfillmentType.SHIP_TO_HOME) if ships else None
        lines[line_id] = OrderLine(
            line_id=line_id,
            sku=_R.text(item, "sku", loc),
            name=_R.text(item, "title", loc),
            quantity=_R.integer(item, "quantity", loc, required=True),
            unit_price=_R.money(item, "price", loc),
            status=_line_status(item, loc, pickup=pickup, cancelled=cancelled),
            fulfillment_type=kind,
            store_id=store if kind is FulfillmentType.BOPIS else None,
        )
    return list(lines.values())


def _line_status(item: dict[str, Any], at: str, *, pickup: bool, cancelled: bool) -> LineStatus:
    state = _R.text(item, "fulfillment_status", at)
    if state is not None and state not in _LINE_FULFILLMENT:
        _R.fail("invalid_value", join(at, "fulfillment_status"), f"unknown line fulfillment_status {state!r}")
    if cancelled:
        return LineStatus.CANCELLED
    if state == "fulfilled":
        return LineStatus.PICKED_UP if pickup else LineStatus.SHIPPED
    return LineStatus.OPEN


def _shipment(fulfillment: dict[str, Any], at: str) -> Shipment:
    shipment_status = _R.text(fulfillment, "shipment_status", at)
    numbers = _tracking_numbers(fulfillment, at)
    updated = _R.timestamp(fulfillment, "updated_at", at)
    return Shipment(
        shipment_id=_R.ident(fulfillment, "id", at, required=True),
        carrier=_R.text(fulfillment, "tracking_company", at),
        tracking_number=numbers[0] if numbers else None,
        status=shipment_status or _R.text(fulfillment, "status", at),
        origin=_R.ident(fulfillment, "location_id", at),
        line_ids=tuple(
            _R.ident(item, "id", loc, required=True) for loc, item in _R.objects(fulfillment, "line_items", at)
        ),
        shipped_at=_R.timestamp(fulfillment, "created_at", at),
        delivered_at=updated if shipment_status == "delivered" else None,
    )


def _payments(body: dict[str, Any], at: str) -> list[Payment]:
    """Successful transactions only; the card number is reduced to its last four digits."""
    payments = []
    for loc, tx in _R.objects(body, "transactions", at):
        kind = _R.text(tx, "kind", loc)
        if _R.text(tx, "status", loc) not in (None, "success") or kind not in _AMOUNT_KIND:
            continue
        details = _R.mapping(_R.field(tx, "payment_details", loc) or {}, join(loc, "payment_details"))
        digits = re.sub(r"\D", "", _R.text(details, "credit_card_number", join(loc, "payment_details")) or "")
        amount = {_AMOUNT_KIND[kind]: _R.money(tx, "amount", loc, required=True)}
        payments.append(Payment(
            payment_id=_R.ident(tx, "id", loc, required=True),
            method=_R.text(tx, "gateway", loc),
            brand=_R.text(details, "credit_card_company", join(loc, "payment_details")),
            last4=digits[-4:] if len(digits) >= 4 else None,
            **amount,
        ))
    return payments


def _totals(body: dict[str, Any]) -> Totals:
    return Totals(
        subtotal=_R.money(body, "subtotal_price", "payload"),
        tax=_R.money(body, "total_tax", "payload"),
        discount=_R.money(body, "total_discounts", "payload"),
        total=_R.money(body, "total_price", "payload"),
    )


def _fulfillment(topic: str, webhook_id: str | None, body: dict[str, Any]) -> OrderChange:
    at = "payload"
    order_id = _R.ident(body, "order_id", at, required=True)
    updated = _R.timestamp(body, "updated_at", at) or _R.timestamp(body, "created_at", at, required=True)
    shipment = _shipment(body, at)
    success = _R.text(body, "status", at) == "success"
    line_status = LineStatus.DELIVERED if shipment.delivered_at else LineStatus.SHIPPED
    return _R.build(
        event_id=_event_id(topic, webhook_id, body, updated),
        order_id=f"web-{order_id}",
        channel=Channel.WEB,
        source=SOURCE,
        kind=ChangeKind.FULFILLMENT,
        occurred_at=updated,
        source_version=version_of(updated),
        status=OrderStatus.PARTIALLY_SHIPPED if success else None,
        references=tuple(_tracking_refs(body, at)),
        shipments=(shipment,),
        lines=tuple(OrderLine(line_id=i, status=line_status) for i in shipment.line_ids or ()) if success else (),
    )


def _refund(topic: str, webhook_id: str | None, body: dict[str, Any]) -> OrderChange:
    at = "payload"
    order_id = _R.ident(body, "order_id", at, required=True)
    created = _R.timestamp(body, "created_at", at, required=True)
    lines = _refund_lines(body)
    payments = _payments(body, at)
    refunded = sum((p.refunded or Decimal(0) for p in payments), Decimal(0)) if payments else None
    returned = any(line.status is LineStatus.RETURNED for line in lines)
    return _R.build(
        event_id=_event_id(topic, webhook_id, body, created),
        order_id=f"web-{order_id}",
        channel=Channel.WEB,
        source=SOURCE,
        kind=ChangeKind.RETURN,
        occurred_at=created,
        source_version=version_of(created),
        status=OrderStatus.PARTIALLY_RETURNED if returned else None,
        lines=tuple(lines),
        payments=tuple(payments),
        returns=(ReturnLink(
            return_id=f"refund-{_R.ident(body, 'id', at, required=True)}",
            channel=Channel.WEB,
            status="refunded",
            line_ids=tuple(sorted({line.line_id for line in lines})),
            refund_amount=refunded,
        ),),
    )


def _refund_lines(body: dict[str, Any]) -> list[OrderLine]:
    """Refunded lines: restock_type "return" means goods came back, "cancel" means never shipped."""
    lines: dict[str, OrderLine] = {}
    for loc, item in _R.objects(body, "refund_line_items", "payload"):
        line_id = _R.ident(item, "line_item_id", loc, required=True)
        _R.integer(item, "quantity", loc)
        _R.money(item, "subtotal", loc)
        restock = _R.text(item, "restock_type", loc)
        status = {"return": LineStatus.RETURNED, "cancel": LineStatus.CANCELLED}.get(restock or "")
        if status is not None or line_id not in lines:
            lines[line_id] = OrderLine(line_id=line_id, status=status)
    return list(lines.values())


_HANDLERS: dict[str, Callable[[str, str | None, dict[str, Any]], OrderChange]] = {
    **{topic: _order for topic in _ORDER_KIND},
    "fulfillments/create": _fulfillment,
    "fulfillments/update": _fulfillment,
    "refunds/create": _refund,
}
