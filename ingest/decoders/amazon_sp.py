"""Marketplace adapter: Amazon Selling Partner API Orders (v0) -> canonical `OrderChange`. Pure decoder.

Kafka message (marketplace channel topic). The SP-API poller publishes each API
response untouched inside an envelope::

    {"operation": "getOrder" | "getOrderItems",
     "payload": {...the response's "payload" object...} | {"payload": {...}},
     "retrieved_at": "2026-03-01T10:00:00Z"}      # optional; when the poller called the API

``payload`` may be the response's ``payload`` object or the whole response
(``{"payload": {...}}``); both are accepted. Any other operation is rejected with
reason ``unknown_topic``. SP-API amounts are decimal strings.

Ids and ordering:
- order id = ``amz-{AmazonOrderId}``; reference marketplace_order_id = AmazonOrderId,
  source_order_id = SellerOrderId when present;
- getOrder: occurred_at = LastUpdateDate (UTC), source_version = its epoch ms,
  placed_at = PurchaseDate;
- getOrderItems carries no timestamp: occurred_at = envelope ``retrieved_at``
  (else the Unix epoch, so it never outranks a dated event), source_version =
  total QuantityShipped (shipping only grows);
- event_id = ``amz:{operation}:`` + sha256 of the key-sorted payload: a re-poll
  that returns the same content dedupes; changed content is a new event.

Status mapping (OrderStatus):

    Pending, PendingAvailability       -> pending
    Unshipped                          -> confirmed
    PartiallyShipped                   -> partially_shipped
    Shipped, InvoiceUnconfirmed        -> shipped
    Canceled, Unfulfillable            -> cancelled

Lines (OrderItems): line_id = OrderItemId, sku = SellerSKU (else ASIN),
unit_price = ItemPrice.Amount / QuantityOrdered (ItemPrice is the line total);
status shipped when QuantityShipped >= QuantityOrdered > 0, cancelled when
QuantityOrdered is 0, else open. Both FulfillmentChannel AFN (Amazon ships) and
MFN (seller ships) deliver to the buyer: ship_to_home.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ingest.decoders.reader import Reader, canonical_json, digest, join, version_of
from order_domain.model import (
    Address,
    ChangeKind,
    Channel,
    CustomerIdentity,
    FulfillmentType,
    LineStatus,
    OrderChange,
    OrderLine,
    OrderReference,
    OrderStatus,
    ReferenceKind,
    Totals,
)

SOURCE = "amazon_sp"
_R = Reader(SOURCE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUS = {
    "Pending": OrderStatus.PENDING,
    "PendingAvailability": OrderStatus.PENDING,
    "Unshipped": OrderStatus.CONFIRMED,
    "PartiallyShipped": OrderStatus.PARTIALLY_SHIPPED,
    "Shipped": OrderStatus.SHIPPED,
    "InvoiceUnconfirmed": OrderStatus.SHIPPED,
    "Canceled": OrderStatus.CANCELLED,
    "Unfulfillable": OrderStatus.CANCELLED,
}
_KIND = {
    OrderStatus.PENDING: ChangeKind.CREATED,
    OrderStatus.CONFIRMED: ChangeKind.STATUS_CHANGED,
    OrderStatus.PARTIALLY_SHIPPED: ChangeKind.FULFILLMENT,
    OrderStatus.SHIPPED: ChangeKind.FULFILLMENT,
    OrderStatus.CANCELLED: ChangeKind.CANCELLED,
}
_FULFILLMENT_CHANNELS = {"AFN", "MFN"}
_CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")


def decode(payload: bytes) -> list[OrderChange]:
    """Decode one enveloped SP-API response into the canonical change it implies."""
    envelope = _R.mapping(_R.load_json(payload), "")
    operation = _R.text(envelope, "operation", "", required=True)
    if operation not in ("getOrder", "getOrderItems"):
        _R.fail("unknown_topic", "operation", f"unsupported SP-API operation {operation!r}")
    body = _R.mapping(_R.field(envelope, "payload", "", required=True), "payload")
    at = "payload"
    if set(body) == {"payload"}:
        body, at = _R.mapping(body["payload"], "payload.payload"), "payload.payload"
    event_id = f"amz:{operation}:" + digest(canonical_json(body))
    with _R.guard():
        if operation == "getOrder":
            return [_order(body, at, event_id)]
        return [_items(body, at, event_id, retrieved_at=_R.timestamp(envelope, "retrieved_at", ""))]


def _order(body: dict[str, Any], at: str, event_id: str) -> OrderChange:
    amazon_id = _R.ident(body, "AmazonOrderId", at, required=True)
    updated = _R.timestamp(body, "LastUpdateDate", at, required=True)
    raw_status = _R.text(body, "OrderStatus", at, required=True)
    if raw_status not in _STATUS:
        _R.fail("invalid_value", join(at, "OrderStatus"), f"unknown OrderStatus {raw_status!r}")
    channel = _R.text(body, "FulfillmentChannel", at)
    if channel is not None and channel not in _FULFILLMENT_CHANNELS:
        _R.fail("invalid_value", join(at, "FulfillmentChannel"), f"unknown FulfillmentChannel {channel!r}")
    _R.integer(body, "NumberOfItemsShipped", at)
    _R.integer(body, "NumberOfItemsUnshipped", at)
    currency, total = _amount(body, "OrderTotal", at)
    status = _STATUS[raw_status or ""]
    return _R.build(
        event_id=event_id,
        order_id=f"amz-{amazon_id}",
        channel=Channel.MARKETPLACE,
        source=SOURCE,
        kind=_KIND[status],
        occurred_at=updated,
        source_version=version_of(updated),
        status=status,
        placed_at=_R.timestamp(body, "PurchaseDate", at),
        currency=currency,
        references=_references(body, at, amazon_id or ""),
        customer=_customer(body, at),
        shipping_address=_address(body, at),
        totals=Totals(total=total) if total is not None else None,
    )


def _references(body: dict[str, Any], at: str, amazon_id: str) -> tuple[OrderReference, ...]:
    refs = [OrderReference(kind=ReferenceKind.MARKETPLACE_ORDER_ID, value=amazon_id)]
    seller_id = _R.ident(body, "SellerOrderId", at)
    if seller_id:
        refs.append(OrderReference(kind=ReferenceKind.SOURCE_ORDER_ID, value=seller_id))
    return tuple(refs)


def _amount(obj: dict[str, Any], key: str, at: str) -> tuple[str | None, Decimal | None]:
    """An SP-API Money object {CurrencyCode, Amount}; Amount is a decimal string."""
    raw = _R.field(obj, key, at)
    if raw is None:
        return None, None
    money = _R.mapping(raw, join(at, key))
    currency = _R.text(money, "CurrencyCode", join(at, key), required=True)
    return currency, _R.money(money, "Amount", join(at, key), required=True)


def _customer(body: dict[str, Any], at: str) -> CustomerIdentity | None:
    raw = _R.field(body, "BuyerInfo", at)
    if raw is None:
        return None
    buyer = _R.mapping(raw, join(at, "BuyerInfo"))
    email = _R.text(buyer, "BuyerEmail", join(at, "BuyerInfo"))
    name = _R.text(buyer, "BuyerName", join(at, "BuyerInfo"))
    return CustomerIdentity(email=email, name=name) if email or name else None


def _address(body: dict[str, Any], at: str) -> Address | None:
    raw = _R.field(body, "ShippingAddress", at)
    if raw is None:
        return None
    loc = join(at, "ShippingAddress")
    address = _R.mapping(raw, loc)
    second = [_R.text(address, key, loc) for key in ("AddressLine2", "AddressLine3")]
    return Address(
        name=_R.text(address, "Name", loc),
        line1=_R.text(address, "AddressLine1", loc),
        line2=" ".join(part for part in second if part) or None,
        city=_R.text(address, "City", loc),
        region=_R.text(address, "StateOrRegion", loc),
        postal_code=_R.text(address, "PostalCode", loc),
        country=_R.text(address, "CountryCode", loc),
    )


def _items(body: dict[str, Any], at: str, event_id: str, *, retrieved_at: datetime | None) -> OrderChange:
    amazon_id = _R.ident(body, "AmazonOrderId", at, required=True)
    _R.field(body, "OrderItems", at, required=True)
    parsed = [_item(item, loc) for loc, item in _R.objects(body, "OrderItems", at)]
    ids = [line.line_id for line, _, _ in parsed]
    if len(set(ids)) != len(ids):
        _R.fail("invalid_value", join(at, "OrderItems"), "duplicate OrderItemId")
    currencies = sorted({currency for _, currency, _ in parsed if currency})
    if len(currencies) > 1:
        _R.fail("invalid_value", join(at, "OrderItems"), f"mixed currencies {currencies}")
    occurred = retrieved_at or _EPOCH
    return _R.build(
        event_id=event_id,
        order_id=f"amz-{amazon_id}",
        channel=Channel.MARKETPLACE,
        source=SOURCE,
        kind=ChangeKind.LINES_CHANGED,
        occurred_at=occurred,
        source_version=sum(shipped for _, _, shipped in parsed),
        currency=currencies[0] if currencies else None,
        references=(OrderReference(kind=ReferenceKind.MARKETPLACE_ORDER_ID, value=amazon_id or ""),),
        lines=tuple(line for line, _, _ in parsed),
    )


def _item(item: dict[str, Any], at: str) -> tuple[OrderLine, str | None, int]:
    """One OrderItem -> (line patch, currency, quantity shipped)."""
    ordered = _R.integer(item, "QuantityOrdered", at, required=True) or 0
    shipped = _R.integer(item, "QuantityShipped", at) or 0
    currency, line_total = _amount(item, "ItemPrice", at)
    unit_price = _unit_price(line_total, ordered)
    if ordered == 0:
        status = LineStatus.CANCELLED
    else:
        status = LineStatus.SHIPPED if shipped >= ordered else LineStatus.OPEN
    line = OrderLine(
        line_id=_R.ident(item, "OrderItemId", at, required=True) or "",
        sku=_R.text(item, "SellerSKU", at) or _R.text(item, "ASIN", at),
        name=_R.text(item, "Title", at),
        quantity=ordered,
        unit_price=unit_price,
        status=status,
        fulfillment_type=FulfillmentType.SHIP_TO_HOME,
    )
    return line, currency, shipped


def _unit_price(line_total: Decimal | None, ordered: int) -> Decimal | None:
    """ItemPrice is quantity x unit price; divide back, to cents when exact, else to 4 places."""
    if line_total is None or not ordered:
        return None
    unit = line_total / ordered
    cents = unit.quantize(_CENT)
    return cents if cents == unit else unit.quantize(_TEN_THOUSANDTH)
