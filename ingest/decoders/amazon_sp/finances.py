"""Refunds from the SP-API Finances v0 API (listFinancialEventsByOrderId) -> canonical changes. Pure.

Chosen source for marketplace refunds: the financial events of an order. Each
entry of ``FinancialEvents.RefundEventList`` (a ShipmentEvent: AmazonOrderId,
SellerOrderId, PostedDate, ShipmentItemAdjustmentList) becomes one change:

- occurred_at = PostedDate (required: a refund without its date is rejected);
- a Payment ``amz-refund-{hash}`` with refunded = minus the sum of the item
  charge adjustments (Principal, Tax, Shipping...: negative for a refund);
- a ReturnLink with status "refunded" naming the refunded OrderItemIds.

Line and order status are left alone: a refund is money, not proof that goods
came back (that would come from the returns data), and Amazon only charges at
shipment, so there is no "refund before shipment" to turn into a cancellation.
Other event lists are not order changes; a response with no refund event is
ignored (``no_refund_events``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ingest.decoders.amazon_sp.common import SOURCE, R, amount, identity, order_refs
from ingest.decoders.reader import (
    IgnoredPayload,
    canonical_json,
    digest,
    join,
    version_of,
)
from order_domain.model import ChangeKind, Channel, OrderChange, Payment, ReturnLink


def refunds(body: dict[str, Any], at: str) -> list[OrderChange]:
    events = R.mapping(R.field(body, "FinancialEvents", at, required=True), join(at, "FinancialEvents"))
    found = R.objects(events, "RefundEventList", join(at, "FinancialEvents"))
    if not found:
        raise IgnoredPayload(SOURCE, "no_refund_events", "the financial events carry no refund")
    return [_refund(event, loc) for loc, event in found]


def _refund(event: dict[str, Any], at: str) -> OrderChange:
    amazon_id = R.ident(event, "AmazonOrderId", at, required=True) or ""
    posted = R.timestamp(event, "PostedDate", at, required=True)
    item_ids: list[str] = []
    total = Decimal(0)
    currencies: set[str] = set()
    for loc, item in R.objects(event, "ShipmentItemAdjustmentList", at):
        item_id = R.ident(item, "OrderItemId", loc)
        if item_id:
            item_ids.append(item_id)
        for charge_loc, charge in R.objects(item, "ItemChargeAdjustmentList", loc):
            currency, value = amount(charge, "ChargeAmount", charge_loc, value_key="CurrencyAmount")
            total += value or Decimal(0)
            currencies.update([currency] if currency else [])
    if len(currencies) > 1:
        R.fail("invalid_value", join(at, "ShipmentItemAdjustmentList"), f"mixed currencies {sorted(currencies)}")
    key = digest(canonical_json(event))
    refunded = -total if total < 0 else total
    return R.build(
        **identity(amazon_id, f"amz:refund:{key}", posted, version_of(posted)),  # type: ignore[arg-type]  # required
        kind=ChangeKind.PAYMENT,
        currency=next(iter(currencies), None),
        references=tuple(order_refs(event, at, amazon_id)),
        payments=(Payment(payment_id=f"amz-refund-{key[:16]}", method="Amazon", refunded=refunded),),
        returns=(ReturnLink(return_id=f"amz-refund-{key[:16]}", channel=Channel.MARKETPLACE, status="refunded",
                            line_ids=tuple(sorted(set(item_ids))) or None, refund_amount=refunded),),
    )
