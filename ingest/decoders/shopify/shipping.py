"""Shopify Fulfillment -> canonical shipment and the line statuses it proves. Pure.

Fulfillment ``status`` (every documented value): ``success`` ships its lines;
``pending`` and ``open`` (deprecated: not yet shipped), ``cancelled``, ``error``
and ``failure`` record the shipment with that status and never mark anything
shipped. ``shipment_status`` is the carrier's word (label_printed,
label_purchased, confirmed, in_transit, out_for_delivery, attempted_delivery,
ready_for_pickup, delivered, failure...); ``delivered`` sets delivered_at and
delivers the lines. Per-shipment quantities are kept (`Shipment.lines`); a line
is shipped unless the fulfillment says the line is still incomplete (line
``fulfillment_status`` partial or ``fulfillable_quantity`` above 0), so a B2B line
shipped in three parts stays open until its last part leaves. A fulfillment from
a location configured as a store (`DecoderOptions.store_locations`) makes its
lines ship_from_store.
"""

from __future__ import annotations

from typing import Any

from ingest.decoders.options import DecoderOptions
from ingest.decoders.shopify.parts import R, tracking_numbers
from order_domain.model import (
    FulfillmentType,
    LineStatus,
    OrderLine,
    Shipment,
    ShipmentLine,
)

STATUSES = frozenset({"pending", "open", "success", "cancelled", "error", "failure"})


def status_of(fulfillment: dict[str, Any], at: str) -> str:
    status = R.text(fulfillment, "status", at) or "success"
    if status not in STATUSES:
        R.fail("invalid_value", f"{at}.status", f"unknown fulfillment status {status!r}")
    return status


def shipment(fulfillment: dict[str, Any], at: str) -> Shipment:
    status = status_of(fulfillment, at)
    carrier_status = R.text(fulfillment, "shipment_status", at)
    numbers = tracking_numbers(fulfillment, at)
    updated = R.timestamp(fulfillment, "updated_at", at)
    items = [(loc, item) for loc, item in R.objects(fulfillment, "line_items", at)]
    delivered = status == "success" and carrier_status == "delivered"
    return Shipment(
        shipment_id=R.ident(fulfillment, "id", at, required=True) or "",
        carrier=R.text(fulfillment, "tracking_company", at),
        tracking_number=numbers[0] if numbers else None,
        status=(carrier_status or status) if status == "success" else status,
        origin=R.ident(fulfillment, "location_id", at),
        line_ids=tuple(R.ident(item, "id", loc, required=True) or "" for loc, item in items),
        lines=tuple(
            ShipmentLine(line_id=R.ident(item, "id", loc, required=True) or "",
                         quantity=R.integer(item, "quantity", loc) or 0)
            for loc, item in items
        ),
        shipped_at=R.timestamp(fulfillment, "created_at", at) if status == "success" else None,
        delivered_at=updated if delivered else None,
    )


Progress = dict[str, tuple[LineStatus | None, FulfillmentType | None]]


def progress(fulfillment: dict[str, Any], at: str, options: DecoderOptions) -> Progress:
    """What a successful fulfillment proves per line: (shipped/delivered or None, ship_from_store or None)."""
    if status_of(fulfillment, at) != "success":
        return {}
    delivered = R.text(fulfillment, "shipment_status", at) == "delivered"
    from_store = options.is_store_location(R.ident(fulfillment, "location_id", at))
    found: Progress = {}
    for loc, item in R.objects(fulfillment, "line_items", at):
        remaining = R.integer(item, "fulfillable_quantity", loc) or 0
        complete = R.text(item, "fulfillment_status", loc) != "partial" and remaining == 0
        status = (LineStatus.DELIVERED if delivered else LineStatus.SHIPPED) if complete else None
        found[R.ident(item, "id", loc, required=True) or ""] = (
            status, FulfillmentType.SHIP_FROM_STORE if from_store else None)
    return found


def shipped_lines(fulfillment: dict[str, Any], at: str, options: DecoderOptions) -> list[OrderLine]:
    """Line patches a successful fulfillment proves: complete lines shipped (or delivered)."""
    return [OrderLine(line_id=line_id, status=status, fulfillment_type=kind)
            for line_id, (status, kind) in progress(fulfillment, at, options).items()]
