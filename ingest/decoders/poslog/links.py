"""Cross-channel returns: a POS return names the original sale; emit a change for that order. Pure.

A ``<TransactionLink>`` inside ``<Return>`` (or at RetailTransaction level with
ReasonCode absent or "Return") names the original sale, either by
``<TransactionID>`` holding a global order id (e.g. ``web-4501`` scanned from an
online order) or by RetailStoreID/WorkstationID/SequenceNumber/BusinessDayDate of
another POS sale; an optional ``<LineNumber>`` names the original line. For each
linked order the adapter also emits a change *for that order*: status
partially_returned, a ReturnLink (return_id = this transaction's order id,
channel store, store_id, refund = the returned extended amounts), the return
receipt as a pos_receipt reference and the loyalty id only (the original order's
own customer fields are never overwritten).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ingest.decoders.poslog.receipt import Line, Receipt, business_day
from ingest.decoders.poslog.xml import SOURCE, Element, R, text, token, where
from ingest.decoders.reader import version_of
from order_domain.model import (
    ChangeKind,
    Channel,
    CustomerIdentity,
    LineStatus,
    OrderChange,
    OrderLine,
    OrderReference,
    OrderStatus,
    ReferenceKind,
    ReturnLink,
)

_GLOBAL_ID = re.compile(r"^[a-z][a-z0-9_]{0,15}-[A-Za-z0-9_.-]{1,200}$")
_LINE_NUMBER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def link_changes(head: Receipt, lines: list[Line], customer: CustomerIdentity | None) -> list[OrderChange]:
    """One change per *other* order this return links to, so cross-channel returns join up."""
    targets = {id(entry): [_target(link) for link in entry.links] for entry in lines}
    orders = sorted({order for found in targets.values() for order, _ in found} - {head.order_id})
    return [_link_change(head, order, lines, targets, customer) for order in orders]


def _target(link: Element) -> tuple[str, str | None]:
    """(global order id of the original sale, original line number or None)."""
    line_number = text(link, "LineNumber")
    if line_number is not None and not _LINE_NUMBER.match(line_number):
        R.fail("invalid_value", where(link, "LineNumber"), "LineNumber must be a short token")
    global_id = text(link, "TransactionID")
    if global_id is not None:
        if not _GLOBAL_ID.match(global_id):
            R.fail("invalid_value", where(link, "TransactionID"), f"not a global order id: {global_id[:40]!r}")
        return global_id, line_number
    parts = [token(link, name) for name in ("RetailStoreID", "WorkstationID", "SequenceNumber")]
    day = business_day(link, text(link, "BusinessDayDate", required=True) or "")
    return "pos-" + "-".join(parts) + f"-{day}", line_number


def _link_change(
    head: Receipt,
    target: str,
    lines: list[Line],
    targets: dict[int, list[tuple[str, str | None]]],
    customer: CustomerIdentity | None,
) -> OrderChange:
    linked = [entry for entry in lines if any(order == target for order, _ in targets[id(entry)])]
    numbers = sorted({n for entry in linked for order, n in targets[id(entry)] if order == target and n})
    amounts = [entry.amount for entry in linked if entry.amount is not None]
    loyalty = customer.loyalty_id if customer is not None else None
    return R.build(
        event_id=f"{head.event_id}:link:{target}",
        order_id=target,
        channel=Channel.STORE,
        source=SOURCE,
        kind=ChangeKind.RETURN,
        occurred_at=head.occurred_at,
        source_version=version_of(head.occurred_at),
        status=OrderStatus.PARTIALLY_RETURNED,
        references=(OrderReference(kind=ReferenceKind.POS_RECEIPT, value=head.receipt),),
        customer=CustomerIdentity(loyalty_id=loyalty) if loyalty else None,
        lines=tuple(OrderLine(line_id=n, status=LineStatus.RETURNED) for n in numbers),
        returns=(ReturnLink(
            return_id=head.order_id,
            channel=Channel.STORE,
            status="returned",
            line_ids=tuple(numbers) or None,
            refund_amount=sum(amounts, Decimal(0)) if amounts else None,
            store_id=head.store,
        ),),
    )
