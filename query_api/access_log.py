"""The API's access log: one structured line per request, free of personal data.

Paths carry personal data (`/customers/email:ana@example.com/orders`, an order's tracking
number), so the line records the route *template* the request matched (`/customers/{customer_key}
/orders`), or `unmatched`; never the raw path, the query string, a header or the token. Run
uvicorn with its own access log off (`access_log=False`): this line replaces it. The same
observation feeds an optional hook (route template, status, seconds), e.g. a latency histogram,
so the API needs no second timing middleware.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settings.log_setup import get_logger

log = get_logger("query_api.access")
_LEVEL = logging.getLogger("query_api.access")  # the stdlib logger behind `log`, whose level decides
RequestObserver = Callable[[str, int, float], None]  # (route template, status, seconds)


def route_template(scope: Scope) -> str:
    """What the router matched, as declared (`/orders/{reference}`), or `unmatched`."""
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


class AccessLog:
    def __init__(self, app: ASGIApp, *, observe: RequestObserver | None = None) -> None:
        self.app, self.observe = app, observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, sent = 500, 0

        async def observed(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            seconds, route = time.perf_counter() - started, route_template(scope)
            if _LEVEL.isEnabledFor(logging.INFO):  # below the level, skip structlog's processors entirely
                log.info("request", method=scope["method"], route=route, status=status, bytes=sent,
                         ms=round(seconds * 1000, 1))
            if self.observe is not None:
                self.observe(route, status, seconds)
