"""Bulk-load canonical `Order`s into the normalised schema with COPY, then index and ANALYZE.

One connection per table streams its COPY at the same time, so orders are read
once, in constant memory except for the customer map (deduplicated by identity:
email, else phone, else loyalty id, else one anonymous customer per order). Each
table is created in its COPY's own transaction with FREEZE, so with
wal_level=minimal the load writes no WAL and leaves the rows all-visible; keys and
indexes are built after the data, which is much faster than maintaining them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from bench.pg.schema import DROP_ORDER, EXTENSIONS, POST_LOAD, TABLES, copy_sql, create_table_sql
from order_domain.identity import normalize_email, normalize_phone
from order_domain.model import Order

TimelineRow = tuple[str, datetime, str | None, str, str | None]  # order_id, occurred_at, channel, kind, status_after
_DIGITS = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isdigit()))


@dataclass
class LoadStats:
    orders: int = 0
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    copy_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.copy_seconds + self.index_seconds + self.analyze_seconds

    @property
    def orders_per_second(self) -> float:
        """End to end: COPY + keys/indexes + ANALYZE."""
        return self.orders / self.total_seconds if self.total_seconds else 0.0

    def summary(self) -> str:
        rows = ", ".join(f"{table}={count:,}" for table, count in self.rows.items())
        return (f"{self.orders:,} orders, {self.customers:,} customers loaded in {self.total_seconds:.1f} s "
                f"({self.orders_per_second:,.0f} orders/s end to end; COPY {self.copy_seconds:.1f} s, "
                f"keys+indexes {self.index_seconds:.1f} s, ANALYZE {self.analyze_seconds:.1f} s); rows: {rows}")


def phone_digits(phone: str | None) -> str | None:
    """Digits with the country code ('555-010-2030' -> '15550102030'), what phone search matches."""
    if not phone:
        return None
    normalized = normalize_phone(phone)
    return normalized.lstrip("+") if normalized else (phone.translate(_DIGITS) or None)


class _Customers:
    """Identity -> customer row; later orders fill fields the first one left empty."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[Any]] = {}
        self.anonymous: list[list[Any]] = []
        self.next_pk = 1

    def pk_for(self, order: Order) -> int:
        c = order.customer
        if c.email:
            key = ("email", normalize_email(c.email))
        elif c.phone and (normalized := normalize_phone(c.phone)):
            key = ("phone", normalized)
        elif c.loyalty_id:
            key = ("loyalty", c.loyalty_id)
        else:
            row = [self.next_pk, None, None, None, None, c.name]
            self.next_pk += 1
            self.anonymous.append(row)
            return int(row[0])
        fields = [c.email.strip() if c.email else None, c.phone, phone_digits(c.phone), c.loyalty_id, c.name]
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [self.next_pk, *fields]
            self.next_pk += 1
        else:
            for index, value in enumerate(fields, start=1):
                if row[index] is None and value is not None:
                    row[index] = value
        return int(row[0])

    def __iter__(self) -> Iterator[list[Any]]:
        yield from self.rows.values()
        yield from self.anonymous

    def __len__(self) -> int:
        return len(self.rows) + len(self.anonymous)


def _value(enum_or_none: Any) -> Any:
    return enum_or_none.value if enum_or_none is not None and hasattr(enum_or_none, "value") else enum_or_none


def status_history_timeline(order: Order) -> list[TimelineRow]:
    """A timeline derived from the order alone (one entry per status reached), when none is given."""
    channel = _value(order.channel)
    return [(order.order_id, at, channel, "status_changed", status.value)
            for status, at in sorted(order.status_history.items(), key=lambda item: item[1])]


def replay_with_timeline(messages: Iterable[Any]) -> tuple[dict[str, Order], list[TimelineRow]]:
    """Like `expected_orders`, plus the timeline the ingest planner writes (its own rules, via `plan_writes`)."""
    from ingest.decoders import decode
    from ingest.planner import StoredOrder, plan_writes
    from ingest.topics import CHANNEL_FORMATS

    orders: dict[str, Order] = {}
    timeline: list[TimelineRow] = []
    for message in messages:
        changes = decode(CHANNEL_FORMATS[message.channel], message.value)
        stored = {c.order_id: StoredOrder(orders[c.order_id], 0, 1) for c in changes if c.order_id in orders}
        plan = plan_writes(changes, stored)
        timeline += [(e.order_id, e.occurred_at, e.channel, e.kind, e.status_after) for e in plan.timeline]
        for write in plan.orders:
            orders[write.order_id] = write.order
    return orders, timeline


