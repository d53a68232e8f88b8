"""Customer identity keys for the cross-channel (360°) view. Pure.

An order carries every identity key any of its events revealed (grow-only), so an
anonymous POS receipt that is later tied to a loyalty id joins that customer's
history retroactively: the key is added to the order, and history queries match
on keys.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from order_domain.model import CustomerIdentity

_NON_DIGITS = re.compile(r"\D+")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_phone(phone: str, default_country_code: str = "1") -> str | None:
    """Digits only, with a country code, so '(555) 010-2030' and '+1 555 010 2030' match."""
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) < 7:
        return None
    if len(digits) == 10:
        digits = default_country_code + digits
    return "+" + digits


def hash_card_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def identity_keys(customer: CustomerIdentity | None) -> list[str]:
    """Keys in a fixed order of strength: customer id, loyalty id, email, phone, card.

    Asked for every event by the merge and again by the write gate, and an order's events mostly
    repeat its customer: worked out once per distinct customer value (a bounded cache of the frozen,
    hashable identities), each caller gets its own list."""
    if customer is None:
        return []
    return list(_keys_of(customer))


@lru_cache(maxsize=8_192)
def _keys_of(customer: CustomerIdentity) -> tuple[str, ...]:
    keys: list[str] = []
    if customer.customer_id:
        keys.append(f"customer:{customer.customer_id}")
    if customer.loyalty_id:
        keys.append(f"loyalty:{customer.loyalty_id}")
    if customer.email:
        keys.append(f"email:{normalize_email(customer.email)}")
    if customer.phone and (phone := normalize_phone(customer.phone)):
        keys.append(f"phone:{phone}")
    if customer.card_token:
        keys.append(f"card:{hash_card_token(customer.card_token)}")
    return tuple(keys)
