"""POSLog transaction header and line items -> receipt identity and canonical lines. Pure.

Header: the store is ``RetailStoreID`` (POSLog 2.x-5.x) or ``BusinessUnit/UnitID``
(6.0; the unit typed RetailStore when several are given). Timestamps with an
offset are read as written; without one, in the store's configured time zone
(`DecoderOptions.store_tz`), else rejected. ``BusinessDayDate`` is optional: it
defaults to the calendar date written in BeginDateTime (else EndDateTime).

Lines: ``<Sale>`` with a positive quantity is a carry-out sale (picked_up);
``<Sale>`` with a negative quantity, and any ``<Return>``, is a returned line
(quantity and amount kept as positive numbers); a line flagged void
(``VoidFlag`` attribute or child, on the LineItem or its Sale/Return) is
cancelled. A sale line with a ``<Delivery>`` is sent from the store to the
customer: ship_from_store, open until shipped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from lxml import etree

from ingest.decoders.options import DecoderOptions
from ingest.decoders.poslog.xml import (
    Element,
    R,
    child,
    children,
    flag,
    located,
    moment,
    money,
    text,
    token,
    where,
)
from ingest.decoders.reader import digest
from order_domain.model import FulfillmentType, LineStatus, OrderLine


@dataclass(frozen=True)
class Receipt:
    """The transaction header every change of this transaction shares."""

    order_id: str
    receipt: str
    store: str
    occurred_at: datetime
    placed_at: datetime
    event_id: str
    local_tz: tzinfo | None


@dataclass(frozen=True)
class Line:
    line: OrderLine
    amount: Decimal | None
    links: tuple[Element, ...]
    delivery: Element | None


def header(transaction: Element, options: DecoderOptions) -> Receipt:
    store = store_id(transaction)
    workstation, sequence = token(transaction, "WorkstationID"), token(transaction, "SequenceNumber")
    zone = options.store_tz(store)
    begin = moment(transaction, "BeginDateTime", local_tz=zone)
    end = moment(transaction, "EndDateTime", local_tz=zone)
    if begin is None and end is None:
        R.fail("missing_field", where(transaction, "EndDateTime"), "EndDateTime or BeginDateTime is required")
    day = business_day(transaction, text(transaction, "BusinessDayDate") or _written_date(transaction))
    order_id = f"pos-{store}-{workstation}-{sequence}-{day}"
    canonical = etree.tostring(transaction, method="c14n")
    return Receipt(
        order_id=order_id,
        receipt=f"{store}-{workstation}-{sequence}",
        store=store,
        occurred_at=end or begin,  # type: ignore[arg-type]  # one of them is set (checked above)
        placed_at=begin or end,  # type: ignore[arg-type]
        event_id=f"poslog:{order_id}:" + digest(canonical.decode("utf-8", "replace")),
        local_tz=zone,
    )


def store_id(transaction: Element) -> str:
    """RetailStoreID, else the BusinessUnit's UnitID (typed RetailStore first)."""
    if child(transaction, "RetailStoreID") is not None:
        return token(transaction, "RetailStoreID")
    units = children(transaction, "BusinessUnit/UnitID")
    stores = [unit for unit in units if (unit.get("TypeCode") or "").lower() == "retailstore"] or units
    if not stores:
        R.fail("missing_field", where(transaction, "RetailStoreID"), "RetailStoreID or BusinessUnit/UnitID is required")
    return token(transaction, "BusinessUnit/UnitID", (stores[0].text or "").strip())


def _written_date(transaction: Element) -> str:
    raw = text(transaction, "BeginDateTime") or text(transaction, "EndDateTime") or ""
    return raw[:10]


def business_day(element: Element, raw: str) -> str:
    """BusinessDayDate (ISO date) as YYYYMMDD for the order id."""
    day = _day_digits(raw)
    if day is None:
        R.fail("invalid_timestamp", where(element, "BusinessDayDate"), f"not a calendar date: {raw[:40]!r}")
    return day


@functools.lru_cache(maxsize=4096)
def _day_digits(raw: str) -> str | None:
    """YYYYMMDD of an ISO date, None if it is not one (a store's receipts share a few days: cached)."""
    try:
        return date.fromisoformat(raw).strftime("%Y%m%d")
    except ValueError:
        return None


def lines(retail: Element, head: Receipt) -> list[Line]:
    shared_links = [
        link for link in children(retail, "TransactionLink") if link.get("ReasonCode") in (None, "Return")
    ]
    found: list[Line] = []
    for position, item in enumerate(children(retail, "LineItem"), start=1):
        detail = child(item, "Sale")
        detail = detail if detail is not None else child(item, "Return")
        if detail is None:
            continue
        has_number = child(item, "SequenceNumber") is not None
        line_id = token(item, "SequenceNumber") if has_number else str(position)
        found.append(_line(item, detail, head, line_id=line_id, shared_links=shared_links))
    if len({entry.line.line_id for entry in found}) != len(found):
        R.fail("invalid_value", where(retail, "LineItem"), "duplicate LineItem SequenceNumber")
    return found


def _line(item: Element, detail: Element, head: Receipt, *, line_id: str, shared_links: list[Element]) -> Line:
    quantity, fractional = _quantity(detail)
    amount = money(detail, "ExtendedAmount")
    unit = money(detail, "ActualSalesUnitPrice") or money(detail, "RegularSalesUnitPrice")
    returned = etree.QName(detail).localname == "Return" or quantity < 0
    delivery = _delivery(item, detail)
    status = LineStatus.RETURNED if returned else LineStatus.OPEN if delivery is not None else LineStatus.PICKED_UP
    if flag(item, "VoidFlag") or flag(detail, "VoidFlag"):
        status = LineStatus.CANCELLED
    line = OrderLine(
        line_id=line_id,
        sku=text(detail, "ItemID", required=True) or text(detail, "POSIdentity/POSItemID"),
        name=text(detail, "Description"),
        quantity=abs(quantity),
        unit_price=abs(amount) if fractional and amount is not None else abs(unit) if unit is not None else None,
        status=status,
        fulfillment_type=FulfillmentType.SHIP_FROM_STORE if delivery is not None else FulfillmentType.CARRY_OUT,
        store_id=head.store,
    )
    links = (*children(detail, "TransactionLink"), *shared_links) if returned else ()
    return Line(line=line, amount=abs(amount) if amount is not None else None, links=links, delivery=delivery)


def _delivery(item: Element, detail: Element) -> Element | None:
    found = child(detail, "Delivery")
    return found if found is not None else child(item, "Delivery")


def _quantity(detail: Element) -> tuple[int, bool]:
    """(signed units, is_fractional); weighed goods (fractional quantities) count as one unit."""
    raw = text(detail, "Quantity")
    if raw is None:
        return 1, False
    value = located(lambda at: R.money_value(raw, at), detail, "Quantity")
    if value != value.to_integral_value():
        return (-1 if value < 0 else 1), True
    located(lambda at: R.count_value(abs(int(value)), at), detail, "Quantity")
    return int(value), False
