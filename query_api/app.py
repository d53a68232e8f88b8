"""FastAPI application factory: one engine client and one order reader per process.

The reader answers from every tier (`query_api.tier_wiring`); the lifespan starts the read
recorder and, on shutdown, flushes it. The process imports the engine adapter and
`retention`, never Kafka or the ingest worker. The token
secret is checked when the app is created, so an unsafe production start fails at once.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from adapters.engine_settings import connect_async_engine
from settings import Settings, get_settings
from settings.log_setup import configure_logging
from query_api.console import install_console
from query_api.errors import error_responses, install_error_handlers
from query_api.metrics import observe_engine, observe_request
from query_api.params import cursor_key
from query_api.read_port import OrderReader
from query_api.schemas import ErrorBody
from query_api.routes import analytics, customers, export, health, orders, search
from query_api.secret_policy import token_secret
from query_api.security import install_security, limit_responses
from query_api.tier_wiring import open_tier_services


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings.log_level, settings.log_format)
    app.state.engine = await connect_async_engine(settings)
    app.state.engine.observer = observe_engine
    app.state.tiers = await open_tier_services(settings, app.state.engine)
    app.state.reader = app.state.given_reader or app.state.tiers.reader
    gc.freeze()  # start-up objects (routes, models, schemas) leave the collector's full passes: shorter pauses
    yield
    try:
        await app.state.tiers.close()  # flushes the reads counted since the last flush
    finally:
        await app.state.engine.close()


def add_routes(app: FastAPI, router: APIRouter, *, responses: dict[int | str, dict[str, Any]]) -> None:
    """`router`'s routes as the app's own, each with `responses` added (what `include_router` would
    publish: the OpenAPI document is byte-identical, `tests/unit/test_api_startup.py` compares it).

    Why not `include_router`: FastAPI keeps an included router as one node that every request
    matches twice (once to find the router, once inside it to find the route), and tries each
    included router before the next; flat routes are matched once each, which took a third off
    FastAPI's own CPU per request (routing). The routers declare no dependencies, limits or
    response class of their own, so nothing an inclusion would add is lost (checked here)."""
    if router.dependencies or router.callbacks or router.responses:
        raise ValueError(f"router {router.prefix!r} declares what add_routes does not carry over")
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise ValueError(f"{route!r} is not an API route")
        app.router.add_api_route(
            route.path, route.endpoint, response_model=route.response_model, status_code=route.status_code,
            tags=route.tags, dependencies=route.dependencies, summary=route.summary, description=route.description,
            response_description=route.response_description, responses={**responses, **route.responses},
            deprecated=route.deprecated, methods=route.methods, operation_id=route.operation_id,
            response_model_include=route.response_model_include, response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none, include_in_schema=route.include_in_schema,
            response_class=route.response_class, name=route.name, route_class_override=type(route),
            callbacks=route.callbacks, openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function)


def create_app(settings: Settings | None = None, *, reader: OrderReader | None = None) -> FastAPI:
    """`reader`: another implementation of the read port behind the same routes, auth and views
    (the benchmark's PostgreSQL baseline); by default the tiered engine reader."""
    settings = settings or get_settings()
    # the default response class on purpose: with a response model, FastAPI has pydantic write
    # the JSON bytes in one pass (a custom class such as ORJSONResponse turns that path off)
    app = FastAPI(title="Omnichannel Order Repository", version="0.1.0", lifespan=lifespan,
                  description="Order reads for storefronts, customer service and analysts.")
    app.state.settings = settings
    app.state.given_reader = reader
    app.state.token_secret = token_secret(settings)  # refuses unsafe secrets in production first
    app.state.cursor_key = cursor_key(app.state.token_secret)
    install_error_handlers(app)
    limits = limit_responses(ErrorBody)  # every status a route really answers is in the published contract
    refusals = {**limits, **error_responses(ErrorBody, 400, 401, 403, 405, 422, 503)}
    for module in (orders, customers, search, analytics, export):
        add_routes(app, module.router, responses=refusals)
    probes = {status: limits[status] for status in (413, 414)}  # probes are exempt from rate limits
    add_routes(app, health.router, responses={**probes, **error_responses(ErrorBody, 405)})
    install_console(app, settings)  # the screens at /console (query_api/console)
    install_security(app, settings, on_request=observe_request)
    return app
