"""The console's screens in a real browser, over the real API and sample data ingested through Kafka."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

from pathlib import Path

import httpx
import polars as pl
import pytest

from order_domain.model import Order
from query_api.auth import Role
from tests.browser.conftest import Console
from tests.browser.screens import check_screen

pytestmark = pytest.mark.integration


def linked_orders(orders: dict[str, Order], key: str) -> set[str]:
    """What a customer's history holds: orders with a key joined to this one through any number of orders."""
    keys: set[str] = {key}
    while grown := {k for o in orders.values() if keys & set(o.identity_keys) for k in o.identity_keys} - keys:
        keys |= grown
    return {o.order_id for o in orders.values() if keys & set(o.identity_keys)}


def history_total(page) -> int:  # type: ignore[no-untyped-def]
    summary = page.get_by_text(re.compile(r"^\d+ orders? across every channel$"))
    summary.wait_for()
    return int(summary.inner_text().split()[0])


def test_sign_in_page_keeps_a_pasted_token_and_opens_the_role_screen(page, console: Console) -> None:
    page.goto(f"{console.base}/console/")
    check_screen(page, "01-sign-in")
    page.get_by_role("textbox", name="Token").fill(console.token(Role.CSR))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/csr$"))
    assert page.locator(".role").inner_text().lower() == "csr"
    assert page.evaluate("Object.keys(sessionStorage)") == ["orderrepo.console.token"]


def test_a_partial_phone_number_finds_the_customer_and_opens_the_history(page, console: Console) -> None:
    named = next(o for o in console.orders.values() if o.customer.name and o.customer.phone)
    digits = "".join(ch for ch in named.customer.phone if ch.isdigit())
    partial = f"{digits[-7:-4]}-{digits[-4:]}"  # the last seven digits, written another way
    page.goto(console.url("csr", console.token(Role.CSR)))
    assert "token=" not in page.url  # the login link's token moved to sessionStorage
    page.keyboard.press("/")
    page.keyboard.type(partial)
    customer = page.locator("[role=option][data-key]", has_text=named.customer.name)
    customer.first.wait_for()
    key = customer.first.get_attribute("data-key")
    position = page.locator("[role=option]").evaluate_all(
        "(nodes, key) => nodes.findIndex(n => n.dataset.key === key)", key)
    for _ in range(position):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert named.order_id in linked_orders(console.orders, key)
    assert history_total(page) == len(linked_orders(console.orders, key))
    assert named.customer.name in page.locator("#detail h2").inner_text()
    check_screen(page, "02-csr-customer-history")


def test_opening_an_order_shows_its_cross_channel_return_and_timeline(page, console: Console) -> None:
    order = next(o for o in console.orders.values()
                 if any(r.channel and r.channel != o.channel for r in o.returns))
    crossed = next(r for r in order.returns if r.channel and r.channel != order.channel)
    token = console.token(Role.CSR)
    page.goto(console.url("csr", token))
    page.get_by_label("Find a customer or order").fill(order.order_id)
    page.locator("[role=option]", has_text=order.order_id).first.click()
    returned = page.locator(".return-item", has_text=f"Return {crossed.return_id}")
    returned.wait_for()
    assert crossed.channel.replace("_", " ") in returned.locator(".channel").inner_text().lower()
    assert returned.locator(".tag-cross").inner_text().lower() == "cross-channel"
    entries = httpx.get(f"{console.base}/orders/{quote(order.order_id)}/timeline",
                        headers={"Authorization": f"Bearer {token}"}).json()["entries"]
    assert page.locator(".timeline-entry").count() == len(entries)
    assert re.search(r"updated (just now|\d+ s ago) · served by the \w+ tier", page.locator(".freshness").inner_text())
    check_screen(page, "03-csr-order-detail")


def _two_customers(orders: dict[str, Order]) -> tuple[str, str]:
    counts = Counter(k for o in orders.values() for k in o.identity_keys if k.startswith("email:"))
    ranked = [key for key, _ in counts.most_common()]
    first = ranked[0]
    other = next(k for k in ranked[1:] if not linked_orders(orders, k) & linked_orders(orders, first))
    return first, other


