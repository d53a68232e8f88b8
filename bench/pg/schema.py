"""The OMS-style normalised schema: tables first (loaded with COPY), indexes and keys after. Pure data."""

from __future__ import annotations

# Table name -> (column list for COPY, CREATE TABLE body). Keys and indexes come after the load.
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "customers": (
        ("customer_pk", "email", "phone", "phone_digits", "loyalty_id", "name"),
        """customer_pk  bigint NOT NULL,
           email        text,
           phone        text,
           phone_digits text,
           loyalty_id   text,
           name         text""",
    ),
    "orders": (
        ("order_id", "channel", "status", "placed_at", "updated_at", "store_id", "currency", "total", "customer_pk"),
        """order_id    text NOT NULL,
           channel     text,
           status      text NOT NULL,
           placed_at   timestamptz,
           updated_at  timestamptz,
           store_id    text,
           currency    char(3),
           total       numeric(14, 4),
           customer_pk bigint NOT NULL""",
    ),
    "order_references": (
        ("order_id", "kind", "value"),
        """order_id text NOT NULL,
           kind     text NOT NULL,
           value    text NOT NULL""",
    ),
    "order_lines": (
        ("order_id", "line_id", "sku", "name", "quantity", "unit_price", "status", "fulfillment_type"),
        """order_id         text NOT NULL,
           line_id          text NOT NULL,
           sku              text,
           name             text,
           quantity         integer,
           unit_price       numeric(14, 4),
           status           text,
           fulfillment_type text""",
    ),
    "shipments": (
        ("order_id", "shipment_id", "carrier", "tracking_number", "status"),
        """order_id        text NOT NULL,
           shipment_id     text NOT NULL,
           carrier         text,
           tracking_number text,
           status          text""",
    ),
    "payments": (
        ("order_id", "payment_id", "brand", "last4", "captured", "refunded"),
        """order_id   text NOT NULL,
           payment_id text NOT NULL,
           brand      text,
           last4      char(4),
           captured   numeric(14, 4),
           refunded   numeric(14, 4)""",
    ),
    "order_events": (
        ("order_id", "occurred_at", "channel", "kind", "status_after"),
        """order_id     text NOT NULL,
           occurred_at  timestamptz NOT NULL,
           channel      text,
           kind         text NOT NULL,
           status_after text""",
    ),
}

# Children before parents when dropping.
DROP_ORDER = ("order_events", "payments", "shipments", "order_lines", "order_references", "orders", "customers")

# pg_trgm, and what its similarity operators cost per row. Declared at the default cost (1, a
# plain comparison) they look free, so on a few thousand customers the planner scans the table and
# scores every row (measured: 30-48 ms a search on 1,671 customers) instead of the trigram GIN
# indexes below (1-13 ms, same rows); a trigram similarity costs about as much as 100 comparisons.
EXTENSIONS = ("CREATE EXTENSION IF NOT EXISTS pg_trgm",
              *(f"ALTER FUNCTION {function}(text, text) COST 100"
                for function in ("similarity_op", "word_similarity_op", "word_similarity_commutator_op")))

# Run after the load, in this order (primary keys first, so foreign keys can reference them).
POST_LOAD: tuple[str, ...] = (
    "ALTER TABLE customers ADD PRIMARY KEY (customer_pk)",
    "ALTER TABLE orders ADD PRIMARY KEY (order_id)",
    "ALTER TABLE order_lines ADD PRIMARY KEY (order_id, line_id)",
    "ALTER TABLE shipments ADD PRIMARY KEY (order_id, shipment_id)",
    "ALTER TABLE payments ADD PRIMARY KEY (order_id, payment_id)",
    # customers: exact identity look-ups and trigram (partial / fuzzy) search
    "CREATE INDEX customers_email_lower ON customers (lower(email))",
    "CREATE INDEX customers_phone_digits ON customers (phone_digits)",
    "CREATE INDEX customers_loyalty ON customers (loyalty_id)",
    "CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops)",
    "CREATE INDEX customers_email_trgm ON customers USING gin (email gin_trgm_ops)",
    "CREATE INDEX customers_phone_digits_trgm ON customers USING gin (phone_digits gin_trgm_ops)",
    # orders: history (newest first per customer), store/status browsing, day ranges
    "CREATE INDEX orders_customer_placed ON orders (customer_pk, placed_at DESC, order_id)",
    "CREATE INDEX orders_store_status_placed ON orders (store_id, status, placed_at DESC)",
    "CREATE INDEX orders_placed ON orders (placed_at)",
    # children: foreign keys and reference look-ups
    "CREATE INDEX order_references_order ON order_references (order_id)",
    "CREATE INDEX order_references_value_lower ON order_references (lower(value))",
    "CREATE INDEX order_lines_sku ON order_lines (sku)",
    "CREATE INDEX shipments_tracking ON shipments (tracking_number)",
    "CREATE INDEX order_events_order_time ON order_events (order_id, occurred_at)",
    # (order_lines, shipments, payments are indexed on order_id by their primary keys)
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_pk) REFERENCES customers",
    "ALTER TABLE order_references ADD CONSTRAINT order_references_order_fk FOREIGN KEY (order_id) REFERENCES orders",
    "ALTER TABLE order_lines ADD CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES orders",
    "ALTER TABLE shipments ADD CONSTRAINT shipments_order_fk FOREIGN KEY (order_id) REFERENCES orders",
    "ALTER TABLE payments ADD CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders",
    "ALTER TABLE order_events ADD CONSTRAINT order_events_order_fk FOREIGN KEY (order_id) REFERENCES orders",
)


def create_table_sql(table: str) -> str:
    return f"CREATE TABLE {table} ({TABLES[table][1]})"


def copy_sql(table: str) -> str:
    return f"COPY {table} ({', '.join(TABLES[table][0])}) FROM STDIN"
