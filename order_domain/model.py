"""Canonical order model and canonical change event (pure: standard library + pydantic).

Every channel adapter decodes its native payload into `OrderChange` events; the
merge folds them into one `Order` per global order id. An `OrderChange` is a
*partial* order: every field it leaves as ``None`` (or an empty list) says
"this event does not speak about that field", so the merge can apply it as a
per-field patch in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_timezone(value: datetime) -> datetime:
    """Aware and normalised to UTC, so equal instants compare and serialise equally."""
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone offset (e.g. 2026-03-01T10:00:00Z)")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_timezone)]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=4)]
NonEmptyStr = Annotated[str, Field(min_length=1, max_length=256)]


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    STORE = "store"
    CALL_CENTER = "call_center"
    MARKETPLACE = "marketplace"
    B2B = "b2b"


class OrderStatus(StrEnum):
    """Order lifecycle; the merge keeps the highest-ranked status it has seen."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELLED = "cancelled"


STATUS_RANK: dict[OrderStatus, int] = {status: rank for rank, status in enumerate(OrderStatus)}
CLOSED_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.CANCELLED}
)


class FulfillmentType(StrEnum):
    SHIP_TO_HOME = "ship_to_home"
    BOPIS = "buy_online_pickup_in_store"
    SHIP_FROM_STORE = "ship_from_store"
    CURBSIDE = "curbside"
    CARRY_OUT = "carry_out"


class LineStatus(StrEnum):
    OPEN = "open"
    ALLOCATED = "allocated"
    PICKED = "picked"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    RETURNED = "returned"
    CANCELLED = "cancelled"


LINE_STATUS_RANK: dict[LineStatus, int] = {status: rank for rank, status in enumerate(LineStatus)}


class ReferenceKind(StrEnum):
    GLOBAL_ID = "global_id"
    WEB_ORDER_NUMBER = "web_order_number"
    APP_ORDER_NUMBER = "app_order_number"
    POS_RECEIPT = "pos_receipt"
    MARKETPLACE_ORDER_ID = "marketplace_order_id"
    CALL_CENTER_TICKET = "call_center_ticket"
    B2B_PURCHASE_ORDER = "b2b_purchase_order"
    TRACKING_NUMBER = "tracking_number"
    SOURCE_ORDER_ID = "source_order_id"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    LINES_CHANGED = "lines_changed"
    FULFILLMENT = "fulfillment"
    PAYMENT = "payment"
    RETURN = "return"
    CANCELLED = "cancelled"
    CUSTOMER_LINKED = "customer_linked"
    ADDRESS_CHANGED = "address_changed"
    HEARTBEAT = "heartbeat"
    LINKED = "linked"


class LinkRelation(StrEnum):
    """How another order relates to this one (see `order_domain.timeline.link_changes`)."""

    REPLACED_BY = "replaced_by"  # the other order names this one as its original (a replacement)
    EXCHANGE_FOR = "exchange_for"  # this order is the exchange for a return of the other order


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OrderReference(CanonicalModel):
    kind: ReferenceKind
    value: NonEmptyStr


class CustomerIdentity(CanonicalModel):
    """Who placed the order; every field optional because POS sales may be anonymous."""

    customer_id: NonEmptyStr | None = None
    email: NonEmptyStr | None = None
    phone: NonEmptyStr | None = None
    loyalty_id: NonEmptyStr | None = None
    name: NonEmptyStr | None = None
    card_token: NonEmptyStr | None = Field(
        default=None, description="Opaque payment-card token (never a PAN); hashed for linking."
    )


class Address(CanonicalModel):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class OrderLine(CanonicalModel):
    """A line patch: fields left None are not changed by this event."""

    line_id: NonEmptyStr
    sku: NonEmptyStr | None = None
    name: str | None = None
    quantity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    unit_price: Money | None = None
    status: LineStatus | None = None
    fulfillment_type: FulfillmentType | None = None
    store_id: NonEmptyStr | None = None


class ShipmentLine(CanonicalModel):
    """How many units of one order line travel in one shipment (a line may ship in parts)."""

    line_id: NonEmptyStr
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]


