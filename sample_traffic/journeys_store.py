"""Store and marketplace journeys: POSLog receipts and Amazon SP-API polls. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sample_traffic import amazon_out as az
from sample_traffic import canonical_out as co
from sample_traffic import poslog_out as pl
from sample_traffic.catalog import PRODUCTS, Product
from sample_traffic.drafts import Draft, Item, draft, later, line_count, parcels
from sample_traffic.journeys_base import Ctx, Timeline
from order_domain.model import Channel

ANONYMOUS_RATE = 0.3
CLAIM_RATE = 0.35


def _cashier(ctx: Ctx) -> str:
    return f"cashier-{ctx.rng.randrange(1, 40):02d}"


def _sale_doc(ctx: Ctx, d: Draft, receipt: pl.Receipt, *, anonymous: bool, void: bool = False) -> bytes:
    c = d.customer
    body = "".join(pl.sale_line(n, item, void=void) for n, item in enumerate(d.items, start=1))
    card = (c.card_brand, c.card_last4) if c and d.style != 2 else None  # style 2 pays cash
    body += pl.tender(len(d.items) + 1, pl.with_tax(d.subtotal), card)
    if c and not anonymous:
        body += pl.customer(c.loyalty_id, None if c.loyalty_id and d.style % 2 else c.customer_id)
    return pl.document(receipt, body + pl.totals(d.subtotal), operator=_cashier(ctx), cancel=void)


def sale(ctx: Ctx, placed: datetime, journey: str) -> tuple[Timeline, Draft, pl.Receipt]:
    """A carry-out sale; 30 % anonymous, a third of those later claimed in the app by loyalty id."""
    seq = ctx.next_seq()
    d = draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.person(),
              line_ids=[str(n) for n in range(1, line_count(ctx.rng) + 1)])
    receipt = pl.Receipt(d.store, f"{1 + seq % 6:02d}", str(seq), placed, later(placed, ctx.rng, 0.02, 0.1))
    anonymous = ctx.rng.random() < ANONYMOUS_RATE
    tl = Timeline(journey)
    tl.native(receipt.end, Channel.STORE, receipt.order_id, _sale_doc(ctx, d, receipt, anonymous=anonymous),
              creates=True)
    c = d.customer
    if anonymous and c is not None and c.loyalty_id and ctx.rng.random() < CLAIM_RATE:
        src = co.Source(receipt.order_id, "app", "mobile-app-receipts")
        tl.canonical(src, Channel.APP, later(receipt.end, ctx.rng, 0.5, 24 * 7), "customer_linked",
                     customer={"customer_id": c.customer_id, "loyalty_id": c.loyalty_id, "email": c.email},
                     references=[{"kind": "pos_receipt", "value": receipt.receipt}])
    return tl, d, receipt


def store_sale(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    return sale(ctx, placed, journey)[0]


def post_void(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """A sale voided at the register minutes later: the same transaction resent with CancelFlag."""
    tl, d, receipt = sale(ctx, placed, journey)
    voided = pl.Receipt(receipt.store, receipt.workstation, receipt.sequence, receipt.begin,
                        later(receipt.end, ctx.rng, 0.02, 0.2))
    doc = _sale_doc(ctx, d, voided, anonymous=True, void=True)
    tl.native(voided.end, Channel.STORE, voided.order_id, doc)
    return tl


def exchange(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Size swap in a store: one transaction returns the line (linked by receipt) and sells its swap."""
    tl, d, original = sale(ctx, placed, journey)
    back = d.items[0]
    swap = Item("2", _sibling(back.product.sku), back.quantity)
    begin = later(original.end, ctx.rng, 24, 24 * 25)
    seq = ctx.next_seq()
    receipt = pl.Receipt(original.store, f"{1 + seq % 6:02d}", str(seq), begin, later(begin, ctx.rng, 0.02, 0.1))
    difference = swap.extended - back.extended
    c = d.customer
    body = pl.return_line(1, Item("1", back.product, back.quantity), pl.link_to_receipt(original, back.line_id))
    body += pl.sale_line(2, swap)
    if difference:
        card = (c.card_brand, c.card_last4) if c else None
        body += pl.tender(3, pl.with_tax(abs(difference)), card, refund=difference < 0)
    body += pl.customer(c.loyalty_id if c else None) + pl.totals(difference)
    doc = pl.document(receipt, body, operator=_cashier(ctx))
    tl.native(receipt.end, Channel.STORE, receipt.order_id, doc, creates=True)
    return tl


def _sibling(sku: str) -> Product:
    """Another size of the same garment (or the same product again for goods without sizes)."""
    stem = sku.rsplit("-", 1)[0]
    options = [p for p in PRODUCTS if p.sku.startswith(stem + "-") and p.sku != sku]
    return options[len(sku) % len(options)] if options else next(p for p in PRODUCTS if p.sku == sku)


def marketplace(ctx: Ctx, placed: datetime, journey: str) -> Timeline:
    """Amazon: Pending -> Unshipped -> (PartiallyShipped ->) Shipped, or Pending -> Canceled, as polled."""
    seq = ctx.next_seq()
    d = draft(ctx.rng, seq=seq, journey=journey, placed_at=placed, customer=ctx.person(),
              line_ids=[str(10**13 + seq * 8 + n) for n in range(line_count(ctx.rng))])
    amazon_id = az.amazon_order_id(ctx.rng, seq)
    key, afn, wrap = f"amz-{amazon_id}", ctx.rng.random() < 0.5, d.style % 2 == 0
    tl = Timeline(journey)

    def order(status: str, at: datetime, units: int) -> None:
        value = az.get_order(d, amazon_id, status, at, at + timedelta(minutes=2), shipped_units=units,
                             afn=afn, wrap=wrap)
        tl.native(at, Channel.MARKETPLACE, key, value, creates=status == "Pending")

    def items(at: datetime, shipped: dict[str, int]) -> None:
        tl.native(at, Channel.MARKETPLACE, key, az.get_order_items(d, amazon_id, shipped, at, wrap=wrap))

    order("Pending", placed + timedelta(seconds=40), 0)
    items(placed + timedelta(minutes=3), {})
    if journey == "cancelled":
        order("Canceled", later(placed, ctx.rng, 0.2, 20), 0)
        return tl
    confirmed = later(placed, ctx.rng, 0.3, 4)
    order("Unshipped", confirmed, 0)
    shipped: dict[str, int] = {}
    plan = parcels(ctx.rng, d.items, confirmed, split=ctx.rng.random() < 0.3)
    for parcel in plan:
        shipped.update({item.line_id: item.quantity for item in parcel.items})
        units = sum(shipped.values())
        order("Shipped" if parcel is plan[-1] else "PartiallyShipped", parcel.shipped_at, units)
        items(parcel.shipped_at + timedelta(minutes=5), dict(shipped))
    return tl
