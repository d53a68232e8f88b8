"""install_security over a tiny FastAPI app: limits, rate limits, headers, CORS, offline docs, logs."""

from __future__ import annotations

import re
from urllib.parse import quote
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

from query_api.auth import Role, issue_token
from query_api.errors import install_error_handlers
from query_api.security import install_security
from settings import Settings, StackSettings
from settings.log_setup import configure_logging
from tests.log_capture import capture_logs, personal_values_in

SECRET = "unit-test-secret-0123456789abcdef0123456789"
EMAIL_KEY = "email:ana.lovelace@example.com"


def tiny_app(home: Path, on_request: Any = None, **overrides: Any) -> FastAPI:
    """Routes shaped like the real ones (a data route carrying a customer key in its path)."""
    settings = Settings(api_token_secret=SECRET, api_pseudonym_secret="p" * 32, stack=StackSettings(home=home),
                        **overrides)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/customers/{customer_key}/orders")
    async def orders(customer_key: str, size: int = 20) -> dict:
        return {"key": customer_key, "size": size}

    @app.post("/customers/{customer_key}/notes")
    async def notes(customer_key: str, request: Request) -> dict:
        return {"bytes": len(await request.body())}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    install_security(app, settings, on_request=on_request)
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield TestClient(tiny_app(tmp_path))


def bearer(subject: str = "agent") -> dict[str, str]:
    return {"authorization": f"Bearer {issue_token(SECRET, subject=subject, role=Role.CSR)}"}


def test_every_answer_says_nosniff_and_data_answers_are_never_stored(client: TestClient) -> None:
    answers = {
        "ok": client.get(f"/customers/{EMAIL_KEY}/orders"),
        "invalid": client.get("/customers/x/orders?size=abc"),
        "not found": client.get("/nowhere"),
        "wrong method": client.delete("/customers/x/orders"),
        "health": client.get("/healthz"),
        "docs": client.get("/docs"),
        "schema": client.get("/openapi.json"),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "ok": 200, "invalid": 422, "not found": 404, "wrong method": 405, "health": 200, "docs": 200, "schema": 200}
    assert all(answer.headers["x-content-type-options"] == "nosniff" for answer in answers.values())
    stored = {name for name, answer in answers.items() if "no-store" not in answer.headers.get("cache-control", "")}
    assert stored == {"health", "docs", "schema"}


def test_405_answers_list_the_allowed_methods(client: TestClient) -> None:
    answer = client.put("/customers/x/orders")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json()["error"] == "method_not_allowed"
    assert client.get("/customers/x/notes").headers["allow"] == "POST"


def test_header_query_and_body_limits(tmp_path: Path) -> None:
    client = TestClient(tiny_app(tmp_path, api_max_header_bytes=2048, api_max_query_chars=100,
                                 api_max_body_bytes=1000))
    big_header = client.get("/customers/x/orders", headers={"x-padding": "a" * 2100})
    long_query = client.get("/customers/x/orders?size=1&" + "q=" + "a" * 100)
    big_body = client.post("/customers/x/notes", content=b"a" * 1001)
    chunked = client.post("/customers/x/notes", content=iter([b"a" * 600, b"a" * 600]))
    fits = client.post("/customers/x/notes", content=b"a" * 1000)
    assert (big_header.status_code, big_header.json()["error"]) == (413, "headers_too_large")
    assert (long_query.status_code, long_query.json()["error"]) == (414, "uri_too_long")
    assert (big_body.status_code, big_body.json()["error"]) == (413, "payload_too_large")
    assert (chunked.status_code, chunked.json()["error"]) == (413, "payload_too_large")
    assert (fits.status_code, fits.json()) == (200, {"bytes": 1000})


def test_rate_limit_per_token_answers_429_with_retry_after(tmp_path: Path) -> None:
    client = TestClient(tiny_app(tmp_path, api_rate_per_token=0.5, api_burst_per_token=3, api_rate_per_client=0))
    first, second = bearer("first"), bearer("second")
    statuses = [client.get("/customers/x/orders", headers=first).status_code for _ in range(4)]
    refused = client.get("/customers/x/orders", headers=first)
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
    assert refused.headers["retry-after"] == "2"  # one token every 2 s
    assert client.get("/customers/x/orders", headers=second).status_code == 200  # its own bucket
    assert [client.get("/healthz", headers=first).status_code for _ in range(5)] == [200] * 5  # probes exempt


def test_rate_limit_per_client_address(tmp_path: Path) -> None:
    client = TestClient(tiny_app(tmp_path, api_rate_per_client=1, api_burst_per_client=2, api_rate_per_token=0))
    statuses = [client.get("/customers/x/orders", headers=bearer(f"t{i}")).status_code for i in range(3)]
    assert statuses == [200, 200, 429]  # new tokens do not buy a new allowance


