"""An in-memory `OrderReader`: the same questions answered over a list of order documents
(and timeline entries), for fast API tests with `app.dependency_overrides`.

It keeps the port's guarantees: storefront isolation, a total newest-first order paged by
sort key, reference fields only for reference lookups, every answer tagged with its tier.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from order_domain.identity_graph import IdentityGraph
from order_domain.model import STATUS_RANK, OrderStatus
from order_domain.search_projection import order_facts
from query_api.auth import Caller, Role
from query_api.queries import STORED_ONLY_FIELDS, reference_spellings
from query_api.read_port import (
    MAX_REFERENCE_MATCHES,
    ChannelRates,
    FulfillmentTimes,
    Interval,
    Journey,
    OrderFilter,
    OrderHits,
    PageRequest,
    Pages,
    SalesRow,
    SortKey,
    StoredOrder,
    Tier,
    TimelineFilter,
    TimelineHits,
    state_from_entries,
)


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _newest_first(document: dict[str, Any]) -> tuple[int, float, str]:
    placed = _instant(document.get("placed_at"))
    return (0, -placed.timestamp(), document["order_id"]) if placed else (1, 0.0, document["order_id"])


def _sort_key(document: dict[str, Any]) -> SortKey:
    return [document.get("placed_at"), document["order_id"]]


def _in_range(value: Any, start: datetime | None, end: datetime | None) -> bool:
    if not (start or end):
        return True
    instant = _instant(value)
    return instant is not None and (start is None or instant >= start) and (end is None or instant < end)


def _matches(document: dict[str, Any], filters: OrderFilter) -> bool:
    terms = (("channel", filters.channel), ("status", filters.status), ("store_id", filters.store_id))
    return all(document.get(field) == value for field, value in terms if value) and _in_range(
        document.get("placed_at"), filters.placed_from, filters.placed_to)


def _period(placed: datetime, interval: Interval) -> str:
    day = placed.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[interval]
    return start.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _percentile(values: list[float], percent: int) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, -(-percent * len(ordered) // 100) - 1)] if ordered else None


class FakeOrderReader:
    def __init__(self, orders: Iterable[dict[str, Any]], entries: Iterable[dict[str, Any]] = (), *,
                 tier: Tier = Tier.HOT, export_page: int = 2) -> None:
        self.orders = sorted(({**o, "facts": o.get("facts") or order_facts(o)} for o in orders), key=_newest_first)
        self.entries = sorted(entries, key=lambda e: (str(e["occurred_at"]), e["entry_id"]))
        self.tier = tier
        self.export_page = export_page

    def _answer(self, document: dict[str, Any]) -> StoredOrder:
        return StoredOrder({k: v for k, v in document.items() if k not in STORED_ONLY_FIELDS}, self.tier)

    def _visible(self, caller: Caller) -> list[dict[str, Any]]:
        if caller.role is not Role.STOREFRONT:
            return self.orders
        return [o for o in self.orders if set(caller.customer_keys) & set(o.get("identity_keys") or [])]

    def _page(self, documents: list[dict[str, Any]], page: PageRequest, **facets: Any) -> OrderHits:
        start = 0
        if page.after is not None:
            after = _newest_first({"placed_at": page.after[0], "order_id": page.after[1]})
            start = next((i for i, d in enumerate(documents) if _newest_first(d) > after), len(documents))
        chosen = documents[start:start + page.size]
        full = len(chosen) == page.size
        return OrderHits(items=[self._answer(d) for d in chosen], total=len(documents),
                         next_after=_sort_key(chosen[-1]) if full else None, facets=facets)

    async def find_by_reference(self, reference: str, caller: Caller) -> list[StoredOrder]:
        spellings = {s.lower() for s in reference_spellings(reference)}

        def carries(order: dict[str, Any]) -> bool:
            values = {r["value"].lower() for r in order.get("references") or []}
            tracking = {(s.get("tracking_number") or "").lower() for s in order.get("shipments") or []}
            return order["order_id"] == reference or bool(values & spellings) or reference.lower() in tracking

        return [self._answer(o) for o in self._visible(caller) if carries(o)][:MAX_REFERENCE_MATCHES]

    def _customer(self, key: str) -> set[str]:
        """Staff: the key's component in the identity graph over every order (no unlinks here)."""
        graph = IdentityGraph()
        for order in self.orders:
            graph.add_order(order.get("identity_keys") or [])
        return set(graph.component(key)) | {key}

    async def customer_history(self, customer_key: str, caller: Caller, *, filters: OrderFilter,
                               page: PageRequest) -> OrderHits:
        keys = set(caller.customer_keys) if caller.role is Role.STOREFRONT else self._customer(customer_key)
        mine = [o for o in self._visible(caller) if keys & set(o.get("identity_keys") or []) and _matches(o, filters)]
        return self._page(mine, page)

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest,
                     include_cold: bool = False) -> OrderHits:
        needle = text.lower()

        def found(order: dict[str, Any]) -> bool:
            customer = order.get("customer") or {}
            words = [order["order_id"], customer.get("name"), customer.get("email"), customer.get("phone"),
                     *(r["value"] for r in order.get("references") or []),
                     *(line.get("sku") for line in order.get("lines") or [])]
            return any(needle in word.lower() for word in words if word)

        hits = [o for o in self._visible(caller) if found(o) and _matches(o, filters)]
        facets = {name: dict(Counter(o[field] for o in hits if o.get(field)))  # first page only, as the engine's
                  for name, field in (("channel", "channel"), ("status", "status"), ("store", "store_id"))
                  if page.after is None}
        return self._page(hits, page, **facets)

    async def timeline(self, order_id: str, *, limit: int, tier: Tier | None = None) -> TimelineHits:
        entries = [{k: v for k, v in e.items() if k != "event"} for e in self.entries if e["order_id"] == order_id]
        return TimelineHits(order_id, entries[:limit], self.tier)

    async def as_of(self, order_id: str, at: datetime) -> StoredOrder | None:
        upto = [e for e in self.entries if e["order_id"] == order_id and _instant(e["occurred_at"]) <= at]
        document = state_from_entries(upto)
        return StoredOrder(document, self.tier) if document is not None else None

    async def list_orders(self, *, filters: OrderFilter, page: PageRequest) -> OrderHits:
        return self._page(self._placed(filters), page)

    async def orders_in_state(self, status: OrderStatus, at: datetime, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        def state_at(order: dict[str, Any]) -> OrderStatus | None:
            reached = [OrderStatus(s) for s, t in (order.get("status_history") or {}).items() if _instant(t) <= at]
            return max(reached, key=STATUS_RANK.__getitem__) if reached else None

        return self._page([o for o in self.orders if state_at(o) is status and _matches(o, filters)], page)

    def _placed(self, filters: OrderFilter) -> list[dict[str, Any]]:
        return [o for o in self.orders if _matches(o, filters)]

    async def sales(self, interval: Interval, filters: OrderFilter) -> list[SalesRow]:
        groups: dict[tuple[str, str], list[float]] = defaultdict(list)
        for order in self._placed(filters):
            if order.get("placed_at") and order.get("channel"):
                total = float((order.get("totals") or {}).get("total") or 0)
                groups[(_period(_instant(order["placed_at"]), interval), order["channel"])].append(total)
        return [SalesRow(period=period, channel=channel, orders=len(totals), revenue=round(sum(totals), 2))
                for (period, channel), totals in sorted(groups.items())]

    async def fulfillment_times(self, filters: OrderFilter) -> dict[str, FulfillmentTimes]:
        hours: dict[str, list[float]] = defaultdict(list)
        for order in self._placed(filters):
            facts = order["facts"]
            if facts.get("fulfillment_hours") is not None and facts.get("fulfillment_type"):
                hours[facts["fulfillment_type"]].append(facts["fulfillment_hours"])
        return {kind: FulfillmentTimes(len(v), _percentile(v, 50), _percentile(v, 90), _percentile(v, 99))
                for kind, v in hours.items()}

    async def rates(self, filters: OrderFilter) -> dict[str, ChannelRates]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for order in self._placed(filters):
            if order.get("channel"):
                row = counts[order["channel"]]
                row[0] += 1
                row[1] += order.get("status") == OrderStatus.CANCELLED
                row[2] += bool(order["facts"]["has_return"])
        return {channel: ChannelRates(*row) for channel, row in counts.items()}

    async def journeys(self, filters: OrderFilter) -> list[Journey]:
        pairs = Counter((o["channel"], back) for o in self._placed(filters) if o.get("channel")
                        for back in o["facts"]["return_channels"])
        return [Journey(bought, back, n) for (bought, back), n in sorted(pairs.items())]

    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> Pages:
        chosen = sorted((o for o in self.orders if _matches(o, filters)), key=lambda o: o["order_id"])
        return self._pages(chosen[:limit])

    def export_timeline(self, filters: TimelineFilter, *, limit: int | None) -> Pages:
        def kept(entry: dict[str, Any]) -> bool:
            terms = (("channel", filters.channel), ("store_id", filters.store_id))
            return all(entry.get(f) == v for f, v in terms if v) and _in_range(
                entry.get("occurred_at"), filters.occurred_from, filters.occurred_to)

        chosen = sorted((e for e in self.entries if kept(e)), key=lambda e: e["entry_id"])
        return self._pages(chosen[:limit])

    async def _pages(self, documents: list[dict[str, Any]]) -> Pages:
        for start in range(0, len(documents), self.export_page):
            yield documents[start:start + self.export_page]
