"""FastAPI application factory: one engine client per process, created at start-up."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderrepo.bootstrap import connect_async_engine, index_names
from settings.log_setup import configure_logging
from settings import Settings, get_settings
from query_api.auth import resolve_secret
from query_api.console import install_console
from query_api.errors import install_error_handlers
from query_api.routes import analytics, customers, export, health, orders, search

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
REQUEST_SECONDS = Histogram("orderrepo_api_request_seconds", "API request latency", ["route", "status"],
                            buckets=_BUCKETS)
ENGINE_SECONDS = Histogram("orderrepo_api_engine_seconds", "Engine request latency seen by the API", ["method"],
                           buckets=_BUCKETS)
ENGINE_ERRORS = Counter("orderrepo_api_engine_errors_total", "Engine requests that failed", ["status"])


def _observe_engine(method: str, seconds: float, status: int) -> None:
    ENGINE_SECONDS.labels(method).observe(seconds)
    if status == 0 or status >= 400:
        ENGINE_ERRORS.labels(str(status)).inc()


class RequestTiming:
    """Request latency per route template, as plain ASGI: Starlette's BaseHTTPMiddleware
    (`@app.middleware`) costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(route, str(status)).observe(time.perf_counter() - started)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)
        app.state.settings = settings
        app.state.engine = await connect_async_engine(settings)
        app.state.engine.observer = _observe_engine
        app.state.names = index_names(settings)
        app.state.token_secret = resolve_secret(settings.api_token_secret, settings.stack.home)
        gc.freeze()  # start-up objects (routes, models, schemas) leave the collector's full passes: shorter pauses
        yield
        await app.state.engine.close()

    # the default response class on purpose: with a response model, FastAPI has pydantic write
    # the JSON bytes in one pass (a custom class such as ORJSONResponse turns that path off)
    app = FastAPI(title="Omnichannel Order Repository", version="0.1.0", lifespan=lifespan,
                  description="Order reads for storefronts, customer service and analysts.")
    app.add_middleware(RequestTiming)
    install_error_handlers(app)
    for module in (orders, customers, search, analytics, export, health):
        app.include_router(module.router)
    install_console(app, settings)  # the screens at /console (query_api/console)

    return app