def test_cors_is_off_by_default_and_answers_only_configured_origins(tmp_path: Path) -> None:
    preflight = {"origin": "https://shop.example", "access-control-request-method": "GET",
                 "access-control-request-headers": "authorization"}
    off = TestClient(tiny_app(tmp_path / "off"))
    assert "access-control-allow-origin" not in off.get("/customers/x/orders", headers={"origin": "https://shop.example"}).headers
    assert "access-control-allow-origin" not in off.options("/customers/x/orders", headers=preflight).headers
    on = TestClient(tiny_app(tmp_path / "on", api_cors_origins=["https://shop.example"]))
    allowed = on.options("/customers/x/orders", headers=preflight)
    assert (allowed.status_code, allowed.headers["access-control-allow-origin"]) == (200, "https://shop.example")
    assert allowed.headers["x-content-type-options"] == "nosniff"
    other = on.options("/customers/x/orders", headers={**preflight, "origin": "https://evil.example"})
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    limited = TestClient(tiny_app(tmp_path / "lim", api_cors_origins=["https://shop.example"], api_rate_per_client=1,
                                  api_burst_per_client=1))
    limited.get("/customers/x/orders")
    refused = limited.get("/customers/x/orders", headers={"origin": "https://shop.example"})
    assert refused.status_code == 429 and refused.headers["access-control-allow-origin"] == "https://shop.example"


def test_docs_are_served_without_any_outside_address(client: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/docs", "swagger-ui.css"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{asset}" in html
        assert re.findall(r"https?://[^\s\"'<>]+", html) == []
        served = client.get(f"/docs-assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000
    assert client.get("/docs-assets/favicon.png").headers["content-type"] == "image/png"


@pytest.fixture(scope="module")
def lenient_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return TestClient(tiny_app(tmp_path_factory.mktemp("any"), api_rate_per_client=0, api_rate_per_token=0),
                      raise_server_exceptions=False)


@hypothesis_settings(max_examples=80)
@given(path=st.text(max_size=40), query=st.text(max_size=60), header=st.binary(max_size=40))
def test_no_input_yields_a_server_error(lenient_client: TestClient, path: str, query: str, header: bytes) -> None:
    answer = lenient_client.get(f"/customers/{quote(path, safe='')}/orders", params={"size": query, "q": query},
                                headers={"authorization": header.strip() or b"x"})
    assert answer.status_code < 500


def test_access_log_has_route_templates_never_paths_or_tokens(tmp_path: Path) -> None:
    observed: list[tuple[str, int]] = []
    app = tiny_app(tmp_path, on_request=lambda route, status, seconds: observed.append((route, status)))
    client = TestClient(app)
    configure_logging("INFO", "json")
    headers = bearer()
    with capture_logs() as logs:
        client.get(f"/customers/{EMAIL_KEY}/orders?size=5", headers=headers)
        client.get(f"/unknown/{EMAIL_KEY}", headers=headers)
    lines = [line for line in logs.lines if '"request"' in line]
    assert len(lines) == 2
    assert '"route": "/customers/{customer_key}/orders"' in lines[0] and '"status": 200' in lines[0]
    assert '"route": "unmatched"' in lines[1] and '"status": 404' in lines[1]
    token = headers["authorization"].split()[1]
    assert personal_values_in(logs.text(), [EMAIL_KEY, "ana.lovelace", token, token[-20:]]) == []
    assert observed == [("/customers/{customer_key}/orders", 200), ("unmatched", 404)]


def test_limit_responses_document_the_refusals_in_the_schema(tmp_path: Path) -> None:
    from fastapi import APIRouter

    from query_api.schemas import ErrorBody
    from query_api.security import limit_responses

    app = tiny_app(tmp_path)
    router = APIRouter()

    @router.get("/orders/{reference}")
    async def order(reference: str) -> dict:
        return {}

    app.include_router(router, responses=limit_responses(ErrorBody))
    documented = app.openapi()["paths"]["/orders/{reference}"]["get"]["responses"]
    assert {"413", "414", "429"} <= set(documented)
    assert documented["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    assert documented["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_allow_lists_the_methods_of_routes_inside_included_routers(tmp_path: Path) -> None:
    from fastapi import APIRouter

    app = tiny_app(tmp_path)
    router = APIRouter(prefix="/orders")

    @router.get("/{reference}")
    async def order(reference: str) -> dict:
        return {}

    @router.delete("/{reference}")
    async def forget(reference: str) -> dict:
        return {}

    app.include_router(router)
    answer = TestClient(app).post("/orders/web-1")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, DELETE"
