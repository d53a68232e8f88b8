"""Shared SP-API readers: Money, Address, BuyerInfo. Pure.

Orders v0 ``Money`` is ``{CurrencyCode, Amount}`` with Amount a decimal string;
Finances v0 ``Currency`` is ``{CurrencyCode, CurrencyAmount}`` with a JSON number.
Both are read exactly (see `Reader.money`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ingest.decoders.reader import Reader, customer_identity, join
from order_domain.model import (
    Address,
    Channel,
    CustomerIdentity,
    OrderReference,
    ReferenceKind,
)

SOURCE = "amazon_sp"
R = Reader(SOURCE)


def amount(obj: dict[str, Any], key: str, at: str, *, value_key: str = "Amount") -> tuple[str | None, Decimal | None]:
    """A Money/Currency object -> (currency, amount); absent -> (None, None)."""
    raw = R.field(obj, key, at)
    if raw is None:
        return None, None
    money = R.mapping(raw, join(at, key))
    currency = R.text(money, "CurrencyCode", join(at, key), required=True)
    return currency, R.money(money, value_key, join(at, key), required=True)


def customer(body: dict[str, Any], at: str) -> CustomerIdentity | None:
    """BuyerInfo (anonymised marketplace e-mail, name) and the shipping address phone."""
    buyer = R.mapping(R.field(body, "BuyerInfo", at) or {}, join(at, "BuyerInfo"))
    address = R.mapping(R.field(body, "ShippingAddress", at) or {}, join(at, "ShippingAddress"))
    return customer_identity(
        email=R.text(buyer, "BuyerEmail", join(at, "BuyerInfo")),
        name=R.text(buyer, "BuyerName", join(at, "BuyerInfo")),
        phone=R.text(address, "Phone", join(at, "ShippingAddress")),
    )


def address(body: dict[str, Any], at: str) -> Address | None:
    raw = R.field(body, "ShippingAddress", at)
    if raw is None:
        return None
    loc = join(at, "ShippingAddress")
    found = R.mapping(raw, loc)
    second = [R.text(found, key, loc) for key in ("AddressLine2", "AddressLine3")]
    return Address(
        name=R.text(found, "Name", loc),
        line1=R.text(found, "AddressLine1", loc),
        line2=" ".join(part for part in second if part) or None,
        city=R.text(found, "City", loc),
        region=R.text(found, "StateOrRegion", loc),
        postal_code=R.text(found, "PostalCode", loc),
        country=R.text(found, "CountryCode", loc),
    )


def identity(amazon_id: str, event_id: str, moment: datetime | None, version: int | None) -> dict[str, Any]:
    """The fields every marketplace change shares: ids, channel, source, time and version."""
    return {"event_id": event_id, "order_id": f"amz-{amazon_id}", "channel": Channel.MARKETPLACE, "source": SOURCE,
            "occurred_at": moment, "source_version": version}


def order_refs(body: dict[str, Any], at: str, amazon_id: str) -> list[OrderReference]:
    """AmazonOrderId -> marketplace_order_id, SellerOrderId -> source_order_id."""
    refs = [OrderReference(kind=ReferenceKind.MARKETPLACE_ORDER_ID, value=amazon_id)]
    seller_id = R.ident(body, "SellerOrderId", at)
    if seller_id:
        refs.append(OrderReference(kind=ReferenceKind.SOURCE_ORDER_ID, value=seller_id))
    return refs
