"""The channel-neutral plan of one order: what was bought, by whom, where, and how it ships. Pure.

Journeys decide *what happens* to a `Draft`; the native-format modules only
decide *how a channel writes it down*. Parcels are planned once per order so a
partial shipment looks the same whichever channel reports it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sample_traffic.catalog import CARRIERS, Product, Store, pick_product, pick_store, tracking_number
from sample_traffic.customers import Customer

TAX_RATE_BP = 825  # 8.25 % in basis points


@dataclass(frozen=True)
class Item:
    line_id: str
    product: Product
    quantity: int

    @property
    def extended(self) -> int:
        return self.product.cents * self.quantity


@dataclass(frozen=True)
class Parcel:
    """One shipment: which items, by which carrier, when it left and when it arrived."""

    number: int
    items: tuple[Item, ...]
    carrier: str
    tracking: str
    shipped_at: datetime
    delivered_at: datetime


@dataclass(frozen=True)
class Draft:
    seq: int
    journey: str
    placed_at: datetime
    customer: Customer | None
    store: Store
    items: tuple[Item, ...]
    shipping_cents: int = 0
    style: int = field(default=0, compare=False)  # how this order's channel formats phone numbers etc.

    @property
    def subtotal(self) -> int:
        return sum(item.extended for item in self.items)

    @property
    def tax(self) -> int:
        return self.subtotal * TAX_RATE_BP // 10_000

    @property
    def total(self) -> int:
        return self.subtotal + self.tax + self.shipping_cents


def draft(rng: random.Random, *, seq: int, journey: str, placed_at: datetime, customer: Customer | None,
          line_ids: list[str], bulk: bool = False) -> Draft:
    """Distinct products per line; B2B (`bulk`) buys cases of 24-2000 units."""
    products: dict[str, Product] = {}
    while len(products) < len(line_ids):
        product = pick_product(rng)
        products.setdefault(product.sku, product)
    quantities = [rng.choice((24, 48, 96, 120, 240, 500, 1000, 2000)) if bulk else 1 + int(rng.random() ** 4 * 3)
                  for _ in line_ids]
    items = tuple(Item(line_id, product, qty) for line_id, product, qty in zip(line_ids, products.values(), quantities))
    shipping = 0 if bulk or sum(i.extended for i in items) >= 5000 else rng.choice((599, 799, 999))
    return Draft(seq=seq, journey=journey, placed_at=placed_at, customer=customer, store=pick_store(rng),
                 items=items, shipping_cents=shipping, style=rng.randrange(5))


def line_count(rng: random.Random) -> int:
    return 1 + int(rng.random() ** 2.2 * 5)


def parcels(rng: random.Random, items: tuple[Item, ...], after: datetime, *, split: bool) -> list[Parcel]:
    """One parcel, or (when `split` and there are 2+ lines) two parcels days apart: a partial shipment."""
    groups = [items]
    if split and len(items) > 1:
        cut = rng.randrange(1, len(items))
        groups = [items[:cut], items[cut:]]
    planned: list[Parcel] = []
    shipped = after
    for number, group in enumerate(groups, start=1):
        shipped = later(shipped, rng, 5, 40) if number == 1 else later(shipped, rng, 20, 80)
        carrier = rng.choice(CARRIERS)
        delivered = later(shipped, rng, 20, 110)
        planned.append(Parcel(number, group, carrier, tracking_number(rng, carrier), shipped, delivered))
    return planned


def later(at: datetime, rng: random.Random, low_hours: float, high_hours: float) -> datetime:
    """A moment strictly after `at` (whole seconds, so payloads stay short and exact)."""
    return (at + timedelta(hours=rng.uniform(low_hours, high_hours), seconds=1)).replace(microsecond=0)
