"""The search engine's reads, answered by the normalised PostgreSQL schema (psycopg 3).

Every function takes an open connection and returns dict rows. Each read is one
SQL statement (one round trip), as a well-written OMS service would issue it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.pg.load import phone_digits

_NON_DIGITS = re.compile(r"\D+")
_ORDER_COLUMNS = ("o.order_id, o.channel, o.status, o.placed_at, o.updated_at, o.store_id, o.currency, o.total")

HISTORY_SQL = f"""
SELECT {_ORDER_COLUMNS}
FROM customers c
JOIN orders o ON o.customer_pk = c.customer_pk
WHERE lower(c.email) = lower(%(email)s)
  AND (%(after_placed)s::timestamptz IS NULL
       OR o.placed_at < %(after_placed)s OR (o.placed_at = %(after_placed)s AND o.order_id > %(after_id)s))
ORDER BY o.placed_at DESC NULLS LAST, o.order_id
LIMIT %(size)s
"""

FIND_ORDER_ID_SQL = """
SELECT order_id FROM orders WHERE order_id = %(ref)s
UNION ALL
SELECT order_id FROM order_references WHERE lower(value) = lower(%(ref)s)
UNION ALL
SELECT order_id FROM shipments WHERE tracking_number = %(ref)s
LIMIT 1
"""

ORDER_BY_REFERENCE_SQL = f"""
WITH hit AS ({FIND_ORDER_ID_SQL})
SELECT {_ORDER_COLUMNS},
       c.customer_pk, c.name AS customer_name, c.email AS customer_email, c.phone AS customer_phone,
       c.loyalty_id AS customer_loyalty_id,
       (SELECT coalesce(json_agg(json_build_object('kind', r.kind, 'value', r.value) ORDER BY r.kind, r.value), '[]')
          FROM order_references r WHERE r.order_id = o.order_id) AS "references",
       (SELECT coalesce(json_agg(json_build_object(
                   'line_id', l.line_id, 'sku', l.sku, 'name', l.name, 'quantity', l.quantity,
                   'unit_price', l.unit_price, 'status', l.status, 'fulfillment_type', l.fulfillment_type)
                 ORDER BY l.line_id), '[]')
          FROM order_lines l WHERE l.order_id = o.order_id) AS lines,
       (SELECT coalesce(json_agg(json_build_object(
                   'shipment_id', s.shipment_id, 'carrier', s.carrier, 'tracking_number', s.tracking_number,
                   'status', s.status) ORDER BY s.shipment_id), '[]')
          FROM shipments s WHERE s.order_id = o.order_id) AS shipments,
       (SELECT coalesce(json_agg(json_build_object(
                   'payment_id', p.payment_id, 'brand', p.brand, 'last4', p.last4,
                   'captured', p.captured, 'refunded', p.refunded) ORDER BY p.payment_id), '[]')
          FROM payments p WHERE p.order_id = o.order_id) AS payments
FROM hit
JOIN orders o ON o.order_id = hit.order_id
JOIN customers c ON c.customer_pk = o.customer_pk
"""

# Candidates with a score per tier (like the engine's boosts): exact references 100, SKU 60,
# phone exact 50 / partial 20, then name/email fuzzy or partial by trigram word similarity (< 10).
CSR_SEARCH_SQL = f"""
WITH matched_customers AS (
    SELECT c.customer_pk,
           10 * greatest(word_similarity(%(q)s, c.name), word_similarity(%(q)s, c.email),
                         CASE WHEN c.name ILIKE %(pattern)s OR c.email ILIKE %(pattern)s THEN 0.9 ELSE 0 END) AS score
    FROM customers c
    WHERE c.name %% %(q)s OR %(q)s <%% c.name OR %(q)s <%% c.email
       OR c.name ILIKE %(pattern)s OR c.email ILIKE %(pattern)s
    UNION ALL
    SELECT c.customer_pk, CASE WHEN c.phone_digits = %(digits)s OR right(c.phone_digits, 10) = %(digits)s
                               THEN 50 ELSE 20 END
    FROM customers c
    WHERE length(%(digits)s) >= 4 AND c.phone_digits LIKE %(digits_pattern)s
),
candidates AS (
    SELECT o.order_id, 100 AS score FROM orders o WHERE o.order_id = %(q)s
    UNION ALL
    SELECT r.order_id, 100 FROM order_references r WHERE lower(r.value) = lower(%(q)s)
    UNION ALL
    SELECT s.order_id, 100 FROM shipments s WHERE s.tracking_number = %(q)s
    UNION ALL
    SELECT l.order_id, 60 FROM order_lines l WHERE l.sku = upper(%(q)s)
    UNION ALL
    SELECT o.order_id, m.score FROM matched_customers m JOIN orders o ON o.customer_pk = m.customer_pk
),
best AS (SELECT order_id, max(score) AS score FROM candidates GROUP BY order_id)
SELECT {_ORDER_COLUMNS}, c.name AS customer_name, c.email AS customer_email, c.phone AS customer_phone,
       round(b.score::numeric, 3) AS score
