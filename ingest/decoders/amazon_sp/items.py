"""SP-API Orders v0 getOrderItems (``OrderItemsList``) -> canonical line change. Pure.

The response carries no timestamp. It is dated by the poller's ``retrieved_at``
(when the items were observed in that state); without it the message is
rejected (``missing_field``), never dated 1970 or "now".

Lines: line_id = OrderItemId, sku = SellerSKU (else ASIN), unit_price =
ItemPrice.Amount / QuantityOrdered (ItemPrice is the line total); status shipped
when QuantityShipped >= QuantityOrdered > 0, cancelled when QuantityOrdered is 0,
else open. AFN and MFN both deliver to the buyer: ship_to_home; an item with a
StoreChainStoreId is fulfilled by that store: ship_from_store. When the page is
complete (no NextToken) the order status follows the lines (`status.consistent`),
and a line shipped in part makes the order at least partially_shipped.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ingest.decoders import status as order_status
from ingest.decoders.amazon_sp.common import R, amount, identity
from ingest.decoders.reader import canonical_json, digest, join
from order_domain.model import (
    ChangeKind,
    FulfillmentType,
    LineStatus,
    OrderChange,
    OrderLine,
    OrderReference,
    OrderStatus,
    ReferenceKind,
)

_CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")


def items(body: dict[str, Any], at: str, *, retrieved_at: datetime | None) -> OrderChange:
    amazon_id = R.ident(body, "AmazonOrderId", at, required=True) or ""
    R.field(body, "OrderItems", at, required=True)
    parsed = [_item(item, loc) for loc, item in R.objects(body, "OrderItems", at)]
    ids = [line.line_id for line, _, _ in parsed]
    if len(set(ids)) != len(ids):
        R.fail("invalid_value", join(at, "OrderItems"), "duplicate OrderItemId")
    currencies = sorted({currency for _, currency, _ in parsed if currency})
    if len(currencies) > 1:
        R.fail("invalid_value", join(at, "OrderItems"), f"mixed currencies {currencies}")
    if retrieved_at is None:
        R.fail("missing_field", "retrieved_at", "getOrderItems has no date of its own: the envelope needs retrieved_at")
    lines = [line for line, _, _ in parsed]
    event_id = f"amz:getOrderItems:{digest(canonical_json(body))}"
    return R.build(
        **identity(amazon_id, event_id, retrieved_at, sum(shipped for _, _, shipped in parsed)),
        kind=ChangeKind.LINES_CHANGED,
        status=_status(body, at, parsed),
        currency=currencies[0] if currencies else None,
        references=(OrderReference(kind=ReferenceKind.MARKETPLACE_ORDER_ID, value=amazon_id),),
        lines=tuple(lines),
    )


def _status(body: dict[str, Any], at: str, parsed: list[tuple[OrderLine, str | None, int]]) -> OrderStatus | None:
    """Only a complete item list may speak for the order."""
    if R.text(body, "NextToken", at):
        return None
    partial = any(0 < shipped < (line.quantity or 0) for line, _, shipped in parsed)
    return order_status.highest(
        order_status.from_lines(line for line, _, _ in parsed),
        OrderStatus.PARTIALLY_SHIPPED if partial else None,
    )


def _item(item: dict[str, Any], at: str) -> tuple[OrderLine, str | None, int]:
    """One OrderItem -> (line patch, currency, quantity shipped)."""
    ordered = R.integer(item, "QuantityOrdered", at, required=True) or 0
    shipped = R.integer(item, "QuantityShipped", at) or 0
    currency, line_total = amount(item, "ItemPrice", at)
    if ordered == 0:
        status = LineStatus.CANCELLED
    else:
        status = LineStatus.SHIPPED if shipped >= ordered else LineStatus.OPEN
    store = R.ident(item, "StoreChainStoreId", at)
    line = OrderLine(
        line_id=R.ident(item, "OrderItemId", at, required=True) or "",
        sku=R.text(item, "SellerSKU", at) or R.text(item, "ASIN", at),
        name=R.text(item, "Title", at),
        quantity=ordered,
        unit_price=_unit_price(line_total, ordered),
        status=status,
        fulfillment_type=FulfillmentType.SHIP_FROM_STORE if store else FulfillmentType.SHIP_TO_HOME,
        store_id=store,
    )
    return line, currency, shipped


def _unit_price(line_total: Decimal | None, ordered: int) -> Decimal | None:
    """ItemPrice is quantity x unit price; divide back, to cents when exact, else to 4 places."""
    if line_total is None or not ordered:
        return None
    unit = line_total / ordered
    cents = unit.quantize(_CENT)
    return cents if cents == unit else unit.quantize(_TEN_THOUSANDTH)
