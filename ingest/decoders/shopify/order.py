"""Shopify Order (orders/create, orders/updated, orders/cancelled) -> canonical change. Pure.

Order status (every documented value), then raised to what the lines prove
(`status.consistent`), the highest lifecycle rank winning as in the merge:

    cancelled_at set / orders/cancelled            -> cancelled
    financial_status pending, expired              -> pending
    authorized, partially_paid, paid               -> confirmed
    partially_refunded, refunded                   -> confirmed (money only; lines say what came back)
    voided                                         -> cancelled
    fulfillment_status null/unfulfilled            -> (nothing)
    partial                                        -> partially_shipped
    fulfilled                                      -> shipped
    restocked (every line restocked, order cancelled) -> cancelled

cancel_reason must be one of customer, fraud, inventory, declined, staff, other.

Lines: ``fulfillment_status`` fulfilled -> shipped (picked_up on a pickup order;
delivered when its successful fulfillment's shipment_status is delivered);
partial, not_eligible, null -> open; on a cancelled order every unfulfilled line
is cancelled. The order's embedded ``refunds`` then apply (see `refund`).
Fulfillment type: a shipping line whose code/title/source says "pickup" makes
the lines buy-online-pickup-in-store at the order's ``location_id``; a line in a
fulfillment from a configured store location is ship-from-store; other lines
that require shipping are ship-to-home.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.decoders import status as order_status
from ingest.decoders.options import DecoderOptions
from ingest.decoders.reader import join
from ingest.decoders.shopify import refund as refunds
from ingest.decoders.shopify import shipping
from ingest.decoders.shopify.parts import R, card, tracking_refs
from order_domain.model import (
    FulfillmentType,
    LineStatus,
    OrderLine,
    OrderReference,
    OrderStatus,
    Payment,
    ReferenceKind,
    Totals,
)

FINANCIAL = {
    "pending": OrderStatus.PENDING,
    "expired": OrderStatus.PENDING,
    "authorized": OrderStatus.CONFIRMED,
    "partially_paid": OrderStatus.CONFIRMED,
    "paid": OrderStatus.CONFIRMED,
    "partially_refunded": OrderStatus.CONFIRMED,
    "refunded": OrderStatus.CONFIRMED,
    "voided": OrderStatus.CANCELLED,
}
FULFILLMENT = {
    "unfulfilled": None,
    "partial": OrderStatus.PARTIALLY_SHIPPED,
    "fulfilled": OrderStatus.SHIPPED,
    "restocked": OrderStatus.CANCELLED,
}
CANCEL_REASONS = frozenset({"customer", "fraud", "inventory", "declined", "staff", "other"})
_LINE_FULFILLMENT = frozenset({"fulfilled", "partial", "not_eligible", "unfulfilled", "restocked"})
_PICKUP = re.compile(r"pick[\s_-]?up", re.IGNORECASE)


def native_status(body: dict[str, Any], at: str, *, cancelled: bool) -> OrderStatus | None:
    financial = R.text(body, "financial_status", at)
    fulfillment = R.text(body, "fulfillment_status", at)
    reason = R.text(body, "cancel_reason", at)
    if financial is not None and financial not in FINANCIAL:
        R.fail("invalid_value", join(at, "financial_status"), f"unknown financial_status {financial!r}")
    if fulfillment is not None and fulfillment not in FULFILLMENT:
        R.fail("invalid_value", join(at, "fulfillment_status"), f"unknown fulfillment_status {fulfillment!r}")
    if reason is not None and reason not in CANCEL_REASONS:
        R.fail("invalid_value", join(at, "cancel_reason"), f"unknown cancel_reason {reason!r}")
    return order_status.highest(
        FINANCIAL.get(financial or ""), FULFILLMENT.get(fulfillment or ""),
        OrderStatus.CANCELLED if cancelled else None,
    )


def is_pickup(body: dict[str, Any], at: str) -> bool:
    """Shopify marks local pickup on the shipping line (code/title/source), not on items."""
    for loc, line in R.objects(body, "shipping_lines", at):
        words = " ".join(R.text(line, key, loc) or "" for key in ("code", "title", "source"))
        if _PICKUP.search(words):
            return True
    return False


def lines(body: dict[str, Any], at: str, *, cancelled: bool, options: DecoderOptions) -> list[OrderLine]:
    pickup = is_pickup(body, at)
    store = R.ident(body, "location_id", at) if pickup else None
    sent = _sent_lines(body, at, options)
    found: dict[str, OrderLine] = {}
    for loc, item in R.objects(body, "line_items", at):
        line_id = R.ident(item, "id", loc, required=True) or ""
        if line_id in found:
            R.fail("invalid_value", join(loc, "id"), f"duplicate line item id {line_id}")
        ships = item.get("requires_shipping", True) is not False
        kind = (FulfillmentType.BOPIS if pickup else FulfillmentType.SHIP_TO_HOME) if ships else None
        shipped, sent_from = sent.get(line_id, (None, None))
        found[line_id] = OrderLine(
            line_id=line_id,
            sku=R.text(item, "sku", loc),
            name=R.text(item, "title", loc) or R.text(item, "name", loc),
            quantity=R.integer(item, "quantity", loc, required=True),
            unit_price=R.money(item, "price", loc),
            status=_line_status(item, loc, pickup=pickup, cancelled=cancelled, sent=shipped),
            fulfillment_type=sent_from or kind,
            store_id=store if kind is FulfillmentType.BOPIS else None,
        )
    return _apply_refunds(body, at, found)


def _sent_lines(body: dict[str, Any], at: str, options: DecoderOptions) -> shipping.Progress:
    """What the order's own successful fulfillments prove per line (delivered, ship-from-store)."""
    sent: shipping.Progress = {}
    for loc, fulfillment in R.objects(body, "fulfillments", at):
        for line_id, (status, kind) in shipping.progress(fulfillment, loc, options).items():
            held = sent.get(line_id)
            if held is None or (status is LineStatus.DELIVERED and held[0] is not LineStatus.DELIVERED):
                sent[line_id] = (status, kind)
    return sent


