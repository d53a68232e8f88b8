"""The read routes' compiled plans (`query_api.lean_route`) answer exactly as FastAPI's own handler.

The same requests go to two apps over the same fake reader: one whose requests take the plans,
one whose reader sits behind `app.dependency_overrides` (FastAPI solves every request). Status,
body and headers must be equal, refusals and validation errors included (which refusal wins
when several apply is part of the contract).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from query_api.auth import Role
from query_api.lean_route import LeanRoute, compile_plan
from tests.fakes.order_reader import FakeOrderReader
from tests.unit.api_fixtures import app_over, bearer
from tests.unit.test_api_guards import ANA, ENTRIES, ORDERS

CSR, ANALYST, ADMIN = bearer(Role.CSR), bearer(Role.ANALYST), bearer(Role.ADMIN)
SHOPPER, OTHER_SHOPPER = bearer(Role.STOREFRONT, (ANA,)), bearer(Role.STOREFRONT, ("email:bo@example.com",))
HOT_ROUTES = {"/customers/{customer_key}/orders", "/orders/{reference}", "/orders/{reference}/timeline",
              "/orders/{reference}/as-of", "/search", "/analytics/sales", "/analytics/orders-in-state"}
HISTORY = f"/customers/{ANA}/orders"
REQUESTS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (HISTORY, {}, SHOPPER), (HISTORY, {"size": 1}, CSR), (HISTORY, {"channel": "store", "size": 5}, ADMIN),
    (HISTORY, {}, OTHER_SHOPPER), (HISTORY, {}, ANALYST), (HISTORY, {}, {}),
    (HISTORY, {"size": 0}, CSR), (HISTORY, {"size": "many"}, CSR), (HISTORY, {"size": 0, "channel": "moon"}, CSR),
    (HISTORY, {"size": 0}, {}),  # no token and a bad size: the 401 wins, as in FastAPI
    (HISTORY, {"placed_from": "2026-03-05T00:00:00Z", "placed_to": "2026-03-01T00:00:00Z", "size": 0}, CSR),
    (HISTORY, {"placed_from": "2026-03-05T00:00:00Z", "placed_to": "2026-03-01T00:00:00Z"}, CSR),
    (HISTORY, {"placed_from": "yesterday"}, CSR), (HISTORY, {"placed_from": "2026-03-05T00:00:00"}, CSR),
    (HISTORY, {"placed_from": "3026-03-05T00:00:00Z"}, CSR), (HISTORY, {"cursor": "forged"}, CSR),
    ("/customers/x/orders", {}, CSR),
    ("/orders/web-1", {}, CSR), ("/orders/web-1", {}, ANALYST), ("/orders/R-77", {}, CSR),
    ("/orders/nothing-here", {}, CSR), ("/orders/web-1", {}, SHOPPER), ("/orders/store-3", {}, SHOPPER),
    ("/orders/web-1/timeline", {}, ANALYST), ("/orders/web-1/timeline", {"limit": 5000}, CSR),
    ("/orders/web-1/as-of", {"at": "2026-03-05T00:00:00Z"}, CSR), ("/orders/web-1/as-of", {}, CSR),
    ("/search", {"q": "ana"}, CSR), ("/search", {"q": "ana", "status": "confirmed", "size": 2}, ADMIN),
    ("/search", {"q": "  "}, CSR), ("/search", {}, CSR), ("/search", {"q": "x" * 201}, CSR),
    ("/search", {"q": "ana"}, ANALYST), ("/search", {"q": "email:ana@example.com"}, ANALYST),
    ("/analytics/sales", {"interval": "week"}, ANALYST), ("/analytics/sales", {"interval": "decade"}, ANALYST),
    ("/analytics/orders-in-state", {"status": "confirmed", "at": "2026-03-05T00:00:00Z"}, ANALYST),
    ("/analytics/orders-in-state", {"status": "confirmed"}, ANALYST),
]


def _client(tmp_path: Path, *, standard: bool) -> TestClient:
    return TestClient(app_over(FakeOrderReader(ORDERS, ENTRIES), tmp_path, standard=standard))


def _answer(client: TestClient, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[Any, ...]:
    answer = client.get(path, params=params, headers=headers)
    shown = {name: value for name, value in answer.headers.items() if name != "content-length"}
    return answer.status_code, answer.content, shown


@pytest.mark.parametrize(("path", "params", "headers"), REQUESTS)
def test_plans_answer_as_fastapi_does(tmp_path: Path, path: str, params: dict[str, Any],
                                      headers: dict[str, str]) -> None:
    lean, standard = _client(tmp_path, standard=False), _client(tmp_path, standard=True)
    assert _answer(lean, path, params, headers) == _answer(standard, path, params, headers)


def test_staff_reads_are_audited_the_same_through_a_plan(tmp_path: Path) -> None:
    audits = []
    for standard in (False, True):
        client = _client(tmp_path, standard=standard)
        for path in (HISTORY, "/orders/web-1", "/orders/R-77", "/orders/web-1/timeline"):
            client.get(path, headers=CSR)
        client.get("/search", params={"q": "ana"}, headers=CSR)
        app: Any = client.app
        audits.append([(e.route, e.customer, e.order_id) for e in app.state.audit.entries])
    assert audits[0] == audits[1] and len(audits[0]) == 6  # history, 1, 2 (a 300 lists both), 1, search


def _routes(app: FastAPI) -> dict[str, Any]:
    return {route.path: route for router in _routers() for route in router.routes}


def _routers() -> list[Any]:
    from query_api.routes import analytics, customers, export, health, orders, search

    return [module.router for module in (analytics, customers, export, health, orders, search)]


def test_every_hot_read_route_compiles_to_a_plan(tmp_path: Path) -> None:
    routes = _routes(app_over(FakeOrderReader(ORDERS, ENTRIES), tmp_path))
    assert all(isinstance(route, LeanRoute) for route in routes.values())
    for path in HOT_ROUTES:
        steps = compile_plan(routes[path].dependant)
        assert steps[-1].call is routes[path].endpoint
        assert any(step.request_name for step in steps[:-1])  # the token check reads the request


def test_a_route_returning_a_model_keeps_fastapis_handler(tmp_path: Path) -> None:
    routes = _routes(app_over(FakeOrderReader(ORDERS, ENTRIES), tmp_path))
    handler = routes["/analytics/rates"].get_route_handler()
    assert handler.__name__ != "lean" and routes["/search"].get_route_handler().__name__ == "lean"