def test_storefront_page_of_one_customer_never_shows_another_even_when_the_url_is_edited(
        page, console: Console) -> None:
    mine, theirs = _two_customers(console.orders)
    expected = {o.order_id for o in console.orders.values() if mine in o.identity_keys}  # the token's key only
    page.goto(console.url("my-orders", console.token(Role.STOREFRONT, mine)))
    page.get_by_text(re.compile(r"^Showing \d+ of \d+ orders$")).wait_for()
    while page.get_by_role("button", name="Load more orders").is_visible():
        shown = page.locator(".order-card").count()
        page.get_by_role("button", name="Load more orders").click()
        page.wait_for_function(f"document.querySelectorAll('.order-card').length > {shown}")
    links = page.locator(".order-card a").evaluate_all("nodes => nodes.map(n => n.getAttribute('aria-label'))")
    assert {label.removeprefix("Details of order ") for label in links} == expected
    check_screen(page, "04-my-orders")

    page.goto(f"{console.base}/console/my-orders?customer={quote(theirs)}")
    assert "Not allowed for this role" in page.get_by_role("alert").inner_text()
    assert page.locator(".order-card").count() == 0
    their_order = sorted(linked_orders(console.orders, theirs))[0]
    page.goto(f"{console.base}/console/my-orders?order={quote(their_order)}")
    assert page.get_by_role("alert").inner_text().startswith("Not found")
    assert their_order not in page.locator("main").inner_text().replace(f"'{their_order}'", "")

    page.goto(f"{console.base}/console/my-orders?order={quote(sorted(expected)[0])}")
    page.locator(".order-head").wait_for()
    check_screen(page, "05-my-orders-detail")


def _personal_data(orders: dict[str, Order]) -> set[str]:
    found: set[str] = set()
    for order in orders.values():
        c = order.customer
        found |= {v for v in (c.email, c.phone, c.name, c.loyalty_id, c.customer_id) if v and len(v) > 3}
        if order.shipping_address:
            found |= {v for v in order.shipping_address.model_dump().values() if isinstance(v, str) and len(v) > 5}
    return found


def test_the_analyst_view_charts_the_data_and_shows_no_personal_data(page, console: Console) -> None:
    token = console.token(Role.ANALYST)
    page.goto(console.url("analyst", token))
    page.get_by_text(re.compile(r"^[\d,]+ orders in this view")).wait_for()
    assert page.get_by_text(f"{len(console.orders):,} orders in this view").count() == 1
    sales = httpx.get(f"{console.base}/analytics/sales", headers={"Authorization": f"Bearer {token}"},
                      params={"interval": "day"}).json()["rows"]
    assert page.locator("#table-sales tbody tr").count() == len(sales)
    assert page.evaluate("Object.keys(Chart.instances).length") == 3  # the three charts were drawn
    page.locator("#pseudonyms button").first.click()
    page.locator("#explorer-detail .timeline-entry").first.wait_for()
    html = page.content()
    leaked = sorted(value for value in _personal_data(console.orders) if value in html)
    assert not leaked, f"personal data on the analyst screen: {leaked[:5]}"
    check_screen(page, "06-analyst")

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Export CSV").click()
    lines = Path(csv_download.value.path()).read_text().splitlines()
    assert lines[0].startswith("id,channel,status,placedAt") and len(lines) == 1 + 100  # the rows on screen
    with page.expect_download() as parquet_download:
        page.get_by_role("button", name="Export Parquet").click()
    exported = pl.read_parquet(parquet_download.value.path())
    assert exported.height == len(console.orders) and set(exported["order_id"]) == set(console.orders)
    assert exported["customer"].str.starts_with("p1_").all()


def test_the_operator_view_reports_engine_ingest_and_volume(page, console: Console) -> None:
    page.goto(console.url("operator", console.token(Role.ADMIN)))
    page.locator("#tiers tbody tr").first.wait_for()
    assert page.locator("#tiers tbody tr td:first-child").all_inner_texts() == ["hot", "warm", "cold"]
    assert page.locator("#engine .status").text_content() in ("green", "yellow")
    worker = page.locator("#workers tbody tr")
    assert worker.count() == 1
    assert f"{console.published:,}" in worker.inner_text()
    hot = page.locator("#tiers tbody tr").first.locator("td")
    assert hot.nth(0).inner_text() == "hot" and hot.nth(1).inner_text() == f"{len(console.orders):,}"
    assert page.locator("#broker .status").text_content() == "unknown"
    check_screen(page, "07-operator")


def test_each_screen_refuses_a_role_the_api_refuses(page, console: Console) -> None:
    page.goto(console.url("operator", console.token(Role.CSR)))
    assert "Not allowed for this role" in page.get_by_role("alert").inner_text()
    page.goto(console.url("analyst", console.token(Role.STOREFRONT, "email:nobody@example.com")))
    assert "Not allowed for this role" in page.get_by_role("alert").first.inner_text()
