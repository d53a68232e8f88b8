"""How the API process starts: what it imports, which token secrets it accepts, and the
integration fixture that launches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typing import Any

import orjson
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import _IncludedRouter
from pydantic import ValidationError

from query_api import app as app_module
from query_api.app import create_app
from query_api.routes import analytics, customers, export, health, orders, search
from query_api.secret_policy import GENERATED_SECRET_FILE, UnsafeSettings
from settings import Settings, StackSettings
from tests.integration.api_server import ApiDidNotStart, running_api

STRONG = "a-production-secret-of-its-own-0123456789"


def test_the_api_process_imports_neither_kafka_nor_the_ingest_worker() -> None:
    probe = ("import sys, query_api.app; "
             "print(sorted(m for m in sys.modules if m == 'kafka' or m.startswith(('kafka.', 'ingest'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _settings(home: Path, **values: object) -> Settings:
    return Settings(_env_file=None, stack=StackSettings(home=home), **values)


def test_production_refuses_a_missing_secret(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettings, match="ORDERREPO_API_TOKEN_SECRET"):
        create_app(_settings(tmp_path, env="production", api_token_secret=None))


def test_a_weak_secret_is_refused_when_the_settings_are_read(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="api_token_secret"):
        _settings(tmp_path, env="production", api_token_secret="short-secret")


def test_production_refuses_the_generated_development_secret(tmp_path: Path) -> None:
    development = create_app(_settings(tmp_path))  # generates the local secret
    generated = (tmp_path / GENERATED_SECRET_FILE).read_text().strip()
    assert development.state.token_secret == generated and len(generated) >= 32
    with pytest.raises(UnsafeSettings, match="generated development secret"):
        create_app(_settings(tmp_path, env="production", api_token_secret=generated))


def test_production_starts_with_a_secret_of_its_own(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, env="production", api_token_secret=STRONG, api_pseudonym_secret=STRONG))
    assert app.state.token_secret == STRONG
    assert not (tmp_path / GENERATED_SECRET_FILE).exists()  # production never creates the demo secret


def test_demo_mode_accepts_the_generated_secret(tmp_path: Path) -> None:
    assert create_app(_settings(tmp_path, env="demo")).state.token_secret == (
        tmp_path / GENERATED_SECRET_FILE).read_text().strip()


def test_the_env_setting_comes_from_orderrepo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_ENV", "production")
    assert Settings(_env_file=None).env == "production"
    monkeypatch.setenv("ORDERREPO_ENV", "staging")
    with pytest.raises(ValueError, match="production"):
        Settings(_env_file=None)


def test_the_api_fixture_fails_with_the_output_of_a_server_that_never_becomes_ready(tmp_path: Path) -> None:
    silent = [sys.executable, "-c", "import sys, time; print('booting on port', sys.argv[-1], flush=True); "
                                    "time.sleep(120)"]
    with pytest.raises(ApiDidNotStart, match=r"not ready(.|\n)*booting on port"):
        with running_api(_settings(tmp_path), STRONG, command=silent, ready_timeout_s=1.5):
            pytest.fail("the fixture yielded although the server never became ready")


def test_the_api_fixture_fails_with_the_output_of_a_server_that_exits(tmp_path: Path) -> None:
    crashing = [sys.executable, "-c", "import sys; print('cannot bind', flush=True); sys.exit(3)"]
    with pytest.raises(ApiDidNotStart, match=r"exited with code 3(.|\n)*cannot bind"):
        with running_api(_settings(tmp_path), STRONG, command=crashing):
            pytest.fail("the fixture yielded although the server exited")


def test_the_served_app_runs_on_httptools_and_uvloop() -> None:
    """`orderrepo api` leaves uvicorn's loop and HTTP parser on `auto`: the C parser and loop
    (uvicorn[standard]) must be what `auto` resolves to, not the pure-Python h11 and asyncio ones."""
    import uvicorn.config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    async def app(scope: object, receive: object, send: object) -> None:  # the choice does not depend on the app
        raise AssertionError("never called")

    config = uvicorn.config.Config(app, log_config=None, access_log=False)  # `orderrepo api`'s options
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None and loop_factory.__module__.startswith("uvloop")


def _app(tmp_path: Path) -> FastAPI:
    return create_app(Settings(_env_file=None, api_token_secret="x" * 40, stack=StackSettings(home=tmp_path)))


def test_flat_routes_publish_exactly_what_included_routers_published(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The data routers' routes are the app's own (one match per route, `query_api.app.add_routes`);
    the OpenAPI document is byte for byte the one `include_router` gave, key order included."""
    flat = _app(tmp_path)
    data_routers = [module.router for module in (orders, customers, search, analytics, export, health)]
    assert not [route for route in flat.router.routes
                if isinstance(route, _IncludedRouter) and any(route.original_router is r for r in data_routers)]
    assert {"/search", "/orders/{reference}", "/customers/{customer_key}/orders", "/analytics/sales",
            "/healthz"} <= {getattr(route, "path", None) for route in flat.router.routes}

    def included(app: FastAPI, router: APIRouter, *, responses: dict[int | str, dict[str, Any]]) -> None:
        app.include_router(router, responses=responses)
    monkeypatch.setattr(app_module, "add_routes", included)
    nested = _app(tmp_path)
    assert len([route for route in nested.router.routes
                if isinstance(route, _IncludedRouter) and any(route.original_router is r for r in data_routers)]) == 6
    assert orjson.dumps(flat.openapi()) == orjson.dumps(nested.openapi())


def test_add_routes_refuses_what_it_would_not_carry_over(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with pytest.raises(ValueError, match="declares"):
        app_module.add_routes(app, APIRouter(prefix="/x", dependencies=[Depends(lambda: None)]), responses={})
    router = APIRouter(prefix="/y")
    router.add_websocket_route("/ws", lambda websocket: None)
    with pytest.raises(ValueError, match="not an API route"):
        app_module.add_routes(app, router, responses={})
