"""SP-API Orders v0 ``Order`` (getOrder, getOrders) -> canonical order change. Pure.

Status mapping (OrderStatus, every documented value):

    Pending, PendingAvailability       -> pending
    Unshipped                          -> confirmed
    PartiallyShipped                   -> partially_shipped
    Shipped, InvoiceUnconfirmed        -> shipped
    Canceled, Unfulfillable            -> cancelled
    EasyShipShipmentStatus Delivered   -> delivered (carrier event)

References: AmazonOrderId -> marketplace_order_id, SellerOrderId -> source_order_id,
BuyerInfo.PurchaseOrderNumber (Amazon Business) -> b2b_purchase_order. A
replacement order (IsReplacementOrder) names ReplacedOrderId as its original.
Payment summary: PaymentMethod / PaymentMethodDetails, card brand from
PaymentExecutionDetail; OrderTotal is authorised while unshipped and captured once
shipped (Amazon charges at shipment). An in-store-pickup order (IsISPU) carries
the supply source as its store.
"""

from __future__ import annotations

from typing import Any

from ingest.decoders.amazon_sp.common import (
    R,
    address,
    amount,
    customer,
    identity,
    order_refs,
)
from ingest.decoders.reader import canonical_json, digest, join, version_of
from order_domain.model import (
    ChangeKind,
    OrderChange,
    OrderReference,
    OrderStatus,
    Payment,
    ReferenceKind,
    Totals,
)

STATUS = {
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
    OrderStatus.DELIVERED: ChangeKind.FULFILLMENT,
    OrderStatus.CANCELLED: ChangeKind.CANCELLED,
}
_FULFILLMENT_CHANNELS = {"AFN", "MFN"}
_CHARGED = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
_AUTHORIZED = {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED}


def order(body: dict[str, Any], at: str) -> OrderChange:
    amazon_id = R.ident(body, "AmazonOrderId", at, required=True) or ""
    updated = R.timestamp(body, "LastUpdateDate", at, required=True)
    status = _status(body, at)
    channel = R.text(body, "FulfillmentChannel", at)
    if channel is not None and channel not in _FULFILLMENT_CHANNELS:
        R.fail("invalid_value", join(at, "FulfillmentChannel"), f"unknown FulfillmentChannel {channel!r}")
    R.integer(body, "NumberOfItemsShipped", at)
    R.integer(body, "NumberOfItemsUnshipped", at)
    currency, total = amount(body, "OrderTotal", at)
    replaced = R.ident(body, "ReplacedOrderId", at) if body.get("IsReplacementOrder") is True else None
    event_id = f"amz:getOrder:{digest(canonical_json(body))}"
    return R.build(
        **identity(amazon_id, event_id, updated, version_of(updated)),  # type: ignore[arg-type]  # required above
        kind=_KIND[status],
        status=status,
        placed_at=R.timestamp(body, "PurchaseDate", at),
        store_id=_pickup_store(body, at),
        currency=currency,
        references=references(body, at, amazon_id),
        customer=customer(body, at),
        shipping_address=address(body, at),
        payments=_payments(body, at, amazon_id, status=status, total=total),
        totals=Totals(total=total) if total is not None else None,
        original_order_id=f"amz-{replaced}" if replaced else None,
    )


def _status(body: dict[str, Any], at: str) -> OrderStatus:
    raw = R.text(body, "OrderStatus", at, required=True)
    if raw not in STATUS:
        R.fail("invalid_value", join(at, "OrderStatus"), f"unknown OrderStatus {raw!r}")
    status = STATUS[raw or ""]
    if R.text(body, "EasyShipShipmentStatus", at) == "Delivered" and status in _CHARGED:
        return OrderStatus.DELIVERED
    return status


def _pickup_store(body: dict[str, Any], at: str) -> str | None:
    if body.get("IsISPU") is not True:
        return None
    instruction = R.mapping(R.field(body, "FulfillmentInstruction", at) or {}, join(at, "FulfillmentInstruction"))
    return R.ident(instruction, "FulfillmentSupplySourceId", join(at, "FulfillmentInstruction"))


def references(body: dict[str, Any], at: str, amazon_id: str) -> tuple[OrderReference, ...]:
    refs = order_refs(body, at, amazon_id)
    buyer = R.mapping(R.field(body, "BuyerInfo", at) or {}, join(at, "BuyerInfo"))
    purchase_order = R.ident(buyer, "PurchaseOrderNumber", join(at, "BuyerInfo"))
    if purchase_order:
        refs.append(OrderReference(kind=ReferenceKind.B2B_PURCHASE_ORDER, value=purchase_order))
    return tuple(refs)


def _payments(body: dict[str, Any], at: str, amazon_id: str, *, status: OrderStatus, total: Any) -> tuple[Payment, ...]:
    details = R.field(body, "PaymentMethodDetails", at) or []
    if not isinstance(details, list) or not all(isinstance(d, str) for d in details):
        R.fail("invalid_type", join(at, "PaymentMethodDetails"), "expected a list of strings")
    executions = R.objects(body, "PaymentExecutionDetail", at)
    brand = next((R.text(item, "CardBrand", loc) for loc, item in executions if item.get("CardBrand")), None)
    method = R.text(body, "PaymentMethod", at) or (details[0] if details else None)
    if method is None and brand is None and total is None:
        return ()
    amounts = {"captured": total} if status in _CHARGED else {"authorized": total} if status in _AUTHORIZED else {}
    return (Payment(payment_id=f"amz-{amazon_id}", method=method, brand=brand, **amounts),)
