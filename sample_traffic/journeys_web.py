"""Web journeys, told as Shopify webhooks (plus the store or call center where they cross channels). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sample_traffic import poslog_out as pl
from sample_traffic import shopify_out as sh
from sample_traffic.catalog import pick_store
from sample_traffic.drafts import Draft, Parcel, draft, later, line_count, parcels
from sample_traffic.journeys_base import Ctx, Timeline
from sample_traffic.journeys_canonical import return_and_replace
from order_domain.model import Channel


def _web_draft(ctx: Ctx, placed: datetime, journey: str) -> Draft:
    seq = ctx.next_seq()
    return draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.person(),
                 line_ids=sh.line_ids(seq, line_count(ctx.rng)))


def _key(d: Draft) -> str:
    return f"web-{sh.shop_order_id(d.seq)}"


def _send(tl: Timeline, ctx: Ctx, d: Draft, at: datetime, topic: str, body: dict, creates: bool = False) -> None:
    tl.native(at, Channel.WEB, _key(d), sh.envelope(ctx.rng, topic, body), creates=creates)


def _created(tl: Timeline, ctx: Ctx, d: Draft, *, pickup: bool = False) -> None:
    at = d.placed_at + timedelta(seconds=ctx.rng.randrange(1, 9))
    financial = "paid" if d.style in (0, 3) else "authorized"
    _send(tl, ctx, d, at, "orders/create", sh.order_body(d, at, financial=financial, pickup=pickup), creates=True)


def shipped(ctx: Ctx, placed: datetime, journey: str, *, split: bool, refund: bool) -> tuple[Timeline, Draft, datetime]:
    """Ship to home: each parcel is a fulfillments/create, an orders/updated and a delivered update."""
    tl, d = Timeline(journey), _web_draft(ctx, placed, journey)
    _created(tl, ctx, d)
    plan = parcels(ctx.rng, d.items, d.placed_at, split=split)
    for n, parcel in enumerate(plan, start=1):
        _send(tl, ctx, d, parcel.shipped_at, "fulfillments/create", sh.fulfillment_body(d, parcel, "confirmed"))
        at = later(parcel.shipped_at, ctx.rng, 0.01, 0.2)
        state = tuple((p, "delivered" if p.delivered_at <= at else "in_transit") for p in plan[:n])
        _send(tl, ctx, d, at, "orders/updated", sh.order_body(
            d, at, financial="paid", fulfillment="fulfilled" if n == len(plan) else "partial",
            shipped=state, captured=True))
        _send(tl, ctx, d, parcel.delivered_at, "fulfillments/update",
              sh.fulfillment_body(d, parcel, "delivered", at=parcel.delivered_at))
    delivered = max(p.delivered_at for p in plan)
    if refund:
        _refund(tl, ctx, d, plan, delivered)
    return tl, d, delivered


def _refund(tl: Timeline, ctx: Ctx, d: Draft, plan: list[Parcel], delivered: datetime) -> None:
    """An online return of one line: refunds/create, then the order shows partially_refunded."""
    at = later(delivered, ctx.rng, 24, 24 * 14)
    _send(tl, ctx, d, at, "refunds/create", sh.refund_body(d, d.items[-1], at))
    after = later(at, ctx.rng, 0.001, 0.05)
    state = tuple((p, "delivered") for p in plan)
    _send(tl, ctx, d, after, "orders/updated", sh.order_body(
        d, after, financial="partially_refunded", fulfillment="fulfilled", shipped=state, captured=True))


def ship_to_home(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    return shipped(ctx, placed, journey, split=ctx.rng.random() < 0.35, refund=ctx.rng.random() < 0.1)[0]


def bopis(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Buy online, pick up in store: a 'ready for pickup' fulfillment, then fulfilled at collection."""
    tl, d = Timeline(journey), _web_draft(ctx, placed, journey)
    _created(tl, ctx, d, pickup=True)
    ready = later(d.placed_at, ctx.rng, 0.5, 6)
    collected = later(ready, ctx.rng, 1, 72)
    handover = Parcel(1, d.items, "", "", ready, collected)
    _send(tl, ctx, d, ready, "fulfillments/create",
          sh.fulfillment_body(d, handover, "ready_for_pickup", pickup=True))
    _send(tl, ctx, d, collected, "orders/updated", sh.order_body(
        d, collected, financial="paid", fulfillment="fulfilled", shipped=((handover, "delivered"),),
        pickup=True, captured=True))
    return tl


def cancelled(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    tl, d = Timeline(journey), _web_draft(ctx, placed, journey)
    _created(tl, ctx, d)
    at = later(d.placed_at, ctx.rng, 0.05, 20)
    financial = "refunded" if d.style in (0, 3) else "voided"
    _send(tl, ctx, d, at, "orders/cancelled", sh.order_body(d, at, financial=financial, cancelled=True))
    return tl


def returned_in_store(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Bought online, brought back to a store: the POS return links the web order by its global id."""
    tl, d, delivered = shipped(ctx, placed, journey, split=False, refund=False)
    back = d.items[: 1 + int(ctx.rng.random() < 0.3 and len(d.items) > 1)]
    begin = later(delivered, ctx.rng, 24, 24 * 21)
    receipt = pl.Receipt(pick_store(ctx.rng), f"{ctx.rng.randrange(1, 8):02d}", str(ctx.next_seq()),
                         begin, later(begin, ctx.rng, 0.01, 0.08))
    net = sum(item.extended for item in back)
    c = d.customer
    card = (c.card_brand, c.card_last4) if c else None
    body = "".join(pl.return_line(n, item, pl.link_to_order(_key(d), item.line_id))
                   for n, item in enumerate(back, start=1))
    body += pl.tender(len(back) + 1, pl.with_tax(net), card, refund=True)
    body += pl.customer(c.loyalty_id if c else None) + pl.totals(-net)
    doc = pl.document(receipt, body, operator=f"cashier-{ctx.rng.randrange(1, 40):02d}")
    tl.native(receipt.end, Channel.STORE, receipt.order_id, doc)
    return tl


def call_center_return(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Bought online, damaged in transit: the call center returns it and sends a replacement order."""
    tl, d, delivered = shipped(ctx, placed, journey, split=False, refund=False)
    return_and_replace(tl, ctx, _key(d), d, delivered)
    return tl
