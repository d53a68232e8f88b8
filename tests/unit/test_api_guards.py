"""The API's guards over the in-memory reader: 503 while the engine is away (and recovery),
analysts refused customer keys, staff reads audited, the storefront's scope, tampered cursors.

Endpoints are enumerated from the published OpenAPI document, so a new one is covered.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.search_engine import EngineError, EngineUnavailable
from query_api.auth import Role
from query_api.deps import RAW_KEY_REFUSAL, get_engine
from query_api.read_port import Pages
from settings.log_setup import configure_logging
from tests.fakes.order_reader import FakeOrderReader
from tests.log_capture import capture_logs, personal_values_in
from tests.openapi_walk import Operation, operations
from tests.unit.api_fixtures import app_over, bearer, change, entry, order

ANA, PHONE = "email:ana@example.com", "phone:5550102030"
MINE = order("web-1", refs=(("web_order_number", "#1042"),), keys=(ANA,), placed_at="2026-03-03T10:00:00+00:00")
LINKED = order("store-2", channel="store", keys=(ANA, PHONE), placed_at="2026-03-02T10:00:00+00:00",
               refs=(("pos_receipt", "R-77"),))
PHONE_ONLY = order("store-3", channel="store", keys=(PHONE,), placed_at="2026-03-01T10:00:00+00:00",
                   refs=(("pos_receipt", "R-77"),))
ORDERS = [MINE, LINKED, PHONE_ONLY]
ENTRIES = [entry(change("web-1", "e1", "2026-03-03T10:00:00+00:00", "confirmed", kind="created"),
                 categories=("order_created", "customer_linked", "address_change"),
                 changes={"identity_keys": [ANA], "status": "confirmed",
                          "shipping_address": {"name": "Ana Smith", "line1": "1 Main St", "city": "Springfield"}})]
VALUES = {"reference": "web-1", "customer_key": ANA, "q": "ana", "status": "confirmed", "at": "2026-03-05T00:00:00Z"}
ADMIN, CSR, ANALYST = bearer(Role.ADMIN), bearer(Role.CSR), bearer(Role.ANALYST)


def _app(tmp_path: Path, reader: Any = None) -> FastAPI:
    return app_over(reader or FakeOrderReader(ORDERS, ENTRIES), tmp_path)


def _operations(app: FastAPI) -> list[Operation]:
    return operations(app.openapi(), VALUES)


class SwitchableReader:
    """The fake reader behind a switch: while `down`, every read fails as an unreachable engine
    would (its message quoting a customer's email, as engine messages may)."""

    def __init__(self, reader: FakeOrderReader) -> None:
        self.reader, self.down = reader, True

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.reader, name)
        if name.startswith("export_"):
            return lambda *args, **kwargs: self._pages(method(*args, **kwargs))

        async def read(*args: Any, **kwargs: Any) -> Any:
            self._fail()
            return await method(*args, **kwargs)
        return read

    def _fail(self) -> None:
        if self.down:
            raise EngineUnavailable(503, "connection refused while searching for ana@example.com")

    async def _pages(self, pages: Pages) -> AsyncIterator[list[dict[str, Any]]]:
        self._fail()
        async for page in pages:
            yield page


class SwitchableEngine:
    class info:  # noqa: N801 - mirrors the engine's `info` attribute
        class kind:  # noqa: N801
            value = "opensearch"
        version = "3.8.0"

    def __init__(self) -> None:
        self.down = True

    async def health(self) -> dict[str, str]:
        if self.down:
            raise EngineUnavailable(503, "connection refused")
        return {"status": "green"}


