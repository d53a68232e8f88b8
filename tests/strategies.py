"""Hypothesis strategies for canonical change events of a few orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from order_domain.model import (
    Channel,
    ChangeKind,
    CustomerIdentity,
    FulfillmentType,
    LineStatus,
    LinkRelation,
    OrderChange,
    OrderLine,
    OrderLink,
    OrderReference,
    OrderStatus,
    Payment,
    ReferenceKind,
    ReturnLink,
    Shipment,
    Totals,
)

BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2, allow_nan=False)
small_ids = st.sampled_from(["1", "2", "3"])
optional = lambda strategy: st.none() | strategy  # noqa: E731

lines = st.builds(
    OrderLine, line_id=small_ids, sku=optional(st.sampled_from(["SKU-1", "SKU-2", "SKU-3"])),
    quantity=optional(st.integers(0, 5)), unit_price=optional(money), status=optional(st.sampled_from(LineStatus)),
    fulfillment_type=optional(st.sampled_from(FulfillmentType)),
)
shipments = st.builds(
    Shipment, shipment_id=small_ids, carrier=optional(st.sampled_from(["UPS", "DHL"])),
    tracking_number=optional(st.sampled_from(["1Z001", "1Z002", "JD0003"])),
)
payments = st.builds(
    Payment, payment_id=small_ids, brand=optional(st.sampled_from(["visa", "mastercard"])),
    last4=optional(st.sampled_from(["4242", "0005"])), captured=optional(money), refunded=optional(money),
)
returns = st.builds(ReturnLink, return_id=small_ids, channel=optional(st.sampled_from(Channel)),
                    status=optional(st.sampled_from(["requested", "received", "refunded"])),
                    exchange_order_id=optional(st.sampled_from(["o-8", "o-9"])))
links = st.builds(OrderLink, order_id=st.sampled_from(["o-8", "o-9"]), relation=st.sampled_from(LinkRelation),
                  return_id=optional(small_ids))
customers = st.builds(
    CustomerIdentity, email=optional(st.sampled_from(["a@x.com", "B@X.com"])),
    phone=optional(st.sampled_from(["(555) 010-2030", "+1 555 010 9999"])),
    loyalty_id=optional(st.sampled_from(["L1", "L2"])),
)


@st.composite
def changes(draw: st.DrawFn, order_ids: tuple[str, ...] = ("o-1",)) -> OrderChange:
    return OrderChange(
        event_id=f"e{draw(st.integers(0, 10_000_000))}",
        order_id=draw(st.sampled_from(order_ids)),
        channel=draw(st.sampled_from(Channel)),
        source="test",
        kind=draw(st.sampled_from(ChangeKind)),
        occurred_at=BASE_TIME + timedelta(minutes=draw(st.integers(0, 30))),
        source_version=draw(optional(st.integers(0, 5))),
        status=draw(optional(st.sampled_from(OrderStatus))),
        store_id=draw(optional(st.sampled_from(["s1", "s2"]))),
        currency=draw(optional(st.sampled_from(["USD", "EUR"]))),
        references=tuple(draw(st.lists(st.builds(OrderReference, kind=st.sampled_from(ReferenceKind),
                                                  value=st.sampled_from(["R1", "R2"])), max_size=2))),
        customer=draw(optional(customers)),
        lines=tuple(draw(st.lists(lines, max_size=3))),
        shipments=tuple(draw(st.lists(shipments, max_size=2))),
        payments=tuple(draw(st.lists(payments, max_size=2))),
        returns=tuple(draw(st.lists(returns, max_size=1))),
        totals=draw(optional(st.builds(Totals, total=optional(money), tax=optional(money)))),
        original_order_id=draw(optional(st.sampled_from(["o-8", "o-9"]))),
        linked_orders=tuple(draw(st.lists(links, max_size=1))),
    )


def unique_event_ids(events: list[OrderChange]) -> list[OrderChange]:
    """A real source never reuses an event id for different content; keep the first of each."""
    seen: dict[str, OrderChange] = {}
    for event in events:
        seen.setdefault(event.event_id, event)
    return list(seen.values())
