"""Analyst pseudonyms of customer keys: keyed HMAC-SHA256, versioned, rotatable.

`pseudonym("email:ana@example.com")` -> `p1_<32 hex>`: the same key gives the same pseudonym
under one secret, so analysts can count and join per customer; without the secret nobody can
recompute it, so a dictionary of emails or phones reverses nothing (an unkeyed hash could be).
The prefix names the key version. Rotation (new ORDERREPO_API_PSEUDONYM_SECRET and
ORDERREPO_API_PSEUDONYM_KEY_VERSION + 1) changes every pseudonym: exports and audit entries made
before the rotation do not join those made after, and an old pseudonym can no longer be linked
to anyone by those who only hold the new secret (retire the old one to make that final).

The secret comes from settings; without one a random development secret is kept in the stack
home (mode 0600), unless ORDERREPO_ENV=production, which makes it an error. `configure_pseudonyms(settings)` sets the process-wide key at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from query_api.auth import development_secret
from settings import Settings, get_settings

_HEX_CHARS = 32  # 128 bits: no collisions among any realistic number of customers


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    version: int

    def pseudonym(self, value: str) -> str:
        digest = hmac.new(self.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"p{self.version}_{digest[:_HEX_CHARS]}"


def key_from_settings(settings: Settings) -> PseudonymKey:
    secret = settings.api_pseudonym_secret or development_secret(
        settings, "dev-pseudonym-secret", variable="ORDERREPO_API_PSEUDONYM_SECRET")
    return PseudonymKey(secret=secret.encode("utf-8"), version=settings.api_pseudonym_key_version)


_configured: list[PseudonymKey] = []


@lru_cache(maxsize=1)
def _from_environment() -> PseudonymKey:
    return key_from_settings(get_settings())


def configure_pseudonyms(settings: Settings) -> PseudonymKey:
    """Use this configuration's key from now on in this process (called by the API at start-up)."""
    key = key_from_settings(settings)
    _configured[:] = [key]
    return key


def current_key() -> PseudonymKey:
    return _configured[0] if _configured else _from_environment()


def pseudonym(value: str) -> str:
    """The current pseudonym of one customer key (e.g. `email:ana@example.com`)."""
    return current_key().pseudonym(value)
