"""The read port: every question the API asks about orders, as one `OrderReader` protocol.

Routes only translate HTTP; what to read, how to filter and how to page lives behind
this port. Implementations:

- `query_api.engine_reader.EngineOrderReader`: one search engine index family (the hot
  tier today; the same class serves a warm index family);
- `tests.fakes.order_reader.FakeOrderReader`: the same answers over a list of order dicts;
- `query_api.tiered_reader.TieredOrderReader`: every tier (hot and warm indices, cold
  Parquet through the order locator) answering as one; the API's reader;
- a PostgreSQL reader for the benchmark implements the same protocol.

Guarantees every implementation keeps:
- storefront callers only ever get orders carrying one of their customer keys (the
  isolation is part of the read itself, never a post-filter);
- pages are ordered by a total sort key and `next_after` is the sort key of the last item,
  so a composite reader can page across tiers as one sorted sequence;
- every answer names the tier that served it (`Tier`);
- documents are in stored form without the stored-only fields (role shaping is done
  afterwards by `query_api.views`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from order_domain.merge import merge_all
from order_domain.timeline import event_set
from order_domain.model import Channel, OrderChange, OrderStatus
from order_domain.tier_policy import Tier  # the one tier enum; an answer names hot, warm or cold
from query_api.auth import Caller

MAX_REFERENCE_MATCHES = 50  # a reference shared by more orders than this is not a reference
SortKey = list[Any]
Interval = Literal["day", "week", "month"]


@dataclass(frozen=True)
class PageRequest:
    size: int
    after: SortKey | None = None


@dataclass(frozen=True)
class OrderFilter:
    channel: Channel | None = None
    status: OrderStatus | None = None
    store_id: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


@dataclass(frozen=True)
class TimelineFilter:
    channel: Channel | None = None
    store_id: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@dataclass(frozen=True)
class StoredOrder:
    document: dict[str, Any]
    tier: Tier


@dataclass(frozen=True)
class OrderHits:
    items: list[StoredOrder]
    total: int
    next_after: SortKey | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineHits:
    order_id: str
    entries: list[dict[str, Any]]
    tier: Tier


class SalesRow(TypedDict):
    """One row of a sales answer, a plain dict: an answer holds hundreds, and JSON writes dicts
    several times faster than it builds and writes dataclass instances."""

    period: str
    channel: str
    orders: int
    revenue: float


@dataclass(frozen=True)
class FulfillmentTimes:
    orders: int
    p50: float | None
    p90: float | None
    p99: float | None


@dataclass(frozen=True)
class ChannelRates:
    orders: int
    cancelled: int
    returned: int


@dataclass(frozen=True)
class Journey:
    bought_on: str
    returned_on: str
    orders: int


Pages = AsyncIterator[list[dict[str, Any]]]


class OrderReader(Protocol):
    """What the API reads. `caller` is passed wherever an answer depends on who asks."""

    async def find_by_reference(self, reference: str, caller: Caller) -> list[StoredOrder]:
        """Every order whose global id or a reference field (order numbers, receipts, marketplace
        ids, tickets, purchase orders, tracking numbers) equals `reference`; never SKUs or emails."""
        ...

    async def customer_history(self, customer_key: str, caller: Caller, *, filters: OrderFilter,
                               page: PageRequest) -> OrderHits:
        """Orders of the customer and every key linked to it, newest first."""
        ...

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest,
                     include_cold: bool = False) -> OrderHits:
        """Free-text CSR search: exact references first, with channel/status/store facets.
        `include_cold` adds cold orders an exact reference names (costlier: see the tiered reader)."""
        ...

    async def timeline(self, order_id: str, *, limit: int, tier: Tier | None = None) -> TimelineHits:
        """The significant changes of one order, oldest first. `tier`: the tier a read of this
        reader has just answered the order from (a tier-merging reader then reads that tier's
        timeline without asking the locator again); None when unknown."""
        ...

    async def as_of(self, order_id: str, at: datetime) -> StoredOrder | None:
        """The order rebuilt from its recorded changes up to `at`; None when it had none yet."""
        ...

    async def list_orders(self, *, filters: OrderFilter, page: PageRequest) -> OrderHits:
        """Every order the filters select, newest first, paged (analysts' views)."""
        ...

    async def orders_in_state(self, status: OrderStatus, at: datetime, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        """Orders whose highest status reached by `at` was `status`, newest first."""
        ...

    async def sales(self, interval: Interval, filters: OrderFilter) -> list[SalesRow]: ...

    async def fulfillment_times(self, filters: OrderFilter) -> dict[str, FulfillmentTimes]: ...

    async def rates(self, filters: OrderFilter) -> dict[str, ChannelRates]: ...

    async def journeys(self, filters: OrderFilter) -> list[Journey]: ...

    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> Pages:
        """Stored order documents in pages, ordered by order id, from one consistent view."""
        ...

    def export_timeline(self, filters: TimelineFilter, *, limit: int | None) -> Pages:
        """Timeline entries in pages, ordered by entry id, from one consistent view."""
        ...


@runtime_checkable
class TimelineLookup(Protocol):
    """An optional capability of a reader: a reference lookup and, in the same round trip, the
    timeline of the order whose global id is the reference as its hot tier holds it. That timeline
    is the answer only when the lookup shows exactly that order, from hot (`lookup_and_timeline`)."""

    async def find_with_timeline(self, reference: str, caller: Caller, *,
                                 limit: int) -> tuple[list[StoredOrder], TimelineHits | None]: ...


async def lookup_and_timeline(reader: OrderReader, reference: str, caller: Caller, *,
                              limit: int) -> tuple[list[StoredOrder], TimelineHits | None]:
    """`find_by_reference`, with the timeline read alongside when the reader can (else None)."""
    if isinstance(reader, TimelineLookup):
        return await reader.find_with_timeline(reference, caller, limit=limit)
    return await reader.find_by_reference(reference, caller), None


def timeline_of(order: StoredOrder, early: TimelineHits | None) -> TimelineHits | None:
    """The early timeline when it is the one `reader.timeline(order, tier=order.tier)` would read."""
    if early is not None and order.tier is Tier.HOT and early.order_id == order.document["order_id"]:
        return early
    return None


def state_from_entries(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The order document rebuilt from timeline entries (each keeps its original `event`):
    the one as-of rule every reader shares. None when no entry carries an event."""
    events = [OrderChange.model_validate(entry["event"]) for entry in entries if entry.get("event")]
    if not events:
        return None
    order = merge_all(None, event_set(events))  # the event set, as the timeline reads it
    return order.to_document() if order is not None else None
