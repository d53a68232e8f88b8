"""Decoder options: the few facts about the retailer that a native format does not carry. Pure.

Decoders never read settings; the entry point builds one `DecoderOptions` from
configuration and passes it to `ingest.decoders.decode`. The default (no
configuration) is safe: nothing is guessed, so a POSLog timestamp without a UTC
offset from a store with no configured time zone is rejected with a reason
(dead-lettered, replayable once configured) instead of being read as UTC.

- ``pos_default_tz``: IANA zone for POS timestamps without an offset
  (``ORDERREPO_POS_DEFAULT_TZ``);
- ``pos_store_tz``: per-store override, store id -> IANA zone
  (``ORDERREPO_POS_STORE_TZ``, a JSON object);
- ``store_locations``: channel location ids that are retail stores
  (``ORDERREPO_STORE_LOCATIONS``): a Shopify fulfillment or Amazon supply source
  at one of them is ship-from-store, anything else ships from a warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cached_property
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class DecoderOptions:
    """Configuration a decoder needs; immutable, validated once when built."""

    pos_default_tz: str | None = None
    pos_store_tz: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    store_locations: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for zone in [self.pos_default_tz, *self.pos_store_tz.values()]:
            if zone is not None:
                _zone(zone)  # fail at start-up, not on the first message

    @cached_property
    def _zones(self) -> dict[str, tzinfo]:
        return {store: _zone(name) for store, name in self.pos_store_tz.items()}

    def store_tz(self, store_id: str) -> tzinfo | None:
        """The time zone of `store_id`: its own setting, else the default, else None (unknown)."""
        zone = self._zones.get(store_id)
        if zone is not None:
            return zone
        return _zone(self.pos_default_tz) if self.pos_default_tz else None

    def is_store_location(self, location_id: str | None) -> bool:
        return location_id is not None and location_id in self.store_locations


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


DEFAULT_OPTIONS = DecoderOptions()