def _line_status(
    item: dict[str, Any], at: str, *, pickup: bool, cancelled: bool, sent: LineStatus | None
) -> LineStatus:
    state = R.text(item, "fulfillment_status", at)
    if state is not None and state not in _LINE_FULFILLMENT:
        R.fail("invalid_value", join(at, "fulfillment_status"), f"unknown line fulfillment_status {state!r}")
    if state == "fulfilled":
        if pickup:
            return LineStatus.PICKED_UP
        return LineStatus.DELIVERED if sent is LineStatus.DELIVERED else LineStatus.SHIPPED
    return LineStatus.CANCELLED if cancelled or state == "restocked" else LineStatus.OPEN


def _apply_refunds(body: dict[str, Any], at: str, found: dict[str, OrderLine]) -> list[OrderLine]:
    for loc, refund in R.objects(body, "refunds", at):
        for patch in refunds.refund_lines(refund, loc):
            held = found.get(patch.line_id)
            if held is not None and patch.status is not None:
                found[patch.line_id] = held.model_copy(update={"status": patch.status})
    return list(found.values())


def references(body: dict[str, Any], at: str, shop_id: str) -> tuple[OrderReference, ...]:
    refs = [OrderReference(kind=ReferenceKind.SOURCE_ORDER_ID, value=shop_id)]
    for key in ("name", "order_number", "confirmation_number"):
        value = R.ident(body, key, at)
        if value:
            refs.append(OrderReference(kind=ReferenceKind.WEB_ORDER_NUMBER, value=value))
    for loc, fulfillment in R.objects(body, "fulfillments", at):
        refs.extend(tracking_refs(fulfillment, loc))
    return tuple(refs)


def summary_payment(body: dict[str, Any], at: str, shop_id: str) -> Payment | None:
    """The order's own payment summary (gateway, card, amount) when no transactions came with it."""
    details_at = join(at, "payment_details")
    brand, last4 = card(R.mapping(R.field(body, "payment_details", at) or {}, details_at), details_at)
    names = R.field(body, "payment_gateway_names", at) or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        R.fail("invalid_type", join(at, "payment_gateway_names"), "expected a list of strings")
    method = R.text(body, "gateway", at) or (names[0] if names else None)
    if method is None and brand is None:
        return None
    financial = R.text(body, "financial_status", at)
    total = R.money(body, "total_price", at)
    amounts = {"authorized": total} if financial == "authorized" else \
        {"captured": total} if financial in ("paid", "partially_refunded", "refunded") else {}
    return Payment(payment_id=f"order-{shop_id}", method=method, brand=brand, last4=last4, **amounts)


def totals(body: dict[str, Any], at: str) -> Totals:
    shipping_total = None
    shipping_set = R.mapping(R.field(body, "total_shipping_price_set", at) or {}, join(at, "total_shipping_price_set"))
    money_at = join(at, "total_shipping_price_set.shop_money")
    shop_money = R.mapping(R.field(shipping_set, "shop_money", money_at) or {}, money_at)
    if shop_money:
        shipping_total = R.money(shop_money, "amount", money_at)
    return Totals(
        subtotal=R.money(body, "subtotal_price", at),
        tax=R.money(body, "total_tax", at),
        shipping=shipping_total,
        discount=R.money(body, "total_discounts", at),
        total=R.money(body, "total_price", at),
    )
