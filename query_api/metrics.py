"""Prometheus metrics of the API process: request latency per route, engine latency and errors."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
REQUEST_SECONDS = Histogram("orderrepo_api_request_seconds", "API request latency", ["route", "status"],
                            buckets=_BUCKETS)
ENGINE_SECONDS = Histogram("orderrepo_api_engine_seconds", "Engine request latency seen by the API", ["method"],
                           buckets=_BUCKETS)
ENGINE_ERRORS = Counter("orderrepo_api_engine_errors_total", "Engine requests that failed", ["status"])


def observe_engine(method: str, seconds: float, status: int) -> None:
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
