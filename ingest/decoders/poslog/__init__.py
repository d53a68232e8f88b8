"""Store POS adapter: NRF/ARTS POSLog XML (2.x to 6.0) -> canonical `OrderChange`. Pure decoder.

Kafka message (store channel topic): one POSLog document with one or more
``<Transaction>`` elements, in the ARTS namespace (any prefix), a vendor's
namespace, or none (see `xml`). Each transaction is classified:

- ``<RetailTransaction>`` -> an order (see `receipt`, `parties`, `links`);
- ``<ControlTransaction>``, ``<TenderControlTransaction>`` and any other kind,
  training transactions (``TrainingModeFlag="true"``) and suspended ones
  (``TransactionStatus="Suspended"``) -> no order.

A document whose transactions carry no order raises `IgnoredPayload` with the
first reason (control_transaction, tender_control_transaction,
training_transaction, suspended_transaction, no_transaction...), so the worker
records it as ignored rather than dead-lettering it.

Ids and ordering:
- order id = ``pos-{store}-{WorkstationID}-{SequenceNumber}-{BusinessDayDate as YYYYMMDD}``;
- receipt reference (pos_receipt) = ``{store}-{WorkstationID}-{SequenceNumber}``,
  plus ``ReceiptNumber`` when the POS prints its own;
- occurred_at = EndDateTime (else BeginDateTime), UTC; placed_at = BeginDateTime
  (else EndDateTime); source_version = epoch ms;
- event_id = ``poslog:{order id}:`` + sha256 of the canonical (C14N) transaction.

Status: ``CancelFlag="true"`` or a TransactionStatus of Voided/Canceled/PostVoided
-> cancelled; otherwise what the lines prove (`status.from_lines`: all picked up ->
completed, all returned -> returned, sale + return -> partially_returned, all void
-> cancelled), and confirmed while ship-from-store lines are still open.
"""

from __future__ import annotations

from ingest.decoders import status as order_status
from ingest.decoders.options import DEFAULT_OPTIONS, DecoderOptions
from ingest.decoders.poslog import links, parties, receipt
from ingest.decoders.poslog.xml import NS, SOURCE, Element, R, child, children, local, parse, text
from ingest.decoders.reader import IgnoredPayload, shielded, version_of
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
)

_CANCELLED_STATES = frozenset({"voided", "void", "canceled", "cancelled", "postvoided", "postvoid"})
_SKIPPED_KINDS = {"ControlTransaction": "control_transaction", "TenderControlTransaction": "tender_control_transaction"}
__all__ = ["NS", "SOURCE", "decode"]


@shielded(SOURCE)
def decode(payload: bytes, options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange]:
    """Decode a POSLog document into one change per retail transaction plus cross-order return links."""
    root = parse(payload)
    changes: list[OrderChange] = []
    skipped: list[str] = []
    with R.guard():
        for transaction in children(root, "Transaction"):
            reason = _skip_reason(transaction)
            if reason:
                skipped.append(reason)
            else:
                changes.extend(_transaction(transaction, options))
    if not changes:
        reason = skipped[0] if skipped else "no_transaction"
        raise IgnoredPayload(SOURCE, reason, f"no retail transaction to record ({len(skipped)} skipped: {reason})")
    return changes


def _skip_reason(transaction: Element) -> str | None:
    """Why this transaction carries no order, or None when it does."""
    retail = child(transaction, "RetailTransaction")
    if retail is None:
        kinds = [local(child) for child in transaction if local(child).endswith("Transaction")]
        return _SKIPPED_KINDS.get(kinds[0], "not_a_retail_transaction") if kinds else "not_a_retail_transaction"
    if (transaction.get("TrainingModeFlag") or "").strip().lower() == "true":
        return "training_transaction"
    if _state(transaction, retail).startswith("suspended"):
        return "suspended_transaction"
    return None


def _state(transaction: Element, retail: Element) -> str:
    raw = retail.get("TransactionStatus") or transaction.get("TransactionStatus") or text(retail, "TransactionStatus")
    return (raw or "").strip().lower()


def _transaction(transaction: Element, options: DecoderOptions) -> list[OrderChange]:
    retail = child(transaction, "RetailTransaction")
    head = receipt.header(transaction, options)
    lines = receipt.lines(retail, head)
    customer = parties.customer(retail)
    own = _own_change(transaction, retail, head, lines=lines, customer=customer)
    return [own, *links.link_changes(head, lines, customer)]


def _own_change(
    transaction: Element,
    retail: Element,
    head: receipt.Receipt,
    *,
    lines: list[receipt.Line],
    customer: CustomerIdentity | None,
) -> OrderChange:
    canonical = [entry.line for entry in lines]
    live = [line for line in canonical if line.status is not LineStatus.CANCELLED]
    return_only = bool(live) and all(line.status is LineStatus.RETURNED for line in live)
    status = _status(transaction, retail, canonical)
    return R.build(
        event_id=head.event_id,
        order_id=head.order_id,
        channel=Channel.STORE,
        source=SOURCE,
        kind=_kind(status, return_only=return_only),
        occurred_at=head.occurred_at,
        source_version=version_of(head.occurred_at),
        actor=text(transaction, "OperatorID"),
        status=status,
        placed_at=head.placed_at,
        store_id=head.store,
        currency=text(transaction, "CurrencyCode") or text(retail, "CurrencyCode"),
        references=_references(transaction, head),
        customer=customer,
        shipping_address=next((parties.delivery_address(e.delivery) for e in lines if e.delivery is not None), None),
        lines=tuple(canonical),
        payments=tuple(parties.payments(retail, refund_default=return_only)),
        totals=parties.totals(retail),
    )


def _status(transaction: Element, retail: Element, lines: list[OrderLine]) -> OrderStatus:
    cancelled = (transaction.get("CancelFlag") or "").strip().lower() == "true"
    if cancelled or _state(transaction, retail) in _CANCELLED_STATES:
        return OrderStatus.CANCELLED
    return order_status.from_lines(lines) or (OrderStatus.CONFIRMED if lines else OrderStatus.COMPLETED)


def _kind(status: OrderStatus, *, return_only: bool) -> ChangeKind:
    if status is OrderStatus.CANCELLED:
        return ChangeKind.CANCELLED
    return ChangeKind.RETURN if return_only else ChangeKind.CREATED


def _references(transaction: Element, head: receipt.Receipt) -> tuple[OrderReference, ...]:
    refs = [OrderReference(kind=ReferenceKind.POS_RECEIPT, value=head.receipt)]
    printed = text(transaction, "ReceiptNumber")
    if printed and printed != head.receipt:
        refs.append(OrderReference(kind=ReferenceKind.POS_RECEIPT, value=printed[:128]))
    return tuple(refs)

