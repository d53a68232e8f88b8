"""Static sample data: products, stores, carriers, tracking numbers, money formatting. Pure.

Everything here is a constant table or a function of a caller-supplied
`random.Random`, so the generator stays reproducible from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta, timezone


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    cents: int


@dataclass(frozen=True)
class Store:
    store_id: str
    city: str
    region: str
    tz: timezone


_APPAREL = [("TEE", "Organic Cotton T-Shirt", 1900), ("HOOD", "Fleece Hoodie", 5400),
            ("JEAN", "Slim Fit Jeans", 6900), ("SOCK", "Merino Hiking Socks", 1600),
            ("JKT", "Packable Rain Jacket", 11900), ("CAP", "Canvas Baseball Cap", 2400)]
_COLORS = [("BLK", "Black"), ("NVY", "Navy"), ("GRY", "Heather Grey"), ("OLV", "Olive")]
_SIZES = ["S", "M", "L", "XL"]
_GOODS = [("MUG-001", "Enamel Camp Mug", 2000), ("BTL-750", "Insulated Bottle 750 ml", 3200),
          ("CNDL-CED", "Cedar Soy Candle", 2800), ("BLKT-WOOL", "Wool Throw Blanket", 8900),
          ("PAN-28", "Cast Iron Skillet 28 cm", 4500), ("KNF-CHEF", "Chef's Knife 20 cm", 7900),
          ("EARB-PRO", "Wireless Earbuds Pro", 12900), ("CHG-65W", "65W USB-C Charger", 3900),
          ("CBL-USBC", "USB-C Cable 2 m", 1299), ("LAMP-DSK", "LED Desk Lamp", 4999),
          ("BKPK-28", "Daypack 28 L", 7400), ("TENT-2P", "Two-Person Tent", 24900),
          ("COF-BEAN", "Whole Bean Coffee 1 kg", 2400), ("TEA-GRN", "Sencha Green Tea 100 g", 1150),
          ("NB-A5", "Dot Grid Notebook A5", 1450), ("PEN-GEL3", "Gel Pens, 3-pack", 899)]

PRODUCTS: tuple[Product, ...] = (
    *(Product(f"{code}-{color}-{size}", f"{name} ({color_name}, {size})", cents)
      for code, name, cents in _APPAREL for color, color_name in _COLORS for size in _SIZES),
    *(Product(sku, name, cents) for sku, name, cents in _GOODS),
)

_CITIES = [("Springfield", "IL", -6), ("Portland", "OR", -8), ("Austin", "TX", -6), ("Denver", "CO", -7),
           ("Columbus", "OH", -5), ("Raleigh", "NC", -5), ("Madison", "WI", -6), ("Boise", "ID", -7),
           ("Sacramento", "CA", -8), ("Albany", "NY", -5)]
STORES: tuple[Store, ...] = tuple(
    Store(f"store-{n:03d}", city, region, timezone(timedelta(hours=offset)))
    for n, (city, region, offset) in enumerate((c for _ in range(4) for c in _CITIES), start=1)
)
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")
CARD_BRANDS = ("Visa", "Visa", "Mastercard", "Mastercard", "American Express", "Discover")
_ALNUM = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def money(cents: int) -> str:
    """Cents as a decimal string with two places ("19.00"), the way every channel sends amounts."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def pick_product(rng: random.Random) -> Product:
    """Popularity skew: low indices (apparel basics) sell far more often than the long tail."""
    return PRODUCTS[int(len(PRODUCTS) * rng.random() ** 1.6)]


def pick_store(rng: random.Random) -> Store:
    return STORES[int(len(STORES) * rng.random() ** 1.3)]


def tracking_number(rng: random.Random, carrier: str) -> str:
    """Plausible shapes: UPS 1Z + 16, FedEx 12 digits, USPS 22 digits starting 9400, DHL 10 digits."""
    if carrier == "UPS":
        shipper = "".join(rng.choice(_ALNUM) for _ in range(6))
        return f"1Z{shipper}03{rng.randrange(10**8):08d}"
    if carrier == "FedEx":
        return f"{rng.randrange(10**11, 10**12)}"
    if carrier == "USPS":
        return f"9400{rng.randrange(10**18):018d}"
    return f"{rng.randrange(10**9, 10**10)}"
