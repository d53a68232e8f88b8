"""POSLog customer, tenders, totals and delivery address -> canonical parts. Pure.

Identity keys: ``Customer/CustomerID``; loyalty from ``LoyaltyAccount/LoyaltyAccountID``
anywhere in the transaction (also ``LoyaltyCardNumber``); a house account
``CustomerAccount/CustomerAccountID`` stands in for the customer id when no
CustomerID is given; e-mail (``EMailAddress``/``EMail``/``Email``) and phone
(``TelephoneNumber``, ``Telephone/FullTelephoneNumber``); the payment system's
card token (``CreditDebit/Token`` or ``Token/TokenValue``), never the card number.

Tenders: TenderType (attribute or child) -> method; CreditDebit CardType -> brand;
PrimaryAccountNumber -> last four digits only (payment summary data, never a
linking key); TypeCode="Refund", a negative amount, or a return-only transaction
-> refunded, otherwise captured. Voided tender lines are skipped.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ingest.decoders.poslog.xml import (
    Element,
    R,
    attr_or_child,
    child,
    children,
    flag,
    located,
    money,
    text,
)
from ingest.decoders.reader import customer_identity
from order_domain.model import Address, CustomerIdentity, Payment, Totals

_TOTALS = {"TransactionGrandAmount": "total", "TransactionTaxAmount": "tax", "TransactionNetAmount": "subtotal"}
_EMAIL = ("EMailAddress", "EMail", "Email", "EmailAddress")
_PHONE = ("TelephoneNumber", "Telephone/FullTelephoneNumber", "Telephone/TelephoneNumber", "PhoneNumber")
_LOYALTY = (".//LoyaltyAccount/LoyaltyAccountID", ".//LoyaltyAccount/LoyaltyCardNumber")
_NOT_DIGIT = re.compile(r"\D")
_TOKEN = ("Token/TokenValue", "Token", "CardToken")


def _first(element: Element | None, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = text(element, path)
        if value:
            return value
    return None


def customer(retail: Element) -> CustomerIdentity | None:
    found = child(retail, "Customer")
    account = text(retail, ".//CustomerAccount/CustomerAccountID")
    name = _first(found, ("Name/FullName", "Name", "CustomerName"))
    return customer_identity(
        customer_id=text(found, "CustomerID") or (f"account-{account}" if account else None),
        loyalty_id=_first(retail, _LOYALTY),
        email=_first(found, _EMAIL),
        phone=_first(found, _PHONE),
        name=name,
        card_token=card_token(retail),
    )


def card_token(retail: Element) -> str | None:
    """The first card token the payment system put on a tender (a linking key, unlike the PAN)."""
    for card in children(retail, "LineItem/Tender/CreditDebit"):
        value = _first(card, _TOKEN)
        if value:
            return value
    return None


def payments(retail: Element, *, refund_default: bool) -> list[Payment]:
    found = []
    for position, item in enumerate(children(retail, "LineItem"), start=1):
        tender = child(item, "Tender")
        if tender is None or flag(item, "VoidFlag"):
            continue
        line_id = text(item, "SequenceNumber") or str(position)
        card = child(tender, "CreditDebit")
        digits = _NOT_DIGIT.sub("", text(card, "PrimaryAccountNumber") or "")
        amount = money(tender, "Amount")
        type_code = tender.get("TypeCode") or text(tender, "TypeCode")
        refund = type_code == "Refund" or (amount is not None and amount < 0)
        refund = refund or (refund_default and type_code != "Sale")
        value = abs(amount) if amount is not None else None
        found.append(Payment(
            payment_id=f"tender-{line_id}",
            method=attr_or_child(tender, "TenderType"),
            brand=attr_or_child(card, "CardType") if card is not None else None,
            last4=digits[-4:] if len(digits) >= 4 else None,
            **({"refunded": value} if refund else {"captured": value}),
        ))
    return found


def totals(retail: Element) -> Totals | None:
    values: dict[str, Decimal] = {}
    for total in children(retail, "Total"):
        field = _TOTALS.get(total.get("TotalType", ""))
        if field is not None and field not in values and (total.text or "").strip():
            values[field] = located(lambda at, raw=total.text or "": R.money_value(raw, at), total, "")
    return Totals(**values) if values else None


def delivery_address(delivery: Element | None) -> Address | None:
    """The address a ship-from-store sale goes to (Delivery/Address), if any."""
    address = child(delivery, "Address") if delivery is not None else None
    if address is None:
        return None
    lines = [line.text.strip() for line in children(address, "AddressLine") if line.text and line.text.strip()]
    return Address(
        name=text(delivery, "Name") or text(delivery, "Name/FullName"),
        line1=lines[0] if lines else None,
        line2=" ".join(lines[1:]) or None,
        city=text(address, "City"),
        region=text(address, "Territory") or text(address, "State"),
        postal_code=text(address, "PostalCode"),
        country=text(address, "CountryCode") or text(address, "Country"),
    )