FROM best b
JOIN orders o ON o.order_id = b.order_id
JOIN customers c ON c.customer_pk = o.customer_pk
ORDER BY b.score DESC, o.placed_at DESC NULLS LAST, o.order_id
LIMIT %(size)s
"""

TIMELINE_SQL = """
SELECT order_id, occurred_at, channel, kind, status_after
FROM order_events
WHERE order_id = %(order_id)s
ORDER BY occurred_at, kind
"""

SALES_BY_CHANNEL_PER_DAY_SQL = """
SELECT (placed_at AT TIME ZONE 'UTC')::date AS day, channel, count(*) AS orders, sum(total) AS revenue
FROM orders
WHERE placed_at IS NOT NULL
  AND (%(placed_from)s::timestamptz IS NULL OR placed_at >= %(placed_from)s)
  AND (%(placed_to)s::timestamptz IS NULL OR placed_at < %(placed_to)s)
GROUP BY 1, 2
ORDER BY 1, 2
"""


def _rows(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def history_page(conn: psycopg.Connection[Any], customer_email: str, size: int = 20,
                 after: tuple[datetime, str] | None = None) -> list[dict[str, Any]]:
    """One customer's orders on every channel, newest first; `after` = (placed_at, order_id) of the last row."""
    after_placed, after_id = after if after else (None, None)
    return _rows(conn, HISTORY_SQL, {"email": customer_email.strip(), "size": size,
                                     "after_placed": after_placed, "after_id": after_id})


def order_by_reference(conn: psycopg.Connection[Any], reference: str) -> dict[str, Any] | None:
    """The order for an order id, any reference (case-insensitive) or a tracking number, with its children."""
    rows = _rows(conn, ORDER_BY_REFERENCE_SQL, {"ref": reference.strip()})
    return rows[0] if rows else None


def csr_params(text: str, size: int) -> dict[str, Any]:
    """The search statement's parameters: the text as typed, its LIKE pattern and its digits."""
    text = text.strip()
    digits = _NON_DIGITS.sub("", text)
    if len(digits) >= 10:  # a full number: compare in the stored form (country code added)
        digits = phone_digits(digits) or digits
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"q": text, "pattern": f"%{like}%", "digits": digits, "digits_pattern": f"%{digits}%", "size": size}


def csr_search(conn: psycopg.Connection[Any], text: str, size: int = 20) -> list[dict[str, Any]]:
    """Exact references first, then SKUs, phones (any formatting, partial), then fuzzy names/emails."""
    return _rows(conn, CSR_SEARCH_SQL, csr_params(text, size))


def order_timeline(conn: psycopg.Connection[Any], order_id: str) -> list[dict[str, Any]]:
    return _rows(conn, TIMELINE_SQL, {"order_id": order_id})


def sales_by_channel_per_day(conn: psycopg.Connection[Any], placed_from: datetime | None = None,
                             placed_to: datetime | None = None) -> list[dict[str, Any]]:
    """Orders and revenue per channel per UTC day (the engine's daily date_histogram x channel terms)."""
    return _rows(conn, SALES_BY_CHANNEL_PER_DAY_SQL, {"placed_from": placed_from, "placed_to": placed_to})
