"""Shopify parts shared by the webhook topics: customer identity, address, payments, tracking. Pure.

Identity keys (customer): ``customer.id`` (namespaced ``shopify-{id}``), e-mail
(customer, else the order's ``email``/``contact_email``), phone (customer, else
the order's), and a loyalty id from wherever the shop keeps it: a
``note_attributes`` entry, a customer tag (``loyalty:ID``, ``loyalty-id=ID``) or
a metafield (order or customer) named like "loyalty", "Loyalty ID", "member_number"
or "rewards.card" (a "membership level" or "reward points" is not an id).

Payments: each successful transaction (authorization -> authorized, capture/sale
-> captured, refund -> refunded); pending, failed, errored and voided ones are
not money moved. The card number is reduced to its last four digits: payment
summary data only, never an identity key (Shopify gives no card token).
"""

from __future__ import annotations

import re
from typing import Any

from ingest.decoders.reader import Reader, customer_identity, join
from order_domain.model import (
    Address,
    CustomerIdentity,
    OrderReference,
    Payment,
    ReferenceKind,
)

SOURCE = "shopify"
R = Reader(SOURCE)
_LOYALTY_NAME = re.compile(
    r"^(?:loyalty|(?:.*(?:loyal|member|reward)\w*[\s_.-]*(?:id|number|no|num|card|account)))$", re.IGNORECASE)
_LOYALTY_TAG = re.compile(r"^\s*(?:loyalty|member(?:ship)?)[\s_-]*(?:id|number|no|card)?\s*[:=]\s*(\S+)\s*$", re.I)
_AMOUNT_KIND = {"authorization": "authorized", "capture": "captured", "sale": "captured", "refund": "refunded"}
_NOT_DIGIT = re.compile(r"\D")
_TX_STATUS = frozenset({"pending", "failure", "success", "error"})


def customer(body: dict[str, Any], at: str) -> CustomerIdentity | None:
    found = R.mapping(R.field(body, "customer", at) or {}, join(at, "customer"))
    loc = join(at, "customer")
    names = [R.text(found, "first_name", loc), R.text(found, "last_name", loc)]
    customer_id = R.ident(found, "id", loc)
    return customer_identity(
        customer_id=f"shopify-{customer_id}" if customer_id else None,
        email=R.text(found, "email", loc) or R.text(body, "email", at) or R.text(body, "contact_email", at),
        phone=R.text(found, "phone", loc) or R.text(body, "phone", at),
        loyalty_id=loyalty_id(body, at),
        name=" ".join(n for n in names if n) or None,
    )


def loyalty_id(body: dict[str, Any], at: str) -> str | None:
    """The loyalty id from note_attributes, customer tags, or metafields (first found, in that order)."""
    for loc, attribute in R.objects(body, "note_attributes", at):
        name = R.text(attribute, "name", loc) or ""
        value = attribute.get("value")
        if _LOYALTY_NAME.search(name) and isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()[:128]
    found = R.mapping(R.field(body, "customer", at) or {}, join(at, "customer"))
    for tag in (R.text(found, "tags", join(at, "customer")) or "").split(","):
        match = _LOYALTY_TAG.match(tag)
        if match:
            return match.group(1)[:128]
    return _metafield_loyalty(body, at) or _metafield_loyalty(found, join(at, "customer"))


def _metafield_loyalty(owner: dict[str, Any], at: str) -> str | None:
    for loc, field in R.objects(owner, "metafields", at):
        name = f"{R.text(field, 'namespace', loc) or ''}.{R.text(field, 'key', loc) or ''}"
        value = field.get("value")
        if _LOYALTY_NAME.search(name) and isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()[:128]
    return None


def address(body: dict[str, Any], at: str) -> Address | None:
    raw = R.field(body, "shipping_address", at)
    if raw is None:
        return None
    loc = join(at, "shipping_address")
    found = R.mapping(raw, loc)
    return Address(
        name=R.text(found, "name", loc),
        line1=R.text(found, "address1", loc),
        line2=R.text(found, "address2", loc),
        city=R.text(found, "city", loc),
        region=R.text(found, "province_code", loc) or R.text(found, "province", loc),
        postal_code=R.text(found, "zip", loc),
        country=R.text(found, "country_code", loc) or R.text(found, "country", loc),
    )


def card(details: dict[str, Any], at: str) -> tuple[str | None, str | None]:
    """(brand, last four digits) of a payment_details object."""
    digits = _NOT_DIGIT.sub("", R.text(details, "credit_card_number", at) or "")
    return R.text(details, "credit_card_company", at), (digits[-4:] if len(digits) >= 4 else None)


def transaction(tx: dict[str, Any], at: str) -> Payment | None:
    """One Transaction as a payment, or None when it moved no money (not successful, or a void)."""
    kind = R.text(tx, "kind", at)
    status = R.text(tx, "status", at)
    if status is not None and status not in _TX_STATUS:
        R.fail("invalid_value", join(at, "status"), f"unknown transaction status {status!r}")
    if status not in (None, "success") or kind not in _AMOUNT_KIND:
        return None
    details_at = join(at, "payment_details")
    brand, last4 = card(R.mapping(R.field(tx, "payment_details", at) or {}, details_at), details_at)
    return Payment(
        payment_id=R.ident(tx, "id", at, required=True) or "",
        method=R.text(tx, "gateway", at),
        brand=brand,
        last4=last4,
        **{_AMOUNT_KIND[kind or ""]: R.money(tx, "amount", at, required=True)},
    )


def transactions(body: dict[str, Any], at: str) -> list[Payment]:
    return [p for loc, tx in R.objects(body, "transactions", at) if (p := transaction(tx, loc)) is not None]


def tracking_numbers(fulfillment: dict[str, Any], at: str) -> list[str]:
    numbers = [R.text(fulfillment, "tracking_number", at)]
    many = R.field(fulfillment, "tracking_numbers", at) or []
    if not isinstance(many, list) or not all(isinstance(n, str) for n in many):
        R.fail("invalid_type", join(at, "tracking_numbers"), "expected a list of strings")
    numbers.extend(n.strip() for n in many)
    return sorted({n for n in numbers if n})


def tracking_refs(fulfillment: dict[str, Any], at: str) -> list[OrderReference]:
    return [OrderReference(kind=ReferenceKind.TRACKING_NUMBER, value=n) for n in tracking_numbers(fulfillment, at)]
