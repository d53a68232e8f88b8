"""The PostgreSQL baseline behind the API's read port (`query_api.read_port.OrderReader`).

So the benchmark measures PostgreSQL and the engine through the same FastAPI app, auth,
role views and JSON path: only the reader differs. Each read is one SQL statement over
the normalised OMS-style schema (`bench.pg.schema`), answering orders in the stored
document form the views expect (customer, references, lines, shipments, payments).

What it serves: the five benchmarked questions (order by reference, customer history,
CSR search, timeline, sales per day) plus plain order listing. The other questions of
the port (as-of, orders in a state, fulfilment times, rates, journeys, exports) have no
baseline query and raise `NotImplementedError` (the API answers 500): the benchmark never
asks them.

Storefront isolation is kept as the port requires: a storefront caller only reads
the history of one of its own customer keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, NoReturn

import psycopg
from psycopg.rows import dict_row

from bench.pg.queries import CSR_SEARCH_SQL, FIND_ORDER_ID_SQL, SALES_BY_CHANNEL_PER_DAY_SQL, TIMELINE_SQL, csr_params
from order_domain.model import OrderStatus
from query_api.auth import Caller, Role
from query_api.read_port import (ChannelRates, FulfillmentTimes, Interval, Journey, OrderFilter, OrderHits, Pages,
                                 PageRequest, SalesRow, StoredOrder, Tier, TimelineFilter, TimelineHits)

# the order document, assembled from its rows (one statement; children as JSON aggregates)
_DOCUMENT = """
json_build_object(
  'order_id', o.order_id, 'channel', o.channel, 'status', o.status, 'placed_at', o.placed_at,
  'updated_at', o.updated_at, 'store_id', o.store_id, 'currency', o.currency,
  'totals', json_build_object('total', o.total),
  'customer', json_build_object('customer_id', c.customer_pk::text, 'name', c.name, 'email', c.email,
                                'phone', c.phone, 'loyalty_id', c.loyalty_id),
  'references', (SELECT coalesce(json_agg(json_build_object('kind', r.kind, 'value', r.value)
                                          ORDER BY r.kind, r.value), '[]')
                   FROM order_references r WHERE r.order_id = o.order_id),
  'lines', (SELECT coalesce(json_agg(json_build_object(
                     'line_id', l.line_id, 'sku', l.sku, 'name', l.name, 'quantity', l.quantity,
                     'unit_price', l.unit_price, 'status', l.status, 'fulfillment_type', l.fulfillment_type)
                   ORDER BY l.line_id), '[]')
              FROM order_lines l WHERE l.order_id = o.order_id),
  'shipments', (SELECT coalesce(json_agg(json_build_object(
                         'shipment_id', s.shipment_id, 'carrier', s.carrier, 'tracking_number', s.tracking_number,
                         'status', s.status) ORDER BY s.shipment_id), '[]')
                  FROM shipments s WHERE s.order_id = o.order_id),
  'payments', (SELECT coalesce(json_agg(json_build_object(
                        'payment_id', p.payment_id, 'brand', p.brand, 'last4', p.last4,
                        'captured', p.captured, 'refunded', p.refunded) ORDER BY p.payment_id), '[]')
                 FROM payments p WHERE p.order_id = o.order_id)
) AS document"""

BY_REFERENCE_SQL = f"""
WITH hit AS ({FIND_ORDER_ID_SQL})
SELECT {_DOCUMENT}
FROM hit JOIN orders o ON o.order_id = hit.order_id JOIN customers c ON c.customer_pk = o.customer_pk
"""

_KEY_COLUMN = {"email": "lower(c.email)", "phone": "c.phone_digits", "loyalty": "c.loyalty_id",
               "customer": "c.customer_pk::text"}


def _history_sql(kind: str) -> str:
    return f"""
SELECT {_DOCUMENT}, o.placed_at, o.order_id, count(*) OVER () AS total
FROM customers c JOIN orders o ON o.customer_pk = c.customer_pk
WHERE {_KEY_COLUMN[kind]} = %(key)s
  AND (%(after_placed)s::timestamptz IS NULL
       OR o.placed_at < %(after_placed)s OR (o.placed_at = %(after_placed)s AND o.order_id > %(after_id)s))
