"""Response models (separate from the stored document), so the OpenAPI spec documents every answer.

Every field is typed: no free-form objects in the public schema. The parts of an order
(references, lines, shipments, payments, returns, totals, address) answer in the canonical
model's own vocabulary (`order_domain.model`, the documented contract), so the two cannot
drift; the order itself, the customer and everything else are answer-only shapes. Money is
a decimal string, as stored (exact, never a binary float). `tier` says which tier answered.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from order_domain.model import (
    Address,
    Channel,
    OrderLine,
    OrderLink,
    OrderReference,
    OrderStatus,
    Payment,
    ReturnLink,
    Shipment,
    Totals,
)
from query_api.read_port import Tier


class ErrorBody(BaseModel):
    error: str = Field(examples=["bad_request"])
    detail: str = Field(examples=["page size must be between 1 and 100"])


ANSWER = ConfigDict(extra="ignore")  # stored documents may carry more than an answer shows


class ReferenceOut(OrderReference):
    model_config = ANSWER


class CustomerOut(BaseModel):
    """Identity for staff and the customer; analysts get only `pseudonym`."""

    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    loyalty_id: str | None = None
    pseudonym: str | None = Field(default=None, description="analysts: keyed pseudonym instead of identity")


class AddressOut(Address):
    model_config = ANSWER


class LineOut(OrderLine):
    model_config = ANSWER


class ShipmentOut(Shipment):
    model_config = ANSWER


class PaymentOut(Payment):
    """Masked: method, card brand and last four digits only (no card number is ever stored)."""

    model_config = ANSWER


class PaymentSummary(BaseModel):
    methods: list[str] = Field(default=[], examples=[["card"]])
    cards: list[str] = Field(default=[], description="brand and last four, masked",
                             examples=[["visa •••• 4242"]])
    authorized: Decimal = Decimal(0)
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    net: Decimal = Field(default=Decimal(0), description="captured minus refunded")


class ReturnOut(ReturnLink):
    model_config = ANSWER


class TotalsOut(Totals):
    model_config = ANSWER


class LinkedOrderOut(OrderLink):
    """Another order this one is linked to (a replacement, an exchange)."""


class OrderOut(BaseModel):
    order_id: str = Field(examples=["web-450123"])
    channel: Channel | None = None
    channels_seen: list[Channel] = []
    status: OrderStatus = Field(default=OrderStatus.PENDING, examples=["shipped"])
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    store_id: str | None = None
    currency: str | None = None
    references: list[ReferenceOut] = []
    customer: CustomerOut = CustomerOut()
    shipping_address: AddressOut | None = Field(default=None, description="not shown to analysts")
    lines: list[LineOut] = []
    shipments: list[ShipmentOut] = []
    payments: list[PaymentOut] = Field(default=[], description="masked; not shown to analysts")
    payment: PaymentSummary | None = Field(default=None, description="not shown to analysts")
    returns: list[ReturnOut] = []
    totals: TotalsOut = TotalsOut()
    original_order_id: str | None = None
    linked_orders: list[LinkedOrderOut] = Field(default=[], description="replacements and exchanges, both ways")
    indexed_at: datetime | None = Field(default=None, description="when this state became searchable (freshness)")
    tier: Tier = Field(default=Tier.HOT, description="storage tier that answered")


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    next_cursor: str | None = Field(default=None, description="pass as `cursor` to get the next page")


class SearchPage(OrderPage):
    facets: dict[str, dict[str, int]] = Field(default={}, description="facet -> value -> orders; first page only (later pages answer {})",
                                              examples=[{"channel": {"web": 12, "store": 3}}])


class ReferenceMatch(BaseModel):
    order_id: str
    channel: Channel | None = None
    store_id: str | None = None
    placed_at: datetime | None = None
    status: OrderStatus
    tier: Tier


class ReferenceMatches(BaseModel):
    """HTTP 300: the reference names several orders; fetch one by its `order_id`."""

    reference: str
    matches: list[ReferenceMatch]


Scalar = str | int | float | bool | None


class FieldChange(BaseModel):
    """What one significant change did to one field; only the member that fits the field is set."""

    path: str = Field(examples=["lines[].status"])
    category: str = Field(examples=["line_status"])
    value: Scalar = Field(default=None, description="new value of a plain field (status, original order)")
    values: list[str] = Field(default=[], description="new value of a list field (identity keys)")
    added: list[str] = Field(default=[], description="ids of the items added to a collection")
    items: dict[str, Scalar] = Field(default={}, description="item id -> new value of that item's field")
    address: AddressOut | None = Field(default=None, description="new shipping address")


class TimelineEntryOut(BaseModel):
    entry_id: str
    order_id: str
    occurred_at: datetime
    channel: str
    source: str
    kind: str
    actor: str | None = None
    categories: list[str]
    status_before: str | None = None
    status_after: str | None = None
    store_id: str | None = None
    changes: list[FieldChange] = []


class Timeline(BaseModel):
    order_id: str
    entries: list[TimelineEntryOut]
    tier: Tier


class SalesRowOut(BaseModel):
    period: str
    channel: str
    orders: int
    revenue: float


class SalesAnswer(BaseModel):
    interval: str
    rows: list[SalesRowOut]


class FulfillmentTimesOut(BaseModel):
    orders: int
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None


class FulfillmentAnswer(BaseModel):
    by_fulfillment_type: dict[str, FulfillmentTimesOut]


class ChannelRatesOut(BaseModel):
    orders: int
    cancelled: int
    cancellation_rate: float
    returned: int
    return_rate: float


class RatesAnswer(BaseModel):
    by_channel: dict[str, ChannelRatesOut]


class JourneyOut(BaseModel):
    bought_on: str
    returned_on: str
    orders: int


class JourneysAnswer(BaseModel):
    journeys: list[JourneyOut]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    engine: str | None = None
    version: str | None = None
    detail: str | None = None
