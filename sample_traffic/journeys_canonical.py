"""Journeys told in the canonical format: app, call center, B2B, store clienteling (ship from store). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sample_traffic import canonical_out as co
from sample_traffic.canonical_out import Source
from sample_traffic.drafts import Draft, Item, draft, later, line_count, parcels
from sample_traffic.journeys_base import Ctx, Timeline
from order_domain.model import Channel

_SHIP, _BOPIS, _SFS = "ship_to_home", "buy_online_pickup_in_store", "ship_from_store"


def _numbered(count: int) -> list[str]:
    return [str(n) for n in range(1, count + 1)]


def app_source(seq: int) -> Source:
    return Source(f"app-{seq}", "app", "mobile-app", (("app_order_number", f"A{seq:08d}"),))


def cc_source(ctx: Ctx, seq: int) -> Source:
    actor = f"agent-{ctx.rng.randrange(100, 400)}"
    return Source(f"cc-{seq}", "call_center", "callcenter-crm", (("call_center_ticket", f"T-{seq}"),), actor)


def create(tl: Timeline, src: Source, topic: Channel, d: Draft, ftype: str, *, store_id: str | None = None,
           original: str | None = None, free: bool = False) -> None:
    """The creating event: the whole order as the producer knows it at placing time."""
    payments = [] if free else [co.card_payment(d, "pay-1", authorized=d.total)]
    tl.canonical(src, topic, d.placed_at, "created", status="confirmed", placed_at=co.iso(d.placed_at),
                 store_id=store_id, currency="USD", references=co.refs(src), customer=co.customer(d),
                 shipping_address=co.address(d) if ftype != _BOPIS else None,
                 lines=co.full_lines(d, ftype, store_id), payments=payments or None,
                 totals=co.totals(d, free=free), original_order_id=original)


def ship(tl: Timeline, ctx: Ctx, src: Source, topic: Channel, d: Draft, *, origin: str, free: bool = False,
         split_rate: float = 0.35) -> datetime:
    """Picking, payment capture, one or two parcels with tracking, deliveries; returns the last delivery."""
    picked = later(d.placed_at, ctx.rng, 0.5, 20)
    tl.canonical(src, topic, picked, "status_changed", status="in_progress", lines=co.line_status(d.items, "picked"))
    plan = parcels(ctx.rng, d.items, picked, split=ctx.rng.random() < split_rate)
    if not free:
        tl.canonical(src, topic, plan[0].shipped_at - timedelta(minutes=3), "payment",
                     status="in_progress", payments=[co.card_payment(d, "pay-1", captured=d.total)])
    for parcel in plan:
        last = parcel is plan[-1]
        tl.canonical(src, topic, parcel.shipped_at, "fulfillment",
                     status="shipped" if last else "partially_shipped", shipments=[co.shipment(parcel, origin)],
                     lines=co.line_status(parcel.items, "shipped"),
                     references=[{"kind": "tracking_number", "value": parcel.tracking}])
        tl.canonical(src, topic, parcel.delivered_at, "fulfillment",
                     status="delivered" if parcel.delivered_at >= max(p.delivered_at for p in plan) else None,
                     shipments=[co.shipment(parcel, origin, delivered=True)],
                     lines=co.line_status(parcel.items, "delivered"))
    return max(parcel.delivered_at for parcel in plan)


def pickup(tl: Timeline, ctx: Ctx, src: Source, topic: Channel, d: Draft) -> None:
    """BOPIS: picked in the store, ready for pickup, collected (payment captured at hand-over)."""
    picked = later(d.placed_at, ctx.rng, 0.3, 4)
    ready = later(picked, ctx.rng, 0.1, 1)
    collected = later(ready, ctx.rng, 1, 70)
    tl.canonical(src, topic, picked, "status_changed", status="in_progress", lines=co.line_status(d.items, "picked"))
    tl.canonical(src, topic, ready, "status_changed", status="ready_for_pickup")
    tl.canonical(src, topic, collected, "fulfillment", status="completed",
                 lines=co.line_status(d.items, "picked_up"),
                 payments=[co.card_payment(d, "pay-1", captured=d.total)])


def cancel(tl: Timeline, ctx: Ctx, src: Source, topic: Channel, d: Draft) -> None:
    at = later(d.placed_at, ctx.rng, 0.1, 30)
    tl.canonical(src, topic, at, "cancelled", status="cancelled", lines=co.line_status(d.items, "cancelled"),
                 payments=[co.card_payment(d, "pay-1", authorized=0)])


def canonical_order(ctx: Ctx, placed: datetime, journey: str, channel: Channel) -> Timeline:
    """App or call-center order: ship to home, pick up in store, or cancelled."""
    return _canonical_order(ctx, placed, journey, channel)[0]


def _canonical_order(ctx: Ctx, placed: datetime, journey: str,
                     channel: Channel) -> tuple[Timeline, Draft, Source, datetime | None]:
    seq = ctx.next_seq()
    src = app_source(seq) if channel is Channel.APP else cc_source(ctx, seq)
    d = draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.person(),
              line_ids=_numbered(line_count(ctx.rng)))
    tl = Timeline(journey)
    bopis = journey == "bopis"
    create(tl, src, channel, d, _BOPIS if bopis else _SHIP, store_id=d.store.store_id if bopis else None)
    delivered = None
    if journey == "cancelled":
        cancel(tl, ctx, src, channel, d)
    elif bopis:
        pickup(tl, ctx, src, channel, d)
    else:
        delivered = ship(tl, ctx, src, channel, d, origin=f"dc-{1 + seq % 3:02d}")
    return tl, d, src, delivered


def store_ship_to_home(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Endless aisle: an associate orders for a customer in the store; the store ships it to their home.

    POSLog can only say "carried out", so the clienteling app (canonical, app topic) reports it
    with channel store.
    """
    seq = ctx.next_seq()
    d = draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.person(),
              line_ids=_numbered(line_count(ctx.rng)))
    store = d.store.store_id
    day = placed.astimezone(d.store.tz).strftime("%Y%m%d")
    src = Source(f"pos-{store}-EA-{seq}-{day}", "store", "store-clienteling",
                 (("pos_receipt", f"{store}-EA-{seq}"),), f"associate-{ctx.rng.randrange(10, 99)}")
    tl = Timeline(journey)
    create(tl, src, Channel.APP, d, _SFS, store_id=store)
    ship(tl, ctx, src, Channel.APP, d, origin=store)
    return tl