class Shipment(CanonicalModel):
    shipment_id: NonEmptyStr
    carrier: str | None = None
    tracking_number: str | None = None
    status: str | None = None
    origin: str | None = Field(default=None, description="Store id or DC that ships it.")
    line_ids: tuple[str, ...] | None = None
    lines: tuple[ShipmentLine, ...] | None = Field(
        default=None, description="Per-line quantities in this shipment, when the channel says them."
    )
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None


class Payment(CanonicalModel):
    """Masked payment: brand and last four digits only, never a card number."""

    payment_id: NonEmptyStr
    method: str | None = None
    brand: str | None = None
    last4: Annotated[str, Field(pattern=r"^\d{4}$")] | None = None
    authorized: Money | None = None
    captured: Money | None = None
    refunded: Money | None = None


class ReturnLink(CanonicalModel):
    """A return or exchange, linked to the original order even across channels."""

    return_id: NonEmptyStr
    channel: Channel | None = None
    status: str | None = None
    line_ids: tuple[str, ...] | None = None
    refund_amount: Money | None = None
    exchange_order_id: str | None = None
    store_id: str | None = None


class OrderLink(CanonicalModel):
    """A link to another order that the *other* order's events made (set semantics)."""

    order_id: NonEmptyStr
    relation: LinkRelation
    return_id: str | None = None


class Totals(CanonicalModel):
    subtotal: Money | None = None
    tax: Money | None = None
    shipping: Money | None = None
    discount: Money | None = None
    total: Money | None = None


class OrderChange(CanonicalModel):
    """One change to one order, as any channel reports it (the ingest contract)."""

    event_id: NonEmptyStr = Field(description="Unique and stable per source event; replays reuse it.")
    order_id: NonEmptyStr = Field(description="Global order id; also the Kafka message key.")
    channel: Channel
    source: NonEmptyStr = Field(description="Adapter or system that produced the event.")
    kind: ChangeKind
    occurred_at: AwareDatetime
    source_version: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="The source's own monotonic version of the order, if it has one."
    )
    actor: str | None = None
    status: OrderStatus | None = None
    placed_at: AwareDatetime | None = None
    store_id: str | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    references: tuple[OrderReference, ...] = ()
    customer: CustomerIdentity | None = None
    shipping_address: Address | None = None
    lines: tuple[OrderLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    payments: tuple[Payment, ...] = ()
    returns: tuple[ReturnLink, ...] = ()
    totals: Totals | None = None
    original_order_id: str | None = Field(
        default=None, description="Set on an exchange/replacement order: the order it replaces."
    )
    linked_orders: tuple[OrderLink, ...] = Field(
        default=(), description="Links made by another order's event (derived, never sent by a channel)."
    )


class Stamp(CanonicalModel):
    """Total order over events: later occurred_at wins, then source_version, then event_id."""

    occurred_at: AwareDatetime
    source_version: int = 0
    event_id: str

    def key(self) -> tuple[datetime, int, str]:
        return (self.occurred_at, self.source_version, self.event_id)


class Order(BaseModel):
    """Current state of one order: the document stored in the `orders` index."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    channel: Channel | None = None
    channels_seen: list[Channel] = Field(default_factory=list)
    status: OrderStatus = OrderStatus.PENDING
    status_history: dict[OrderStatus, datetime] = Field(
        default_factory=dict, description="Earliest time each status was reported: answers 'as of' questions."
    )
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    store_id: str | None = None
    currency: str | None = None
    references: list[OrderReference] = Field(default_factory=list)
    customer: CustomerIdentity = Field(default_factory=CustomerIdentity)
    identity_keys: list[str] = Field(default_factory=list)
    shipping_address: Address | None = None
    lines: list[OrderLine] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    returns: list[ReturnLink] = Field(default_factory=list)
    totals: Totals = Field(default_factory=Totals)
    original_order_id: str | None = None
    linked_orders: list[OrderLink] = Field(default_factory=list)
    stamps: dict[str, Stamp] = Field(
        default_factory=dict, description="Per-field last-writer stamps that make the merge order-free."
    )

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
