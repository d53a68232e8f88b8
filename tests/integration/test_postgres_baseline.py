"""The PostgreSQL baseline answers the same questions as the search engine, with the same orders."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import pytest

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")

from bench.postgres_baseline import (  # noqa: E402  (needs psycopg)
    PostgresServer,
    PostgresUnavailable,
    csr_search,
    ensure_postgres_installed,
    find_bin_dir,
    free_port,
    history_page,
    load_orders,
    order_by_reference,
    order_timeline,
    sales_by_channel_per_day,
)
from adapters.search_engine import SearchEngine  # noqa: E402
from bench.pg.queries import CSR_SEARCH_SQL, csr_params  # noqa: E402
from orderrepo.bootstrap import prepare_storage  # noqa: E402
from query_api.auth import Role, issue_token  # noqa: E402
from sample_traffic import expected_orders, generate  # noqa: E402
from settings import Settings  # noqa: E402
from tests.integration.api_server import running_api  # noqa: E402


@contextmanager
def _postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    root = os.geteuid() == 0
    if find_bin_dir() is None and not root:
        pytest.skip("PostgreSQL server is not installed and we are not root (cannot apt-get install it)")
    try:
        ensure_postgres_installed()  # as root: apt-get installs postgresql + postgresql-contrib if missing
    except PostgresUnavailable as error:
        if root:
            raise
        pytest.skip(f"PostgreSQL is not usable and we are not root: {error}")
    # As root the server runs as `postgres`, which cannot traverse pytest's /tmp/pytest-of-root (mode 700).
    data_root = Path(tempfile.mkdtemp(prefix="orderrepo-pg-")) if root else tmp_path
    if root:
        os.chmod(data_root, 0o755)
    try:
        with PostgresServer(data_root / "cluster", port=free_port(), fresh=True) as server:
            yield server
    finally:
        if data_root is not tmp_path:
            shutil.rmtree(data_root, ignore_errors=True)


def test_postgres_baseline_answers_like_the_engine(tmp_path: Path) -> None:
    orders = expected_orders(generate(orders=200, seed=9))
    with _postgres(tmp_path) as server:
        stats = load_orders(server.dsn, orders, quiet=True)
        assert stats.orders == len(orders) and stats.rows["orders"] == len(orders)
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            # history: exactly the orders carrying that email, newest first
            emails = Counter(o.customer.email.lower() for o in orders.values() if o.customer.email)
            email, count = emails.most_common(1)[0]
            want = sorted((o for o in orders.values() if o.customer.email and o.customer.email.lower() == email),
                          key=lambda o: (-o.placed_at.timestamp(), o.order_id))
            got = history_page(conn, email.upper(), size=50)
            assert [r["order_id"] for r in got] == [o.order_id for o in want] and count > 1
            first = history_page(conn, email, size=1)
            rest = history_page(conn, email, size=50, after=(first[0]["placed_at"], first[0]["order_id"]))
            assert [r["order_id"] for r in first + rest] == [o.order_id for o in want]

            # by tracking number, by a channel reference (any case), by order id
            shipped = next(o for o in orders.values() if any(s.tracking_number for s in o.shipments))
            tracking = next(s.tracking_number for s in shipped.shipments if s.tracking_number)
            found = order_by_reference(conn, tracking)
            assert found is not None and found["order_id"] == shipped.order_id
            assert {line["line_id"] for line in found["lines"]} == {line.line_id for line in shipped.lines}
            assert {s["shipment_id"] for s in found["shipments"]} == {s.shipment_id for s in shipped.shipments}
            assert {p["payment_id"] for p in found["payments"]} == {p.payment_id for p in shipped.payments}
            ref_order = next(o for o in orders.values() if any(r.value.lower() != r.value.upper()
                                                               for r in o.references))
            ref = next(r.value for r in ref_order.references if r.value.lower() != r.value.upper())
            assert order_by_reference(conn, ref.swapcase())["order_id"] == ref_order.order_id
            assert order_by_reference(conn, shipped.order_id)["order_id"] == shipped.order_id
            assert order_by_reference(conn, "no-such-reference") is None

            # CSR search: exact reference first; partial name; phone in another formatting
            assert csr_search(conn, tracking)[0]["order_id"] == shipped.order_id
            named = next(o for o in orders.values() if o.customer.name and o.customer.email
                         and o.customer.email.lower() == email)
            surname = named.customer.name.split()[-1]
            hits = csr_search(conn, surname[:-1].lower(), size=200)
            assert {o.order_id for o in want} <= {h["order_id"] for h in hits}
            # (a customer row keeps the first phone seen for its email: pick a customer with one phone)
            phones_by_email: dict[str, set[str]] = {}
            for o in orders.values():
                if o.customer.email:
                    phones_by_email.setdefault(o.customer.email.lower(), set()).add(
                        "".join(ch for ch in o.customer.phone or "" if ch.isdigit())[-10:])
            phoned = next(o for o in orders.values() if o.customer.phone and o.customer.email
                          and len(phones_by_email[o.customer.email.lower()]) == 1)
            digits = "".join(ch for ch in phoned.customer.phone if ch.isdigit())[-10:]
            dashed = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            assert phoned.order_id in {h["order_id"] for h in csr_search(conn, dashed, size=200)}

            # timeline: the order's statuses in time order, ending at its current status
            timeline = order_timeline(conn, shipped.order_id)
            assert [e["occurred_at"] for e in timeline] == sorted(e["occurred_at"] for e in timeline)
            assert timeline and timeline[-1]["status_after"] == shipped.status.value

            # sales per channel per day add up to every order and its revenue
            sales = sales_by_channel_per_day(conn)
            assert sum(r["orders"] for r in sales) == len(orders)
            assert sum(r["revenue"] or 0 for r in sales) == sum(o.totals.total or 0 for o in orders.values())
            per_channel = Counter()
            for row in sales:
                per_channel[row["channel"]] += row["orders"]
            assert per_channel == Counter(o.channel.value for o in orders.values())


def test_the_free_text_search_reads_the_trigram_indexes(tmp_path: Path) -> None:
    """A fair baseline: the fuzzy name/email search goes through the trigram GIN indexes instead of
    scoring every customer in a scan (its similarity operators are priced in bench/pg/schema.py;
    at their default cost the planner scanned 1,671 customers, 10× slower)."""
    orders = expected_orders(generate(orders=2000, seed=11))
    named = sorted(o.customer.name for o in orders.values() if o.customer.name)
    with _postgres(tmp_path) as server:
        load_orders(server.dsn, orders, quiet=True)
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            for text in (named[0].split()[-1][:-1].lower(), named[len(named) // 2]):
                plan = [row[0] for row in conn.execute("EXPLAIN " + CSR_SEARCH_SQL, csr_params(text, 20))]
                assert any("customers_name_trgm" in line for line in plan), "\n".join(plan)
                scored_in_a_scan = [line for line, after in zip(plan, plan[1:])
                                    if "Seq Scan on customers" in line and "<%" in after]
                assert scored_in_a_scan == [], "\n".join(plan)


def test_the_postgres_baseline_serves_the_same_api_routes_auth_and_views(tmp_path: Path, isolated: Settings,
                                                                          engine: SearchEngine) -> None:
    """The fair baseline: PostgreSQL behind the API's read port, asked over HTTP like the product."""
    orders = expected_orders(generate(orders=120, seed=4))
    prepare_storage(isolated, engine)  # the app's readiness and tier services still use the engine
    secret = "pg-baseline-secret-pg-baseline-secret-0001"
    with _postgres(tmp_path) as server:
        load_orders(server.dsn, orders, quiet=True)
        command = (sys.executable, "-m", "bench.pg.api", "--dsn", server.dsn, "--port")
        with running_api(isolated, secret, command=command) as base:
            staff = {"Authorization": f"Bearer {issue_token(secret, subject='csr', role=Role.CSR)}"}
            shipped = next(o for o in sorted(orders.values(), key=lambda o: o.order_id)
                           if any(s.tracking_number for s in o.shipments))
            tracking = next(s.tracking_number for s in shipped.shipments if s.tracking_number)
            answer = httpx.get(f"{base}/orders/{tracking}", headers=staff).json()
            assert answer["order_id"] == shipped.order_id and answer["status"] == shipped.status.value
            assert {line["line_id"] for line in answer["lines"]} == {line.line_id for line in shipped.lines}
            found = httpx.get(f"{base}/search", params={"q": tracking}, headers=staff).json()
            assert found["items"][0]["order_id"] == shipped.order_id
            timeline = httpx.get(f"{base}/orders/{shipped.order_id}/timeline", headers=staff).json()
            assert timeline["entries"][-1]["status_after"] == shipped.status.value
            sales = httpx.get(f"{base}/analytics/sales", params={"interval": "day"}, headers=staff).json()
            assert sum(row["orders"] for row in sales["rows"]) == len(orders)

            emails = Counter(o.customer.email.lower() for o in orders.values() if o.customer.email)
            email, count = emails.most_common(1)[0]
            shopper = issue_token(secret, subject="shopper", role=Role.STOREFRONT, customer_keys=(f"email:{email}",))
            mine = httpx.get(f"{base}/customers/email:{email}/orders", params={"size": 50},
                             headers={"Authorization": f"Bearer {shopper}"})
            assert mine.status_code == 200 and mine.json()["total"] == count
            assert {item["customer"]["email"].lower() for item in mine.json()["items"]} == {email}
            other = next(e for e in emails if e != email)
            theirs = httpx.get(f"{base}/customers/email:{other}/orders",
                               headers={"Authorization": f"Bearer {shopper}"})
            assert theirs.status_code == 403