def test_every_endpoint_answers_503_with_retry_after_while_the_engine_is_away_then_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger("httpx"), "disabled", True)  # the test client's own request lines
    reader, engine = SwitchableReader(FakeOrderReader(ORDERS, ENTRIES)), SwitchableEngine()
    app = _app(tmp_path, reader)
    app.dependency_overrides[get_engine] = lambda: engine
    client, requests = TestClient(app), operations(app.openapi(), VALUES, probes=True)
    assert len(requests) == 14
    configure_logging("INFO", "json")  # what the app's start-up does (no lifespan here)
    with capture_logs() as logs:
        away = {op.template: client.get(op.path, params=op.query, headers=ADMIN) for op in requests
                if op.template != "/healthz"}
    assert {template: answer.status_code for template, answer in away.items()} == dict.fromkeys(away, 503)
    assert all(answer.headers["retry-after"] == "5" for answer in away.values())
    assert all(answer.json()["detail"] for answer in away.values())
    assert logs.text().count('"engine unreachable"') == 12  # logged, by type only: never the engine's message
    assert personal_values_in(logs.text(), ["ana@example.com"]) == []
    reader.down = engine.down = False  # the same app, no restart
    back = {op.template: client.get(op.path, params=op.query, headers=ADMIN).status_code for op in requests}
    assert back == dict.fromkeys(back, 200)


class RefusingReader(FakeOrderReader):
    async def search(self, *args: Any, **kwargs: Any) -> Any:
        raise EngineError(400, "failed to parse query [ana@example.com] near 555-010-2030")


def test_an_engine_refusal_is_a_400_logged_by_status_and_type_only(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger("httpx"), "disabled", True)
    client = TestClient(_app(tmp_path, RefusingReader(ORDERS)))
    configure_logging("INFO", "json")
    with capture_logs() as logs:
        answer = client.get("/search", params={"q": "ana@example.com"}, headers=CSR)
    assert (answer.status_code, answer.json()["error"]) == (400, "bad_query")
    assert "engine refused a query" in logs.text() and "EngineError" in logs.text()
    assert personal_values_in(logs.text(), ["ana@example.com", "555-010-2030"]) == []


def test_analysts_naming_a_customer_key_anywhere_get_403(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    for op in _operations(client.app):  # type: ignore[arg-type]
        for key in (ANA, PHONE, "loyalty:LOY-00000001", "customer:C-0000001", "card:visa-4242", "EMAIL:A@B.C"):
            answer = client.get(op.path, params={**op.query, "store_id": key}, headers=ANALYST)
            assert (answer.status_code, answer.json()["detail"]) == (403, RAW_KEY_REFUSAL), (op.template, key)
    history = client.get(f"/customers/{ANA}/orders", headers=ANALYST)
    assert (history.status_code, history.json()["detail"]) == (403, RAW_KEY_REFUSAL)
    assert client.get("/customers/x:anything/orders", headers=ANALYST).status_code == 403  # no history by key
    assert client.get("/orders/email:ana@example.com", headers=ANALYST).status_code == 403
    assert client.get("/orders/email:ana@example.com", headers=CSR).status_code == 404


def test_analyst_timelines_carry_pseudonyms_and_no_address(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    analyst = client.get("/orders/web-1/timeline", headers=ANALYST).json()["entries"][0]["changes"]
    staff = client.get("/orders/web-1/timeline", headers=CSR).json()["entries"][0]["changes"]
    by_path = {change["path"]: change for change in analyst}
    assert by_path["identity_keys"]["values"][0].startswith("p1_") and ANA not in str(analyst)
    assert by_path["shipping_address"]["address"] is None and "Main St" not in str(analyst)
    assert {c["path"]: c for c in staff}["shipping_address"]["address"]["line1"] == "1 Main St"


def test_staff_reads_are_audited_and_no_other_role_is(tmp_path: Path) -> None:
    app = _app(tmp_path)
    client = TestClient(app)
    for token in (CSR, ANALYST, bearer(Role.STOREFRONT, (ANA,))):
        for path, params in ((f"/customers/{ANA}/orders", {}), ("/orders/%231042", {}), ("/orders/web-1/timeline", {}),
                             ("/orders/web-1/as-of", {"at": "2026-03-04T00:00:00Z"}), ("/search", {"q": "ana"})):
            client.get(path, params=params, headers=token)
    staff = bearer(Role.ADMIN)
    assert client.get("/orders/R-77", headers=staff).status_code == 300
    recorded = [(e.who, e.role, e.route, e.customer is not None, e.order_id) for e in app.state.audit.entries]
    assert recorded == [
        ("t", "csr", "/customers/{customer_key}/orders", True, None),
        ("t", "csr", "/orders/{reference}", True, "web-1"),
        ("t", "csr", "/orders/{reference}/timeline", True, "web-1"),
        ("t", "csr", "/orders/{reference}/as-of", True, "web-1"),
        ("t", "csr", "/search", False, None),
        ("t", "admin", "/orders/{reference}", True, "store-2"),  # a 300 answer shows both matches
        ("t", "admin", "/orders/{reference}", True, "store-3"),
    ]
    assert all(ANA not in str(e) and "ana" not in (e.customer or "") for e in app.state.audit.entries)


def test_my_orders_are_the_orders_carrying_the_tokens_keys_and_staff_follow_links(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    shopper = bearer(Role.STOREFRONT, (ANA,))
    mine = client.get(f"/customers/{ANA}/orders", headers=shopper).json()["items"]
    staff = client.get(f"/customers/{ANA}/orders", headers=CSR).json()["items"]
    assert [o["order_id"] for o in mine] == ["web-1", "store-2"]
    assert [o["order_id"] for o in staff] == ["web-1", "store-2", "store-3"]  # store-3 only shares the phone
    readable = {o: client.get(f"/orders/{o}", headers=shopper).status_code for o in ("web-1", "store-2", "store-3")}
    assert readable == {"web-1": 200, "store-2": 200, "store-3": 404}  # by reference exactly what the history shows
    assert client.get(f"/customers/{PHONE}/orders", headers=shopper).status_code == 403


def _json_values(depth: int = 3) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=False), st.text(max_size=30))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.text(max_size=5), inner, max_size=3), max_leaves=12)


