"""What an order answer shows, per role, and how a reference resolves (over the fake reader).

- staff and the storefront see the shipping address and the masked payment summary;
  analysts see neither, and a pseudonym instead of the customer;
- a reference carried by several orders answers 300 with every match, never one of them;
- a reference lookup matches reference fields only, never SKUs or emails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from query_api.auth import Role
from tests.fakes.order_reader import FakeOrderReader
from tests.unit.api_fixtures import bearer, client_over, order

ADDRESS = {"name": "Ana Smith", "line1": "1 Main St", "city": "Springfield", "postal_code": "01101", "country": "US"}
PAYMENTS = [
    {"payment_id": "p1", "method": "card", "brand": "visa", "last4": "4242", "authorized": "120.00",
     "captured": "120.00", "refunded": "20.00"},
    {"payment_id": "p2", "method": "gift_card", "captured": "5.00"},
]
PAID = order("web-1", refs=(("web_order_number", "#1042"),), shipping_address=ADDRESS, payments=PAYMENTS,
             shipments=[{"shipment_id": "s1", "tracking_number": "1Z999AA10123456784", "carrier": "ups"}])
SAME_NUMBER_IN_STORE = order("store-7", channel="store", placed_at="2026-02-10T15:00:00+00:00", store_id="S-12",
                             refs=(("pos_receipt", "1042"),), keys=("email:bo@example.com",))
REUSED_RECEIPT = [order(f"store-{n}", channel="store", store_id=store, placed_at=at, refs=(("pos_receipt", "R-77"),))
                  for n, store, at in ((20, "S-1", "2025-11-02T09:00:00+00:00"),
                                       (21, "S-2", "2026-01-05T09:00:00+00:00"))]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return client_over(FakeOrderReader([PAID, SAME_NUMBER_IN_STORE, *REUSED_RECEIPT]), tmp_path)


def test_csr_sees_address_and_masked_payment_summary(client: TestClient) -> None:
    body = client.get("/orders/web-1", headers=bearer(Role.CSR)).json()
    assert body["shipping_address"] == {**ADDRESS, "line2": None, "region": None}
    assert body["payment"] == {"methods": ["card", "gift_card"], "cards": ["visa •••• 4242"],
                               "authorized": "120.00",
                               "captured": "125.00", "refunded": "20.00", "net": "105.00"}
    assert [(p["brand"], p["last4"]) for p in body["payments"]] == [("visa", "4242"), (None, None)]
    assert "card_token" not in body["customer"] and "tok_secret_123" not in str(body)
    assert body["customer"]["email"] == "ana@example.com" and body["tier"] == "hot"


def test_the_storefront_sees_its_own_payment_and_address_and_nothing_of_others(client: TestClient) -> None:
    own = client.get("/orders/web-1", headers=bearer(Role.STOREFRONT, ("email:ana@example.com",))).json()
    assert own["payment"]["cards"] == ["visa •••• 4242"] and own["shipping_address"]["line1"] == "1 Main St"
    assert "tok_secret_123" not in str(own)
    foreign = client.get("/orders/web-1", headers=bearer(Role.STOREFRONT, ("email:bo@example.com",)))
    assert foreign.status_code == 404


def test_analysts_see_neither_address_nor_payment_nor_identity(client: TestClient) -> None:
    body = client.get("/orders/web-1", headers=bearer(Role.ANALYST)).json()
    assert body["shipping_address"] is None and body["payment"] is None and body["payments"] == []
    assert body["customer"]["pseudonym"].startswith("p1_")
    assert {k for k, v in body["customer"].items() if v is not None} == {"pseudonym"}
    history = client.get("/analytics/orders-in-state", headers=bearer(Role.ANALYST),
                         params={"status": "confirmed", "at": "2026-12-01T00:00:00Z"}).json()
    assert history["items"] and all(i["payment"] is None and i["shipping_address"] is None for i in history["items"])


def test_a_number_shared_by_two_channels_answers_300_with_both_orders(client: TestClient) -> None:
    for reference in ("1042", "#1042"):
        answer = client.get(f"/orders/{reference.replace('#', '%23')}", headers=bearer(Role.CSR))
        assert answer.status_code == 300, answer.text
        assert answer.json() == {"reference": reference, "matches": [
            {"order_id": "web-1", "channel": "web", "store_id": None, "placed_at": "2026-03-01T10:00:00Z",
             "status": "confirmed", "tier": "hot"},
            {"order_id": "store-7", "channel": "store", "store_id": "S-12", "placed_at": "2026-02-10T15:00:00Z",
             "status": "confirmed", "tier": "hot"}]}
    assert client.get("/orders/1042/timeline", headers=bearer(Role.CSR)).status_code == 300
    chosen = client.get("/orders/store-7", headers=bearer(Role.CSR))
    assert chosen.status_code == 200 and chosen.json()["store_id"] == "S-12"


def test_a_reused_pos_receipt_lists_every_store_and_date(client: TestClient) -> None:
    answer = client.get("/orders/R-77", headers=bearer(Role.CSR))
    assert answer.status_code == 300
    assert [(m["order_id"], m["store_id"], m["placed_at"][:10]) for m in answer.json()["matches"]] == [
        ("store-21", "S-2", "2026-01-05"), ("store-20", "S-1", "2025-11-02")]


def test_isolation_narrows_the_matches_a_storefront_sees(client: TestClient) -> None:
    answer = client.get("/orders/1042", headers=bearer(Role.STOREFRONT, ("email:bo@example.com",)))
    assert answer.status_code == 200 and answer.json()["order_id"] == "store-7"


@pytest.mark.parametrize("reference", ["1Z999AA10123456784", "1z999aa10123456784", "web-1"])
def test_tracking_numbers_and_global_ids_are_references(client: TestClient, reference: str) -> None:
    answer = client.get(f"/orders/{reference}", headers=bearer(Role.CSR))
    assert answer.status_code == 200 and answer.json()["order_id"] == "web-1"


@pytest.mark.parametrize("not_a_reference", ["SKU-RED-42", "ana@example.com", "Ana Smith", "tok_secret_123"])
def test_a_reference_lookup_never_matches_skus_emails_or_names(client: TestClient, not_a_reference: str) -> None:
    answer = client.get(f"/orders/{not_a_reference}", headers=bearer(Role.CSR))
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