def _order_rows(order: Order, customer_pk: int) -> dict[str, list[tuple[Any, ...]]]:
    oid = order.order_id
    return {
        "orders": [(oid, _value(order.channel), order.status.value, order.placed_at, order.updated_at,
                    order.store_id, order.currency, order.totals.total, customer_pk)],
        "order_references": [(oid, ref.kind.value, ref.value) for ref in order.references],
        "order_lines": [(oid, line.line_id, line.sku, line.name, line.quantity, line.unit_price,
                         _value(line.status), _value(line.fulfillment_type)) for line in order.lines],
        "shipments": [(oid, s.shipment_id, s.carrier, s.tracking_number, s.status) for s in order.shipments],
        "payments": [(oid, p.payment_id, p.brand, p.last4, p.captured, p.refunded) for p in order.payments],
    }


def reset_schema(conn: psycopg.Connection[Any]) -> None:
    for statement in EXTENSIONS:
        conn.execute(statement)
    for table in DROP_ORDER:
        conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    conn.commit()


def load_orders(dsn: str, orders: Iterable[Order] | Mapping[str, Order],
                timeline: Iterable[TimelineRow] | None = None, *, progress_every: int = 100_000,
                quiet: bool = False) -> LoadStats:
    """Replace the schema's contents with `orders` (+ `timeline`, else one derived from status history)."""
    if isinstance(orders, Mapping):
        orders = orders.values()
    say = (lambda *_: None) if quiet else (lambda text: print(f"[postgres] {text}", flush=True))
    stats = LoadStats(rows={table: 0 for table in TABLES})
    customers = _Customers()
    started = time.perf_counter()
    with psycopg.connect(dsn) as main, ExitStack() as stack:
        reset_schema(main)
        copies: dict[str, Any] = {}
        conns: dict[str, psycopg.Connection[Any]] = {}
        for table in TABLES:
            conn = conns[table] = stack.enter_context(psycopg.connect(dsn))
            conn.execute(create_table_sql(table))  # same transaction as the COPY: no WAL, FREEZE allowed
            copies[table] = stack.enter_context(conn.cursor().copy(copy_sql(table) + " WITH (FREEZE)"))
        rows = stats.rows
        derive_timeline = timeline is None
        for order in orders:
            for table, table_rows in _order_rows(order, customers.pk_for(order)).items():
                write = copies[table].write_row
                for row in table_rows:
                    write(row)
                rows[table] += len(table_rows)
            if derive_timeline:
                for row in status_history_timeline(order):
                    copies["order_events"].write_row(row)
                    rows["order_events"] += 1
            stats.orders += 1
            if progress_every and stats.orders % progress_every == 0:
                elapsed = time.perf_counter() - started
                say(f"copied {stats.orders:,} orders ({stats.orders / elapsed:,.0f}/s)")
        if timeline is not None:
            for row in timeline:
                copies["order_events"].write_row(row)
                rows["order_events"] += 1
        for row in customers:
            copies["customers"].write_row(row)
        rows["customers"] = stats.customers = len(customers)
        stack.close()  # ends every COPY; each connection then commits on its clean exit
        stats.copy_seconds = time.perf_counter() - started
        say(f"COPY done: {stats.orders:,} orders in {stats.copy_seconds:.1f} s; building keys and indexes")
        mark = time.perf_counter()
        for statement in POST_LOAD:
            main.execute(statement)
        main.commit()
        stats.index_seconds = time.perf_counter() - mark
        mark = time.perf_counter()
        main.autocommit = True
        main.execute("ANALYZE")
        stats.analyze_seconds = time.perf_counter() - mark
    say(stats.summary())
    return stats