def _b64(value: Any) -> str:
    """Any JSON, huge integers included (the standard library writes them, orjson would refuse)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


CURSORS = st.one_of(
    st.text(min_size=1, max_size=120),  # an empty cursor is no cursor: the first page
    _json_values().map(_b64),  # wrong types, nulls, nested objects, huge numbers, other lengths
    st.tuples(_json_values(), st.text(max_size=30)).map(lambda pair: _b64(list(pair))),  # values + forged MAC
)


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, list[Operation]]:
    app = _app(tmp_path_factory.mktemp("home"))
    found = [op for op in _operations(app) if op.paged]
    assert {op.template for op in found} == {"/customers/{customer_key}/orders", "/search",
                                             "/analytics/orders-in-state"}
    return TestClient(app), found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=CURSORS, which=st.integers(0, 2))
def test_any_cursor_the_api_did_not_issue_for_this_query_is_a_400(paged: tuple[TestClient, list[Operation]],
                                                                   cursor: str, which: int) -> None:
    client, found = paged
    op = found[which]
    answer = client.get(op.path, params={**op.query, "cursor": cursor}, headers=ADMIN)
    if len(cursor) > 512:
        assert answer.status_code == 422
    else:
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_cursor"), answer.text


def test_a_cursor_from_another_customers_or_another_filters_pages_is_a_400(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    first = client.get(f"/customers/{ANA}/orders", params={"size": 1}, headers=CSR).json()["next_cursor"]
    assert client.get(f"/customers/{ANA}/orders", params={"size": 2, "cursor": first},
                      headers=CSR).status_code == 200  # the same query, another page size: fine
    for path, params in ((f"/customers/{PHONE}/orders", {}), (f"/customers/{ANA}/orders", {"channel": "store"}),
                         ("/search", {"q": "ana"})):
        answer = client.get(path, params={**params, "cursor": first}, headers=CSR)
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_cursor"), path
        assert "not issued for this query" in answer.json()["detail"]


def test_the_contract_lists_every_status_each_endpoint_answers(tmp_path: Path) -> None:
    spec = _app(tmp_path).openapi()
    data = {"400", "401", "403", "405", "413", "414", "422", "429", "503"}
    for template, methods in spec["paths"].items():
        answers = methods["get"]["responses"]
        if template in ("/healthz", "/readyz"):
            assert {"405", "413", "414"} <= set(answers) and "429" not in answers
            continue
        assert data <= set(answers), template
        assert ({"300", "404"} <= set(answers)) == template.startswith("/orders/"), template
        for status in data - {"413", "414", "429"}:
            content = answers[status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
            assert set(content["example"]) == {"error", "detail"}
        assert answers["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert spec["paths"]["/readyz"]["get"]["responses"]["503"]["headers"]["Retry-After"]
