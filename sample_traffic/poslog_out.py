"""Store payloads: NRF/ARTS POSLog XML documents, one retail transaction each. Pure.

Written as text templates (fast, and byte-for-byte reproducible). Returns carry a
``<TransactionLink>`` naming the original sale: by RetailStoreID/WorkstationID/
SequenceNumber/BusinessDayDate for a store sale, by ``<TransactionID>`` holding the
global order id (``web-…``) for an online order brought back to a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from sample_traffic.catalog import Store, money
from sample_traffic.drafts import TAX_RATE_BP, Item

NS = "http://www.nrf-arts.org/IXRetail/namespace/"


@dataclass(frozen=True)
class Receipt:
    """The identity of one POS transaction; the adapter derives the order id from exactly these."""

    store: Store
    workstation: str
    sequence: str
    begin: datetime
    end: datetime

    @property
    def business_day(self) -> str:
        return self.begin.astimezone(self.store.tz).date().isoformat()

    @property
    def order_id(self) -> str:
        day = self.business_day.replace("-", "")
        return f"pos-{self.store.store_id}-{self.workstation}-{self.sequence}-{day}"

    @property
    def receipt(self) -> str:
        """The number printed on the paper receipt (the pos_receipt reference)."""
        return f"{self.store.store_id}-{self.workstation}-{self.sequence}"

    def local(self, at: datetime) -> str:
        return at.astimezone(self.store.tz).isoformat()


def document(receipt: Receipt, body: str, *, operator: str, cancel: bool = False) -> bytes:
    """A POSLog with one Transaction around `body` (the RetailTransaction's children)."""
    flag = ' CancelFlag="true"' if cancel else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<POSLog xmlns="{NS}" MajorVersion="6">\n'
        f"  <Transaction{flag}>\n"
        f"    <RetailStoreID>{receipt.store.store_id}</RetailStoreID>\n"
        f"    <WorkstationID>{receipt.workstation}</WorkstationID>\n"
        f"    <SequenceNumber>{receipt.sequence}</SequenceNumber>\n"
        f"    <BusinessDayDate>{receipt.business_day}</BusinessDayDate>\n"
        f"    <BeginDateTime>{receipt.local(receipt.begin)}</BeginDateTime>\n"
        f"    <EndDateTime>{receipt.local(receipt.end)}</EndDateTime>\n"
        f"    <OperatorID>{operator}</OperatorID>\n    <CurrencyCode>USD</CurrencyCode>\n"
        f"    <RetailTransaction>\n{body}    </RetailTransaction>\n  </Transaction>\n</POSLog>\n"
    ).encode("utf-8")


def sale_line(number: int, item: Item, *, void: bool = False) -> str:
    flag = ' VoidFlag="true"' if void else ""
    return (f"      <LineItem{flag}>\n        <SequenceNumber>{number}</SequenceNumber>\n"
            f'        <Sale ItemType="Stock">\n{_item(item)}        </Sale>\n      </LineItem>\n')


def return_line(number: int, item: Item, link: str) -> str:
    return (f"      <LineItem>\n        <SequenceNumber>{number}</SequenceNumber>\n"
            f'        <Return ItemType="Stock">\n{_item(item)}{link}        </Return>\n      </LineItem>\n')


def _item(item: Item) -> str:
    return (f"          <ItemID>{escape(item.product.sku)}</ItemID>\n"
            f"          <Description>{escape(item.product.name)}</Description>\n"
            f"          <RegularSalesUnitPrice>{money(item.product.cents)}</RegularSalesUnitPrice>\n"
            f"          <ActualSalesUnitPrice>{money(item.product.cents)}</ActualSalesUnitPrice>\n"
            f"          <ExtendedAmount>{money(item.extended)}</ExtendedAmount>\n"
            f"          <Quantity>{item.quantity}</Quantity>\n")


def link_to_order(order_id: str, line_id: str) -> str:
    """Link by global order id (scanned from the online order's packing slip or e-mail)."""
    return ('          <TransactionLink ReasonCode="Return">\n'
            f"            <TransactionID>{order_id}</TransactionID>\n"
            f"            <LineNumber>{line_id}</LineNumber>\n          </TransactionLink>\n")


def link_to_receipt(original: Receipt, line_id: str) -> str:
    """Link by the original receipt's header fields (scanned from the paper receipt's barcode)."""
    return ('          <TransactionLink ReasonCode="Return">\n'
            f"            <RetailStoreID>{original.store.store_id}</RetailStoreID>\n"
            f"            <WorkstationID>{original.workstation}</WorkstationID>\n"
            f"            <SequenceNumber>{original.sequence}</SequenceNumber>\n"
            f"            <BusinessDayDate>{original.business_day}</BusinessDayDate>\n"
            f"            <LineNumber>{line_id}</LineNumber>\n          </TransactionLink>\n")


def tender(number: int, cents: int, card: tuple[str, str] | None, *, refund: bool = False) -> str:
    """Cash or card; a card shows only its brand and a masked number."""
    type_code = "Refund" if refund else "Sale"
    if card is None:
        return (f"      <LineItem>\n        <SequenceNumber>{number}</SequenceNumber>\n"
                f'        <Tender TenderType="Cash" TypeCode="{type_code}">\n'
                f"          <Amount>{money(cents)}</Amount>\n        </Tender>\n      </LineItem>\n")
    brand, last4 = card
    return (f"      <LineItem>\n        <SequenceNumber>{number}</SequenceNumber>\n"
            f'        <Tender TenderType="CreditDebit" TypeCode="{type_code}">\n'
            f"          <Amount>{money(cents)}</Amount>\n"
            f'          <CreditDebit CardType="{escape(brand)}">\n'
            f"            <PrimaryAccountNumber>************{last4}</PrimaryAccountNumber>\n"
            f"          </CreditDebit>\n        </Tender>\n      </LineItem>\n")


def customer(loyalty_id: str | None, customer_id: str | None = None) -> str:
    if loyalty_id is None and customer_id is None:
        return ""
    cid = f"        <CustomerID>{customer_id}</CustomerID>\n" if customer_id else ""
    loyalty = (f"        <LoyaltyAccount>\n          <LoyaltyAccountID>{loyalty_id}</LoyaltyAccountID>\n"
               "        </LoyaltyAccount>\n") if loyalty_id else ""
    return f"      <Customer>\n{cid}{loyalty}      </Customer>\n"


def totals(net_cents: int) -> str:
    """Net, tax and grand total; negative for a refund."""
    tax = abs(net_cents) * TAX_RATE_BP // 10_000 * (1 if net_cents >= 0 else -1)
    return (f'      <Total TotalType="TransactionNetAmount">{money(net_cents)}</Total>\n'
            f'      <Total TotalType="TransactionTaxAmount">{money(tax)}</Total>\n'
            f'      <Total TotalType="TransactionGrandAmount">{money(net_cents + tax)}</Total>\n')


def with_tax(cents: int) -> int:
    return cents + cents * TAX_RATE_BP // 10_000