def b2b_order(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Wholesale purchase order from the EDI gateway: cases of goods, freight in several ASNs, invoice."""
    seq = ctx.next_seq()
    src = Source(f"b2b-PO-{seq}", "b2b", "edi-gateway", (("b2b_purchase_order", f"PO-{seq}"),))
    d = draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.account(),
              line_ids=[str(10 * n) for n in range(1, line_count(ctx.rng) + 2)], bulk=True)
    tl = Timeline(journey)
    create(tl, src, Channel.B2B, d, _SHIP)
    delivered = ship(tl, ctx, src, Channel.B2B, d, origin="dc-01", free=True, split_rate=0.7)
    tl.canonical(src, Channel.B2B, later(delivered, ctx.rng, 24, 24 * 30), "payment",
                 payments=[co.card_payment(d, "pay-1", captured=d.total)])
    return tl


def return_and_replace(tl: Timeline, ctx: Ctx, original: str, d: Draft, delivered: datetime) -> None:
    """The customer calls: an item arrived damaged; the agent opens an RMA and sends a free replacement."""
    seq = ctx.next_seq()
    agent = cc_source(ctx, seq)
    about = Source(original, "call_center", "callcenter-rma", (), agent.actor)
    returned: tuple[Item, ...] = d.items[: 1 + int(ctx.rng.random() < 0.2)]
    call = later(delivered, ctx.rng, 6, 24 * 10)
    rma = {"return_id": f"RMA-{seq}", "channel": "call_center", "line_ids": [i.line_id for i in returned],
           "exchange_order_id": agent.order_id}
    status = "returned" if len(returned) == len(d.items) else "partially_returned"
    tl.canonical(about, Channel.CALL_CENTER, call, "return", status=status, returns=[{**rma, "status": "authorized"}])
    received = later(call, ctx.rng, 48, 24 * 12)
    tl.canonical(about, Channel.CALL_CENTER, received, "return", lines=co.line_status(returned, "returned"),
                 returns=[{**rma, "status": "received", "refund_amount": "0.00"}])
    items = tuple(Item(str(n), i.product, i.quantity) for n, i in enumerate(returned, start=1))
    replacement = Draft(seq=seq, journey=d.journey, placed_at=later(call, ctx.rng, 0.01, 0.1),
                        customer=d.customer, store=d.store, items=items, style=d.style)
    create(tl, agent, Channel.CALL_CENTER, replacement, _SHIP, original=original, free=True)
    ship(tl, ctx, agent, Channel.CALL_CENTER, replacement, origin="dc-01", free=True, split_rate=0)


def cc_return_replacement(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """A call-center order, delivered, then returned by phone and replaced by a linked free order."""
    tl, d, src, delivered = _canonical_order(ctx, placed, journey, Channel.CALL_CENTER)
    return_and_replace(tl, ctx, src.order_id, d, delivered or placed)
    return tl
