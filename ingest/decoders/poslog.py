"""Store POS adapter: NRF/ARTS POSLog XML -> canonical `OrderChange`. Pure decoder.

Kafka message (store channel topic): one POSLog document, namespace
``http://www.nrf-arts.org/IXRetail/namespace/``, with one or more
``<Transaction>``. Only transactions with a ``<RetailTransaction>`` are orders;
control/tender-control transactions and training transactions
(``TrainingModeFlag="true"``) yield nothing.

Parsing is hardened: lxml with resolve_entities=False, no_network=True,
huge_tree=False, no DTD loading; any DOCTYPE/ENTITY declaration is rejected
(``hostile_xml``) before or after parsing, so billion-laughs and external-entity
documents fail fast and never read files or the network.

Ids and ordering:
- order id = ``pos-{RetailStoreID}-{WorkstationID}-{SequenceNumber}-{BusinessDayDate as YYYYMMDD}``;
- receipt reference (pos_receipt) = ``{RetailStoreID}-{WorkstationID}-{SequenceNumber}``;
- occurred_at = EndDateTime (else BeginDateTime), must carry a timezone offset,
  UTC; placed_at = BeginDateTime (else EndDateTime); source_version = epoch ms;
- event_id = ``poslog:{order id}:`` + sha256 of the canonical (C14N) transaction,
  so a resent receipt dedupes and a corrected one is a distinct event.

Mapping: ``<Sale>`` line -> status picked_up, fulfillment carry_out, store_id =
store; ``<Return>`` line -> returned; ``VoidFlag="true"`` line -> cancelled.
Transaction status: ``CancelFlag="true"`` -> cancelled; only return lines ->
returned; otherwise completed. Line id = LineItem/SequenceNumber (else its
position). Quantity: integral values as is; fractional (weighed goods) count as
1 with the extended amount as price; negative quantities are rejected.
Tender: TenderType (attribute or child) -> method; CreditDebit CardType -> brand;
PrimaryAccountNumber -> last four digits only; TypeCode="Refund" or a
return-only transaction -> refunded, otherwise captured.
Totals: Total[@TotalType] TransactionGrandAmount/TransactionTaxAmount/TransactionNetAmount.

Cross-channel returns: a ``<TransactionLink>`` inside ``<Return>`` (or at
RetailTransaction level with ReasonCode absent or "Return") names the original
sale, either by ``<TransactionID>`` holding a global order id (e.g. ``web-4501``
scanned from an online order) or by RetailStoreID/WorkstationID/SequenceNumber/
BusinessDayDate of another POS sale; an optional ``<LineNumber>`` names the
original line. For each linked order the adapter also emits a change *for that
order*: status partially_returned, a ReturnLink (return_id = this transaction's
order id, channel store, store_id, refund = the returned extended amounts), the
return receipt as a pos_receipt reference and the loyalty id only (the original
order's own customer fields are never overwritten).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from ingest.decoders.reader import MAX_PAYLOAD_BYTES, Reader, digest, version_of
from order_domain.model import (
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
    Totals,
)

SOURCE = "poslog"
NS = "http://www.nrf-arts.org/IXRetail/namespace/"
_R = Reader(SOURCE)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_GLOBAL_ID = re.compile(r"^[a-z][a-z0-9_]{0,15}-[A-Za-z0-9_.-]{1,200}$")
_TOTALS = {"TransactionGrandAmount": "total", "TransactionTaxAmount": "tax", "TransactionNetAmount": "subtotal"}


@dataclass(frozen=True)
class _Receipt:
    """The transaction header every change of this transaction shares."""

    order_id: str
    receipt: str
    store: str
    occurred_at: datetime
    placed_at: datetime
    event_id: str


@dataclass(frozen=True)
class _Line:
    line: OrderLine
    amount: Decimal | None
    links: tuple[tuple[str, str | None], ...]


def decode(payload: bytes) -> list[OrderChange]:
    """Decode a POSLog document into one change per retail transaction plus cross-order return links."""
    root = _parse(payload)
    changes: list[OrderChange] = []
    with _R.guard():
        for transaction in root.findall(_q("Transaction")):
            changes.extend(_transaction(transaction))
    return changes


def _parse(payload: bytes) -> etree._Element:
    if not isinstance(payload, (bytes, bytearray)):
        _R.fail("unsupported_format", "/", f"payload must be bytes, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        _R.fail("payload_too_large", "/", f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    if _declares_dtd(bytes(payload)):
        _R.fail("hostile_xml", "/", "DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
        dtd_validation=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(bytes(payload), parser)
    except (etree.LxmlError, ValueError) as exc:
        _R.fail("malformed_xml", "/", f"payload is not well-formed XML: {str(exc)[:200]}")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        _R.fail("hostile_xml", "/", "DOCTYPE declarations are not allowed")
    if root.tag != _q("POSLog"):
        _R.fail("unsupported_format", "/", f"root element must be POSLog in namespace {NS}, got {root.tag!r}")
    return root


def _declares_dtd(payload: bytes) -> bool:
    """Cheap pre-parse check; NUL bytes up front mean UTF-16/32, so those decodings are checked too."""
    candidates = [payload]
    if b"\x00" in payload[:4]:
        candidates += [payload.decode(name, errors="ignore").encode("utf-8", errors="ignore") for name in _WIDE]
    return any(_DECLARATION.search(candidate) for candidate in candidates)


def _q(path: str) -> str:
    """Clark-notation path in the POSLog namespace: 'A/B' -> '{ns}A/{ns}B'."""
    return "/".join(f"{{{NS}}}{part}" for part in path.split("/"))


def _where(element: etree._Element, path: str = "") -> str:
    """An XPath-like location for messages, e.g. /POSLog/Transaction[2]/RetailTransaction/LineItem[3]."""
    tree_path = element.getroottree().getelementpath(element)
    base = "/POSLog" if tree_path == "." else "/POSLog/" + tree_path.replace(f"{{{NS}}}", "")
    return f"{base}/{path}" if path else base


def _text(element: etree._Element | None, path: str, *, required: bool = False) -> str | None:
    child = element.find(_q(path)) if element is not None else None
    value = (child.text or "").strip() if child is not None else ""
    if not value and required and element is not None:
        _R.fail("missing_field", _where(element, path), f"required element {path} is missing or empty")
    return value or None


def _token(element: etree._Element, path: str) -> str:
    value = _text(element, path, required=True) or ""
    if not _TOKEN.match(value):
        _R.fail("invalid_value", _where(element, path), f"{path} must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def _attr_or_child(element: etree._Element, name: str) -> str | None:
    return (element.get(name) or "").strip() or _text(element, name)


def _money(element: etree._Element, path: str) -> Decimal | None:
    raw = _text(element, path)
    return _R.money_value(raw, _where(element, path)) if raw is not None else None


def _moment(element: etree._Element, path: str) -> datetime | None:
    raw = _text(element, path)
    return _R.timestamp_value(raw, _where(element, path)) if raw is not None else None


def _header(transaction: etree._Element) -> _Receipt:
    store, workstation = _token(transaction, "RetailStoreID"), _token(transaction, "WorkstationID")
    sequence = _token(transaction, "SequenceNumber")
    day = _business_day(transaction, _text(transaction, "BusinessDayDate", required=True) or "")
    begin, end = _moment(transaction, "BeginDateTime"), _moment(transaction, "EndDateTime")
    if begin is None and end is None:
        _R.fail("missing_field", _where(transaction, "EndDateTime"), "EndDateTime or BeginDateTime is required")
    order_id = f"pos-{store}-{workstation}-{sequence}-{day}"
    canonical = etree.tostring(transaction, method="c14n")
    return _Receipt(
        order_id=order_id,
        receipt=f"{store}-{workstation}-{sequence}",
        store=store,
        occurred_at=end or begin,
        placed_at=begin or end,
        event_id=f"poslog:{order_id}:" + digest(canonical.decode("utf-8", "replace")),
    )


def _business_day(element: etree._Element, raw: str) -> str:
    """BusinessDayDate (ISO date) as YYYYMMDD for the order id."""
    try:
        return date.fromisoformat(raw).strftime("%Y%m%d")
    except ValueError:
        _R.fail("invalid_timestamp", _where(element, "BusinessDayDate"), f"not a calendar date: {raw[:40]!r}")


def _transaction(transaction: etree._Element) -> list[OrderChange]:
    retail = transaction.find(_q("RetailTransaction"))
    if retail is None or transaction.get("TrainingModeFlag", "").strip().lower() == "true":
        return []
    head = _header(transaction)
    lines = _lines(retail, head)
    customer = _customer(retail)
    own = _own_change(transaction, retail, head, lines=lines, customer=customer)
    return [own, *_link_changes(head, lines, customer)]


def _own_change(
    transaction: etree._Element,
    retail: etree._Element,
    head: _Receipt,
    *,
    lines: list[_Line],
    customer: CustomerIdentity | None,
) -> OrderChange:
    live = [entry.line for entry in lines if entry.line.status is not LineStatus.CANCELLED]
    return_only = bool(live) and all(line.status is LineStatus.RETURNED for line in live)
    cancelled = transaction.get("CancelFlag", "").strip().lower() == "true"
    status = OrderStatus.CANCELLED if cancelled else OrderStatus.RETURNED if return_only else OrderStatus.COMPLETED
    kind = {OrderStatus.CANCELLED: ChangeKind.CANCELLED, OrderStatus.RETURNED: ChangeKind.RETURN}
    return _R.build(
        event_id=head.event_id,
        order_id=head.order_id,
        channel=Channel.STORE,
        source=SOURCE,
        kind=kind.get(status, ChangeKind.CREATED),
        occurred_at=head.occurred_at,
        source_version=version_of(head.occurred_at),
        actor=_text(transaction, "OperatorID"),
        status=status,
        placed_at=head.placed_at,
        store_id=head.store,
        currency=_text(transaction, "CurrencyCode"),
        references=(OrderReference(kind=ReferenceKind.POS_RECEIPT, value=head.receipt),),
        customer=customer,
        lines=tuple(entry.line for entry in lines),
        payments=tuple(_payments(retail, refund_default=return_only)),
        totals=_totals(retail),
    )


def _lines(retail: etree._Element, head: _Receipt) -> list[_Line]:
    shared_links = [
        link for link in retail.findall(_q("TransactionLink")) if link.get("ReasonCode") in (None, "Return")
    ]
    lines: list[_Line] = []
    for position, item in enumerate(retail.findall(_q("LineItem")), start=1):
        sale, ret = item.find(_q("Sale")), item.find(_q("Return"))
        detail = sale if sale is not None else ret
        if detail is None:
            continue
        line_id = _token(item, "SequenceNumber") if item.find(_q("SequenceNumber")) is not None else str(position)
        status = LineStatus.PICKED_UP if sale is not None else LineStatus.RETURNED
        if item.get("VoidFlag", "").strip().lower() == "true":
            status = LineStatus.CANCELLED
        links = [] if sale is not None else [*detail.findall(_q("TransactionLink")), *shared_links]
        lines.append(_line(detail, head, line_id=line_id, status=status, links=links))
    if len({entry.line.line_id for entry in lines}) != len(lines):
        _R.fail("invalid_value", _where(retail, "LineItem"), "duplicate LineItem SequenceNumber")
    return lines


def _line(
    detail: etree._Element, head: _Receipt, *, line_id: str, status: LineStatus, links: list[etree._Element]
) -> _Line:
    quantity, fractional = _quantity(detail)
    amount = _money(detail, "ExtendedAmount")
    unit = _money(detail, "ActualSalesUnitPrice") or _money(detail, "RegularSalesUnitPrice")
    line = OrderLine(
        line_id=line_id,
        sku=_text(detail, "ItemID", required=True),
        name=_text(detail, "Description"),
        quantity=quantity,
        unit_price=amount if fractional and amount is not None else unit,
        status=status,
        fulfillment_type=FulfillmentType.CARRY_OUT,
        store_id=head.store,
    )
    targets = tuple(_link_target(link) for link in links)
    return _Line(line=line, amount=abs(amount) if amount is not None else None, links=targets)


def _quantity(detail: etree._Element) -> tuple[int, bool]:
    """(units, is_fractional); weighed goods (fractional quantities) count as one unit."""
    raw = _text(detail, "Quantity")
    if raw is None:
        return 1, False
    value = _R.money_value(raw, _where(detail, "Quantity"))
    if value < 0:
        _R.fail("invalid_value", _where(detail, "Quantity"), f"quantity must not be negative, got {raw!r}")
    if value != value.to_integral_value():
        return 1, True
    return _R.count_value(int(value), _where(detail, "Quantity")), False


def _link_target(link: etree._Element) -> tuple[str, str | None]:
    """(global order id of the original sale, original line number or None)."""
    line_number = _text(link, "LineNumber")
    if line_number is not None and not _TOKEN.match(line_number):
        _R.fail("invalid_value", _where(link, "LineNumber"), "LineNumber must be a short token")
    global_id = _text(link, "TransactionID")
    if global_id is not None:
        if not _GLOBAL_ID.match(global_id):
            _R.fail("invalid_value", _where(link, "TransactionID"), f"not a global order id: {global_id[:40]!r}")
        return global_id, line_number
    return _header_ids(link), line_number


def _header_ids(link: etree._Element) -> str:
    parts = [_token(link, name) for name in ("RetailStoreID", "WorkstationID", "SequenceNumber")]
    day = _business_day(link, _text(link, "BusinessDayDate", required=True) or "")
    return "pos-" + "-".join(parts) + f"-{day}"


def _customer(retail: etree._Element) -> CustomerIdentity | None:
    customer = retail.find(_q("Customer"))
    loyalty = _text(customer, "LoyaltyAccount/LoyaltyAccountID") or _text(retail, "LoyaltyAccount/LoyaltyAccountID")
    identity = CustomerIdentity(customer_id=_text(customer, "CustomerID"), loyalty_id=loyalty)
    return identity if identity.model_dump(exclude_none=True) else None


def _payments(retail: etree._Element, *, refund_default: bool) -> list[Payment]:
    payments = []
    for position, item in enumerate(retail.findall(_q("LineItem")), start=1):
        tender = item.find(_q("Tender"))
        if tender is None:
            continue
        line_id = _text(item, "SequenceNumber") or str(position)
        card = tender.find(_q("CreditDebit"))
        digits = re.sub(r"\D", "", _text(card, "PrimaryAccountNumber") or "")
        refund = tender.get("TypeCode") == "Refund" or (refund_default and tender.get("TypeCode") != "Sale")
        amount = _money(tender, "Amount")
        payments.append(Payment(
            payment_id=f"tender-{line_id}",
            method=_attr_or_child(tender, "TenderType"),
            brand=_attr_or_child(card, "CardType") if card is not None else None,
            last4=digits[-4:] if len(digits) >= 4 else None,
            **({"refunded": amount} if refund else {"captured": amount}),
        ))
    return payments


def _totals(retail: etree._Element) -> Totals | None:
    values: dict[str, Decimal] = {}
    for total in retail.findall(_q("Total")):
        field = _TOTALS.get(total.get("TotalType", ""))
        if field is not None and field not in values and (total.text or "").strip():
            values[field] = _R.money_value(total.text or "", _where(total))
    return Totals(**values) if values else None


def _link_changes(head: _Receipt, lines: list[_Line], customer: CustomerIdentity | None) -> list[OrderChange]:
    """One change per *other* order this return links to, so cross-channel returns join up."""
    targets = sorted({target for entry in lines for target, _ in entry.links} - {head.order_id})
    return [_link_change(head, target, lines, customer) for target in targets]


def _link_change(head: _Receipt, target: str, lines: list[_Line], customer: CustomerIdentity | None) -> OrderChange:
    linked = [entry for entry in lines if any(t == target for t, _ in entry.links)]
    numbers = sorted({n for entry in linked for t, n in entry.links if t == target and n})
    amounts = [entry.amount for entry in linked if entry.amount is not None]
    loyalty = customer.loyalty_id if customer is not None else None
    return _R.build(
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
