"""A skewed customer pool whose members are derived, not stored. Pure.

Customer `i` is a function of (seed, i), so a pool of any size costs no memory
(a small LRU cache keeps hot customers cheap). Picking `floor(N * u**2)` gives
a Pareto-like skew: with N = 0.4 x orders, most customers get 1-3 orders while
the lowest indices get hundreds (the "very long histories" CSRs search).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from sample_traffic.catalog import CARD_BRANDS

_FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
          "Radia", "Tim", "Katherine", "John", "Hedy", "Donald", "Sophie", "Guido", "Annie", "Niklaus",
          "María", "José", "Aiko", "Chen", "Priya", "Olu", "Zoë", "Mateo", "Fatima", "Lars"]
_LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
         "Dijkstra", "Perlman", "Berners-Lee", "Johnson", "McCarthy", "Lamarr", "Knuth", "Wilson", "van Rossum",
         "Easley", "Wirth", "García", "Núñez", "Tanaka", "Wei", "Raman", "Adeyemi", "O'Brien", "Fernández",
         "Haddad", "Nilsson"]
_STREETS = ["Analytical Way", "Babbage Ave", "Compiler Ct", "Difference Rd", "Engine St", "Kernel Blvd",
            "Lambda Ln", "Oak St", "Maple Ave", "Pine Rd", "Cedar Ct", "Elm St"]
_CITIES = [("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
           ("Denver", "CO", "802"), ("Columbus", "OH", "432"), ("Raleigh", "NC", "276"),
           ("Madison", "WI", "537"), ("Boise", "ID", "837"), ("Sacramento", "CA", "958"), ("Albany", "NY", "122")]
_DOMAINS = ["example.com", "example.org", "example.net", "mail.example"]
_COMPANIES = ["Acme Outfitters", "Globex Supply", "Initech Facilities", "Umbrella Hospitality",
              "Stark Field Services", "Wayne Property Group", "Hooli Campus Services", "Vandelay Imports"]


@dataclass(frozen=True)
class Customer:
    index: int
    first: str
    last: str
    email: str
    phone: str  # ten digits, area code 555
    loyalty_id: str | None
    line1: str
    city: str
    region: str
    postal_code: str
    card_brand: str
    card_last4: str
    id_prefix: str = "C"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}" if self.last else self.first

    @property
    def customer_id(self) -> str:
        return f"{self.id_prefix}-{self.index:07d}"


def pick_index(rng: random.Random, pool: int) -> int:
    return int(pool * rng.random() ** 2)


def phone_as(customer: Customer, style: int) -> str:
    """The same number written the ways real channels write it (identity must normalise them)."""
    d = customer.phone
    return ("(%s) %s-%s" % (d[:3], d[3:6], d[6:]), "+1 %s %s %s" % (d[:3], d[3:6], d[6:]), d,
            "+1%s" % d, "%s-%s-%s" % (d[:3], d[3:6], d[6:]))[style % 5]


@lru_cache(maxsize=8192)
def customer(seed: int, index: int) -> Customer:
    """Customer `index` of the pool for `seed`: same inputs, same person, on every channel."""
    rng = random.Random(seed * 7_919_000_003 + index)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, region, zip3 = rng.choice(_CITIES)
    local = (f"{_ascii(first)}.{_ascii(last)}", f"{_ascii(first)[0]}{_ascii(last)}",
             f"{_ascii(last)}.{_ascii(first)}")[index % 3].lower() + str(index)  # the index keeps it unique
    return Customer(
        index=index, first=first, last=last,
        email=f"{local}@{rng.choice(_DOMAINS)}" if rng.random() > 0.05 else f"{local.upper()}@EXAMPLE.COM",
        phone=_phone(index),
        loyalty_id=f"LOY-{index:08d}" if rng.random() < 0.55 else None,
        line1=f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
        city=city, region=region, postal_code=f"{zip3}{rng.randrange(100):02d}",
        card_brand=rng.choice(CARD_BRANDS), card_last4=f"{rng.randrange(10_000):04d}",
    )


@lru_cache(maxsize=1024)
def company(seed: int, index: int) -> Customer:
    """A B2B account: a company with a purchasing contact, a few of which reorder constantly."""
    rng = random.Random(seed * 104_729 + index + 17)
    name = f"{_COMPANIES[index % len(_COMPANIES)]}" + (f" #{index // len(_COMPANIES) + 1}" if index >= 8 else "")
    city, region, zip3 = rng.choice(_CITIES)
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
    return Customer(
        index=index, first=name, last="", email=f"purchasing@{slug}.example",
        phone=_phone(9_000_000 + index), loyalty_id=None,
        line1=f"{rng.randrange(100, 9999)} Commerce Pkwy", city=city, region=region,
        postal_code=f"{zip3}{rng.randrange(100):02d}", card_brand="Invoice", card_last4="0000", id_prefix="ACCT",
    )


def _phone(index: int) -> str:
    """Ten digits, area code 555; a bijection of the index, so no two customers share a number."""
    return f"555{(index * 7_919 + 1_020_304) % 10**7:07d}"


def _ascii(text: str) -> str:
    table = str.maketrans("áéíóúñëöüÁÉÍÓÚÑ", "aeiouneouAEIOUN", "' -")
    return text.translate(table)
