"""The API's routes over the in-memory reader: paging, filters, errors, typed answers, exports.

No servers: `app.dependency_overrides` puts `FakeOrderReader` behind the read port.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import uvicorn
from fastapi.testclient import TestClient

from query_api.auth import Role
from query_api.read_port import OrderFilter, Pages
from tests.fakes.order_reader import FakeOrderReader
from tests.integration.api_server import free_port
from tests.unit.api_fixtures import app_over, bearer, change, client_over, entry, order

CSR = bearer(Role.CSR)
ANALYST = bearer(Role.ANALYST)
HISTORY = [order(f"web-{i}", placed_at=f"2026-03-{i:02d}T10:00:00+00:00") for i in range(1, 8)]
UNDATED = order("app-9", channel="app", placed_at=None)
OTHER = order("web-99", keys=("email:bo@example.com",), placed_at="2026-04-01T00:00:00+00:00")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return client_over(FakeOrderReader([*HISTORY, UNDATED, OTHER]), tmp_path)


def _pages(client: TestClient, path: str, size: int, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        paging = {"size": size, **({"cursor": cursor} if cursor else {})}
        answer = client.get(path, headers=CSR, params={**paging, **params})
        assert answer.status_code == 200, answer.text
        pages.append([item["order_id"] for item in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages


def test_customer_history_pages_newest_first_and_undated_orders_last(client: TestClient) -> None:
    pages = _pages(client, "/customers/email:ana@example.com/orders", 3)
    assert pages == [["web-7", "web-6", "web-5"], ["web-4", "web-3", "web-2"], ["web-1", "app-9"]]
    first = client.get("/customers/email:ana@example.com/orders", headers=CSR, params={"size": 3}).json()
    assert first["total"] == 8 and {item["tier"] for item in first["items"]} == {"hot"}


def test_history_filters_by_channel_and_placed_range(client: TestClient) -> None:
    answer = client.get("/customers/email:ana@example.com/orders", headers=CSR, params={
        "placed_from": "2026-03-03T00:00:00Z", "placed_to": "2026-03-05T00:00:00Z", "channel": "web"}).json()
    assert [item["order_id"] for item in answer["items"]] == ["web-4", "web-3"] and answer["total"] == 2


@pytest.mark.parametrize(("params", "status", "error"), [
    ({"size": 101}, 400, "bad_request"),
    ({"size": 0}, 422, "invalid_request"),
    ({"size": 1001}, 422, "invalid_request"),
    ({"cursor": "!!not-a-cursor!!"}, 400, "bad_cursor"),
    ({"placed_from": "2026-03-05T00:00:00Z", "placed_to": "2026-03-01T00:00:00Z"}, 400, "bad_request"),
    ({"placed_from": "yesterday"}, 422, "invalid_request"),
])
def test_one_paging_and_filter_rule_for_every_paged_route(client: TestClient, params: dict, status: int,
                                                          error: str) -> None:
    for path, token in (("/customers/email:ana@example.com/orders", CSR), ("/search?q=ana", CSR),
                        ("/analytics/orders-in-state?status=confirmed&at=2026-03-02T00:00:00Z", ANALYST)):
        if "placed" in str(params) and not path.startswith("/customers"):
            continue
        answer = client.get(path, headers=token, params=params)
        assert (answer.status_code, answer.json()["error"]) == (status, error), (path, answer.text)


def test_storefront_reads_only_its_own_customer(client: TestClient) -> None:
    token = bearer(Role.STOREFRONT, ("email:bo@example.com",))
    mine = client.get("/customers/email:bo@example.com/orders", headers=token).json()
    assert [item["order_id"] for item in mine["items"]] == ["web-99"]
    assert client.get("/customers/email:ana@example.com/orders", headers=token).status_code == 403
    assert client.get("/orders/web-1", headers=token).status_code == 404
    assert client.get("/search", headers=token, params={"q": "ana"}).status_code == 403


def test_search_answers_items_and_facets(client: TestClient) -> None:
    answer = client.get("/search", headers=CSR, params={"q": "bo@example", "size": 5}).json()
    assert [item["order_id"] for item in answer["items"]] == ["web-99"]
    assert answer["facets"] == {"channel": {"web": 1}, "status": {"confirmed": 1}, "store": {}}


def test_timeline_entries_are_typed_and_as_of_replays_them(tmp_path: Path) -> None:
    created = change("web-1", "e1", "2026-03-01T10:00:00+00:00", "confirmed", kind="created")
    shipped = change("web-1", "e2", "2026-03-02T10:00:00+00:00", "shipped")
    entries = [entry(created, categories=("order_created", "status_transition"), changes={"status": "confirmed"}),
               entry(shipped, categories=("line_status", "status_transition"),
                     changes={"status": "shipped", "lines[].status": {"1": "shipped"},
                              "shipments[]": {"added": ["s1"]}})]
    client = client_over(FakeOrderReader(HISTORY, entries), tmp_path)
    timeline = client.get("/orders/web-1/timeline", headers=CSR).json()
    assert timeline["tier"] == "hot" and [e["status_after"] for e in timeline["entries"]] == ["confirmed", "shipped"]
    changes = {c["path"]: c for c in timeline["entries"][1]["changes"]}
    assert changes["lines[].status"]["items"] == {"1": "shipped"}
    assert changes["lines[].status"]["category"] == "line_status"
    assert changes["shipments[]"]["added"] == ["s1"] and changes["status"]["value"] == "shipped"
    assert "event" not in timeline["entries"][0]
    early = client.get("/orders/web-1/as-of", headers=CSR, params={"at": "2026-03-01T12:00:00Z"}).json()
    later = client.get("/orders/web-1/as-of", headers=CSR, params={"at": "2026-03-02T12:00:00Z"}).json()
    assert (early["status"], later["status"]) == ("confirmed", "shipped")
    before = client.get("/orders/web-1/as-of", headers=CSR, params={"at": "2026-02-01T00:00:00Z"})
    assert before.status_code == 404 and before.json()["error"] == "not_found"


def test_analytics_answers_are_typed_counts(tmp_path: Path) -> None:
    returned = order("web-r", status="returned", returns=[{"return_id": "r1", "channel": "store"}],
                     status_history={"confirmed": "2026-03-01T10:00:00+00:00",
                                     "delivered": "2026-03-03T10:00:00+00:00"},
                     lines=[{"line_id": "1", "sku": "A", "fulfillment_type": "ship_to_home"}])
    cancelled = order("store-c", channel="store", status="cancelled", placed_at="2026-03-09T10:00:00+00:00")
    client = client_over(FakeOrderReader([returned, cancelled, *HISTORY[:2]]), tmp_path)
    sales = client.get("/analytics/sales", headers=ANALYST, params={"interval": "month"}).json()
    assert sales == {"interval": "month", "rows": [
        {"period": "2026-03-01T00:00:00.000Z", "channel": "store", "orders": 1, "revenue": 20.0},
        {"period": "2026-03-01T00:00:00.000Z", "channel": "web", "orders": 3, "revenue": 60.0}]}
    rates = client.get("/analytics/rates", headers=ANALYST).json()["by_channel"]
    assert rates["store"] == {"orders": 1, "cancelled": 1, "cancellation_rate": 1.0, "returned": 0, "return_rate": 0.0}
    assert rates["web"]["returned"] == 1 and rates["web"]["return_rate"] == round(1 / 3, 4)
    journeys = client.get("/analytics/cross-channel-journeys", headers=ANALYST).json()
    assert journeys == {"journeys": [{"bought_on": "web", "returned_on": "store", "orders": 1}]}
    times = client.get("/analytics/fulfillment-times", headers=ANALYST).json()["by_fulfillment_type"]
    assert times == {"ship_to_home": {"orders": 1, "p50": 48.0, "p90": 48.0, "p99": 48.0}}
    in_state = client.get("/analytics/orders-in-state", headers=ANALYST,
                          params={"status": "delivered", "at": "2026-03-04T00:00:00Z"}).json()
    assert [item["order_id"] for item in in_state["items"]] == ["web-r"] and in_state["total"] == 1


def test_parquet_export_streams_every_row_pseudonymised(tmp_path: Path) -> None:
    client = client_over(FakeOrderReader([*HISTORY, OTHER], export_page=3), tmp_path)
    answer = client.get("/export/orders.parquet", headers=ANALYST, params={"channel": "web"})
    frame = pl.read_parquet(io.BytesIO(answer.content))
    assert sorted(frame["order_id"].to_list()) == sorted(o["order_id"] for o in [*HISTORY, OTHER])
    assert frame["customer"].str.starts_with("p1_").all() and frame.height == 8
    assert client.get("/export/orders.parquet", headers=CSR).status_code == 403


class _FailsOnSecondPage(FakeOrderReader):
    def export_orders(self, filters: OrderFilter, *, limit: int | None) -> Pages:
        async def pages() -> Pages:
            yield [HISTORY[0]]
            raise ConnectionError("the store went away mid-export")
        return pages()


def test_an_export_that_fails_half_way_is_never_delivered_as_a_complete_file(tmp_path: Path) -> None:
    client = client_over(_FailsOnSecondPage(HISTORY), tmp_path)
    with pytest.raises(ConnectionError, match="mid-export"):  # the server aborts the response
        client.get("/export/orders.parquet", headers=ANALYST)
    tolerant = TestClient(client.app, raise_server_exceptions=False)
    with tolerant.stream("GET", "/export/orders.parquet", headers=ANALYST) as answer:
        body = b"".join(answer.iter_bytes())
    assert not body.endswith(b"PAR1")  # a Parquet file ends with its footer magic; this one never got it


def test_over_real_http_a_half_failed_export_is_an_incomplete_chunked_body(tmp_path: Path) -> None:
    server = uvicorn.Server(uvicorn.Config(app_over(_FailsOnSecondPage(HISTORY), tmp_path), port=free_port(),
                                           log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            time.sleep(0.02)
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            httpx.get(f"http://127.0.0.1:{server.config.port}/export/orders.parquet", headers=ANALYST, timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_the_public_schema_has_no_free_form_objects(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    untyped = [f"{name}.{field}" for name, schema in schemas.items()
               for field, prop in schema.get("properties", {}).items()
               if prop == {} or prop.get("additionalProperties") in (True, {})
               or (prop.get("type") == "object" and not {"properties", "additionalProperties"} & set(prop))]
    assert untyped == []
    assert {"OrderOut", "PaymentSummary", "AddressOut", "TimelineEntryOut", "SalesRowOut", "ErrorBody",
            "ReferenceMatches"} <= set(schemas)
    assert "HTTPValidationError" not in schemas  # a 422 answers ErrorBody, as documented
