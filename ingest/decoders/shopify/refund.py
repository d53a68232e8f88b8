"""Shopify Refund (refunds/create, and the ``refunds`` embedded in an Order) -> canonical parts. Pure.

A refund is money; whether goods moved depends on the refund line's
``restock_type`` and on whether the line had shipped (``line_item.fulfillment_status``):

    restock_type cancel                            -> line cancelled
    return / legacy_restock, line fulfilled        -> line returned
    return / legacy_restock, line never fulfilled  -> line cancelled (refund before shipment)
    no_restock (or none), line never fulfilled     -> line cancelled (refund before shipment)
    no_restock (or none), line fulfilled / unknown -> refund only: line status unchanged

A status is set only when the refund covers the line's whole quantity (when
the line's quantity is given); a partial refund records the money and the
ReturnLink, not a line state. The refunded amount is the sum of the successful
refund ``transactions``; without transactions, the refund lines' subtotal and
tax less the ``order_adjustments`` (shipping refunds, discrepancies).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ingest.decoders.reader import join
from ingest.decoders.shopify.parts import R, transactions
from order_domain.model import Channel, LineStatus, OrderLine, Payment, ReturnLink

RESTOCK_TYPES = frozenset({"no_restock", "cancel", "return", "legacy_restock"})
_FULFILLED = frozenset({"fulfilled", "partial"})


def refund_lines(refund: dict[str, Any], at: str) -> list[OrderLine]:
    lines: dict[str, OrderLine] = {}
    for loc, item in R.objects(refund, "refund_line_items", at):
        line_id = R.ident(item, "line_item_id", loc, required=True) or ""
        status = _line_status(item, loc)
        if status is not None or line_id not in lines:
            lines[line_id] = OrderLine(line_id=line_id, status=status)
    return list(lines.values())


def _line_status(item: dict[str, Any], at: str) -> LineStatus | None:
    restock = R.text(item, "restock_type", at)
    if restock is None and item.get("restock") is True:  # API versions before restock_type
        restock = "legacy_restock"
    if restock is not None and restock not in RESTOCK_TYPES:
        R.fail("invalid_value", join(at, "restock_type"), f"unknown restock_type {restock!r}")
    quantity = R.integer(item, "quantity", at)
    R.money(item, "subtotal", at)
    R.money(item, "total_tax", at)
    line_item = R.mapping(R.field(item, "line_item", at) or {}, join(at, "line_item"))
    state = R.text(line_item, "fulfillment_status", join(at, "line_item"))
    ordered = R.integer(line_item, "quantity", join(at, "line_item"))
    if ordered is not None and quantity is not None and quantity < ordered:
        return None  # part of the line: money and ReturnLink only
    shipped = state in _FULFILLED if line_item else None
    if restock == "cancel" or shipped is False:
        return LineStatus.CANCELLED
    if restock in ("return", "legacy_restock"):
        return LineStatus.RETURNED
    return None


def refund_payments(refund: dict[str, Any], at: str) -> list[Payment]:
    return [p for p in transactions(refund, at) if p.refunded is not None]


def refunded_amount(refund: dict[str, Any], at: str, payments: list[Payment]) -> Decimal | None:
    if payments:
        return sum((p.refunded or Decimal(0) for p in payments), Decimal(0))
    total = Decimal(0)
    seen = False
    for loc, item in R.objects(refund, "refund_line_items", at):
        for key in ("subtotal", "total_tax"):
            value = R.money(item, key, loc)
            total, seen = (total + value, True) if value is not None else (total, seen)
    for loc, adjustment in R.objects(refund, "order_adjustments", at):
        for key in ("amount", "tax_amount"):
            value = R.money(adjustment, key, loc)
            total, seen = (total - value, True) if value is not None else (total, seen)
    return abs(total) if seen else None


def return_link(refund: dict[str, Any], at: str, lines: list[OrderLine], payments: list[Payment]) -> ReturnLink:
    states = {line.status for line in lines}
    status = "returned" if LineStatus.RETURNED in states else "cancelled" if states == {LineStatus.CANCELLED} else \
        "refunded"
    return ReturnLink(
        return_id=f"refund-{R.ident(refund, 'id', at, required=True)}",
        channel=Channel.WEB,
        status=status,
        line_ids=tuple(sorted({line.line_id for line in lines})),
        refund_amount=refunded_amount(refund, at, payments),
    )
