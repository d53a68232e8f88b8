"""The API's protective layer, installed by one call: `install_security(app, settings)`.

What every request meets, outermost first (plain ASGI, no per-request task or stream):
1. access log (query_api/access_log.py): one line per request, route template, never the path;
2. response headers: `X-Content-Type-Options: nosniff` on every answer; `Cache-Control: no-store`
   on everything but health, metrics and the docs (every data route carries personal data);
   `Allow` on every 405;
3. CORS for storefront pages, only when origins are configured (off by default);
4. input limits: header bytes and body bytes (413), query string length (414), then rate limits
   per client address and per bearer token (in-memory token buckets; 429 with `Retry-After`).
   Health and metrics are exempt from rate limits (probes share one address).
Refusals are the API's error body `{"error", "detail"}`, never a 5xx. The interactive docs
(/docs, /redoc) load their scripts and styles from the API itself: they work offline.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from query_api.access_log import AccessLog, RequestObserver
from query_api.audit import install_audit
from query_api.auth import build_verifier
from query_api.pseudonyms import configure_pseudonyms
from query_api.rate_limit import TokenBuckets
from settings import Settings

DOCS_ASSETS = "/docs-assets"
RATE_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CACHEABLE = RATE_EXEMPT | {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def refusal(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def limit_responses(error_model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The refusals of this layer as OpenAPI responses, for `include_router(..., responses=...)`
    on the data routers, so the published contract lists them."""
    retry_after = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
    return {
        413: {"model": error_model, "description": "request headers or body over the configured limit"},
        414: {"model": error_model, "description": "query string over the configured limit"},
        429: {"model": error_model, "description": "rate limit of this token or client address reached",
              "headers": retry_after},
    }


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """The methods some route serves at this path (what a 405's `Allow` lists), found by asking
    each route whether it would fully match the request under each method (routers included by
    FastAPI answer `matches` for their whole subtree)."""
    return [method for method in _METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)]


class ResponseHeaders:
    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        cacheable = path in CACHEABLE or path.startswith(DOCS_ASSETS + "/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-content-type-options"] = "nosniff"
                if not cacheable:
                    headers["cache-control"] = "no-store"
                if message["status"] == 405 and "allow" not in headers:
                    headers["allow"] = ", ".join(allowed_methods(self.routes, scope))
            await send(message)

        await self.app(scope, receive, with_headers)


class _BodyTooLarge(Exception):
    pass


class InputLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_header_bytes = settings.api_max_header_bytes
        self.max_query_chars = settings.api_max_query_chars
        self.max_body_bytes = settings.api_max_body_bytes
        self.per_client = _buckets(settings.api_rate_per_client, settings.api_burst_per_client, settings)
        self.per_token = _buckets(settings.api_rate_per_token, settings.api_burst_per_token, settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._size_refusal(scope) or self._rate_refusal(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        started = False

        async def limited_receive() -> Message:
            message = await receive()
            received[0] += len(message.get("body", b""))
            if received[0] > self.max_body_bytes:
                raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        received = [0]
        try:
            await self.app(scope, limited_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._body_refusal()(scope, receive, send)

    def _body_refusal(self) -> JSONResponse:
        return refusal(413, "payload_too_large", f"request body over {self.max_body_bytes} bytes")

    def _size_refusal(self, scope: Scope) -> JSONResponse | None:
        header_bytes = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if header_bytes > self.max_header_bytes:
            return refusal(413, "headers_too_large", f"request headers over {self.max_header_bytes} bytes")
        if len(scope.get("query_string", b"")) > self.max_query_chars:
            return refusal(414, "uri_too_long", f"query string over {self.max_query_chars} characters")
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return refusal(400, "bad_request", "Content-Length is not a number")
                if int(value) > self.max_body_bytes:
                    return self._body_refusal()
        return None

    def _rate_refusal(self, scope: Scope) -> JSONResponse | None:
        if scope["path"] in RATE_EXEMPT:
            return None
        waits = [0.0]
        client = scope.get("client")
        if self.per_client is not None and client:
            waits.append(self.per_client.take(str(client[0])))
        token = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        if self.per_token is not None and token:
            waits.append(self.per_token.take(hashlib.blake2b(token, digest_size=16).hexdigest()))
        wait = max(waits)
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        return refusal(429, "too_many_requests", f"rate limit reached; retry in {seconds} s",
                       headers={"retry-after": str(seconds)})


def _buckets(rate: float, burst: int, settings: Settings) -> TokenBuckets | None:
    return TokenBuckets(rate=rate, burst=burst, max_keys=settings.api_rate_buckets) if rate > 0 else None


def serve_docs_offline(app: FastAPI) -> None:
    """Swap FastAPI's CDN-backed /docs and /redoc for pages whose assets the API serves itself."""
    assets = resources.files("fastapi_offline") / "static"
    replaced = {app.docs_url, app.redoc_url}
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "path", None) not in replaced]
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    title = app.title

    @app.get(app.docs_url or "/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"), title=f"{title} - docs",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            oauth2_redirect_url=root + (app.swagger_ui_oauth2_redirect_url or ""),
        )

    @app.get(app.redoc_url or "/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + (app.openapi_url or "/openapi.json"), title=f"{title} - ReDoc",
                              redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)


def install_security(app: FastAPI, settings: Settings, *, on_request: RequestObserver | None = None) -> None:
    """Token verification, pseudonym key, CSR audit, offline docs and the middleware above.

    Call once from the app factory, after the routers are included. `on_request(route, status,
    seconds)` is called after every request (e.g. to feed the latency histogram)."""
    app.state.token_verifier = build_verifier(settings)
    configure_pseudonyms(settings)
    install_audit(app, settings)
    serve_docs_offline(app)
    app.add_middleware(InputLimits, settings=settings)  # each add wraps the ones before: last = outermost
    if settings.api_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api_cors_origins, allow_methods=["GET"],
                           allow_headers=["authorization", "content-type"], max_age=600)
    app.add_middleware(ResponseHeaders, routes=app.router.routes)
    app.add_middleware(AccessLog, observe=on_request)