ORDER BY o.placed_at DESC NULLS LAST, o.order_id
LIMIT %(size)s
"""


HISTORY_SQL = {kind: _history_sql(kind) for kind in _KEY_COLUMN}
SEARCH_SQL = (f"WITH ranked AS ({CSR_SEARCH_SQL}) SELECT {_DOCUMENT}, ranked.score "
              "FROM ranked JOIN orders o ON o.order_id = ranked.order_id "
              "JOIN customers c ON c.customer_pk = o.customer_pk ORDER BY ranked.score DESC, "
              "o.placed_at DESC NULLS LAST, o.order_id")
LIST_SQL = f"""
SELECT {_DOCUMENT}, o.placed_at, o.order_id
FROM orders o JOIN customers c ON c.customer_pk = o.customer_pk
WHERE (%(channel)s::text IS NULL OR o.channel = %(channel)s) AND (%(status)s::text IS NULL OR o.status = %(status)s)
ORDER BY o.placed_at DESC NULLS LAST, o.order_id LIMIT %(size)s
"""


class PostgresOrderReader:
    """`OrderReader` over PostgreSQL: a small pool of async connections, opened on first use."""

    def __init__(self, dsn: str, *, connections: int = 8) -> None:
        self.dsn = dsn
        self.size = connections
        self._pool: asyncio.Queue[psycopg.AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()

    async def rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One statement on a pooled connection, its rows as dicts (every read goes through here)."""
        pool = self._pool or await self._open()
        conn = await pool.get()
        try:
            async with conn.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(sql, params)
                return await cursor.fetchall()
        finally:
            pool.put_nowait(conn)

    async def _open(self) -> asyncio.Queue[psycopg.AsyncConnection[Any]]:
        async with self._opening:
            if self._pool is None:
                pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
                for _ in range(self.size):
                    pool.put_nowait(await psycopg.AsyncConnection.connect(self.dsn, autocommit=True))
                self._pool = pool
        return self._pool

    async def close(self) -> None:
        while self._pool is not None and not self._pool.empty():
            await self._pool.get_nowait().close()

    async def find_by_reference(self, reference: str, caller: Caller) -> list[StoredOrder]:
        rows = await self.rows(BY_REFERENCE_SQL, {"ref": reference.strip()})
        return [StoredOrder(_visible(row["document"]), Tier.HOT) for row in rows]

    async def customer_history(self, customer_key: str, caller: Caller, *, filters: OrderFilter,
                               page: PageRequest) -> OrderHits:
        kind, _, value = customer_key.partition(":")
        if kind not in HISTORY_SQL or (caller.role is Role.STOREFRONT and customer_key not in caller.customer_keys):
            return OrderHits(items=[], total=0)
        after_placed, after_id = (page.after or [None, None])[:2]
        rows = await self.rows(HISTORY_SQL[kind], {"key": value.lower() if kind == "email" else value,
                                                    "size": page.size, "after_placed": after_placed,
                                                    "after_id": after_id})
        return _hits(rows, page)

    async def search(self, text: str, caller: Caller, *, filters: OrderFilter, page: PageRequest,
                     include_cold: bool = False) -> OrderHits:
        rows = await self.rows(SEARCH_SQL, csr_params(text, page.size))
        return OrderHits(items=[StoredOrder(_visible(row["document"]), Tier.HOT) for row in rows], total=len(rows))

    async def timeline(self, order_id: str, *, limit: int, tier: Tier | None = None) -> TimelineHits:
        rows = await self.rows(TIMELINE_SQL, {"order_id": order_id})
        entries = [{"entry_id": f"{order_id}:{number}", "order_id": order_id, "occurred_at": row["occurred_at"],
                    "channel": row["channel"] or "", "source": row["channel"] or "", "kind": row["kind"],
                    "categories": [], "status_after": row["status_after"]} for number, row in enumerate(rows[:limit])]
        return TimelineHits(order_id, entries, Tier.HOT)

    async def sales(self, interval: Interval, filters: OrderFilter) -> list[SalesRow]:
        if interval != "day":
            _not_in_baseline(f"sales per {interval}")
        rows = await self.rows(SALES_BY_CHANNEL_PER_DAY_SQL, {"placed_from": filters.placed_from,
                                                                "placed_to": filters.placed_to})
        return [SalesRow(period=row["day"].isoformat(), channel=row["channel"] or "", orders=row["orders"],
                         revenue=float(row["revenue"] or 0)) for row in rows]

    async def list_orders(self, *, filters: OrderFilter, page: PageRequest) -> OrderHits:
        rows = await self.rows(LIST_SQL, {"channel": filters.channel, "status": filters.status, "size": page.size})
        return _hits(rows, page)

    async def as_of(self, order_id: str, at: datetime) -> StoredOrder | None:
        _not_in_baseline("as-of reads")

    async def orders_in_state(self, status: OrderStatus, at: datetime, *, filters: OrderFilter,
                              page: PageRequest) -> OrderHits:
        _not_in_baseline("orders in a state")

    async def fulfillment_times(self, filters: OrderFilter) -> dict[str, FulfillmentTimes]:
        _not_in_baseline("fulfilment times")

    async def rates(self, filters: OrderFilter) -> dict[str, ChannelRates]:
        _not_in_baseline("channel rates")

    async def journeys(self, filters: OrderFilter) -> list[Journey]:
        _not_in_baseline("journeys")

    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> Pages:
        return _no_pages("order export")

    def export_timeline(self, filters: TimelineFilter, *, limit: int | None) -> Pages:
        return _no_pages("timeline export")


def _visible(document: dict[str, Any]) -> dict[str, Any]:
    """Stored form: absent fields left out, as the engine's documents leave them out."""
    return {key: value for key, value in document.items() if value is not None}


def _hits(rows: list[dict[str, Any]], page: PageRequest) -> OrderHits:
    items = [StoredOrder(_visible(row["document"]), Tier.HOT) for row in rows]
    last = rows[-1] if len(rows) == page.size else None
    return OrderHits(items=items, total=int(rows[0].get("total", len(rows))) if rows else 0,
                     next_after=[last["placed_at"].isoformat() if last["placed_at"] else None, last["order_id"]]
                     if last else None)


def _not_in_baseline(what: str) -> NoReturn:
    raise NotImplementedError(f"the PostgreSQL baseline has no query for {what}")


async def _no_pages(what: str) -> AsyncIterator[list[dict[str, Any]]]:
    _not_in_baseline(what)
    yield []
