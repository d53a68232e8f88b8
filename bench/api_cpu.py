"""The API's own CPU per request kind, in-process, from process CPU time (robust under load).

Wall-clock latencies on a shared 2-core machine measure the machine as much as the API; the
CPU time a request costs the API process does not depend on who else is running. Here the app
runs in this process and is called as the server calls it (one ASGI call per request, no socket
and no HTTP client between them: uvicorn's parsing is the only part left out), and
for each question of `bench.query_bench` three figures are taken over the same inputs:
- `api_us`: process CPU per request through the whole app (middleware, auth, rate limit,
  audit hand-off, the tiered reader and its engine round trips, views, JSON);
- `engine_us`: process CPU per question when the same engine queries are sent with the same
  async engine client directly (the engine's own CPU is in another process and in neither);
- `floor_us`: `/healthz`, the cheapest route: middleware and routing only.
`overhead_us = api_us - engine_us` is what the API adds per request, in CPU µs; at one client
on an idle machine it is the API's share of the latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

from bench.query_bench import CSR, Inputs, shopper
from query_api.auth import Role, issue_token
from query_api.queries import history_query, reference_query, sales_by_channel, search_query, timeline_query
from query_api.read_port import OrderFilter, PageRequest
from settings import Settings

Request = tuple[str, dict[str, Any], dict[str, str]]


def _requests(inputs: Inputs, secret: str) -> dict[str, Callable[[int], Request]]:
    """The questions of `bench.query_bench.api_calls`; the shoppers' tokens are issued before the clock."""
    staff = {"Authorization": f"Bearer {issue_token(secret, subject='bench', role=Role.ADMIN)}"}
    shoppers = {email: {"Authorization": "Bearer " + issue_token(
        secret, subject=f"shopper:{email}", role=Role.STOREFRONT, customer_keys=(f"email:{email}",))}
        for email in inputs.emails}

    def history(i: int) -> Request:
        email = inputs.emails[i % len(inputs.emails)]
        return f"/customers/email:{email}/orders", {"size": 20}, shoppers[email]

    return {
        "history_page": history,
        "order_by_reference": lambda i: (f"/orders/{quote(inputs.references[i % len(inputs.references)], safe='')}",
                                         {}, staff),
        "csr_search": lambda i: ("/search", {"q": inputs.search_texts[i % len(inputs.search_texts)], "size": 20},
                                 staff),
        "order_timeline": lambda i: (f"/orders/{inputs.order_ids[i % len(inputs.order_ids)]}/timeline", {}, staff),
        "sales_aggregate": lambda i: ("/analytics/sales", {"interval": "day"}, staff),
    }


def _direct(engine: Any, orders: str, events: str, inputs: Inputs) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """The engine queries of `bench.query_bench.engine_calls`, through the API's own engine client."""
    async def timeline(i: int) -> None:
        order_id = inputs.order_ids[i % len(inputs.order_ids)]
        await engine.search(orders, reference_query(order_id, CSR))
        await engine.search(events, timeline_query(order_id, size=200))

    def history(i: int) -> Awaitable[Any]:
        caller = shopper(inputs.emails[i % len(inputs.emails)])
        return engine.search(orders, history_query(list(caller.customer_keys), caller, filters=OrderFilter(),
                                                   page=PageRequest(20)))

    return {
        "history_page": history,
        "order_by_reference": lambda i: engine.search(orders, reference_query(
            inputs.references[i % len(inputs.references)], CSR)),
        "csr_search": lambda i: engine.search(orders, search_query(
            inputs.search_texts[i % len(inputs.search_texts)], CSR, filters=OrderFilter(), page=PageRequest(20))),
        "order_timeline": timeline,
        "sales_aggregate": lambda i: engine.search(orders, sales_by_channel("day", [])),
    }


async def asgi_get(app: Any, request: Request) -> int:
    """One GET through the app as the server would make it; the answer's status."""
    path, params, headers = request
    status = 0
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(path), "raw_path": path.encode(), "query_string": urlencode(params).encode(),
             "root_path": "", "client": ("127.0.0.1", 50000), "server": ("bench", 80),
             "headers": [(b"host", b"bench"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    if status >= 400:  # 300 (several orders carry the reference) is an answer
        raise RuntimeError(f"{path} answered {status}")
    return status


async def _cpu_us(call: Callable[[int], Awaitable[Any]], total: int) -> float:
    for i in range(min(20, total)):  # warm-up: connections, caches
        await call(i)
    started = time.process_time()
    for i in range(total):
        await call(i)
    return round((time.process_time() - started) / total * 1e6, 1)


async def _measure(settings: Settings, inputs: Inputs, secret: str, total: int) -> dict[str, Any]:
    from orderrepo.bootstrap import index_names
    from query_api.app import create_app

    # the load is one client and a few tokens: limits far above its rate keep the limiter's work
    app = create_app(settings.model_copy(update={"api_token_secret": secret, "api_rate_per_token": 1e9,
                                                 "api_rate_per_client": 1e9, "log_level": "WARNING"}))
    async with app.router.lifespan_context(app):
        names = index_names(app.state.settings)
        direct = _direct(app.state.engine, names.orders, names.events, inputs)
        result: dict[str, Any] = {"floor_us": await _cpu_us(lambda i: asgi_get(app, ("/healthz", {}, {})), total)}
        for name, request in _requests(inputs, secret).items():
            api_us = await _cpu_us(lambda i: asgi_get(app, request(i)), total)
            engine_us = await _cpu_us(direct[name], total)
            result[name] = {"api_us": api_us, "engine_us": engine_us, "overhead_us": round(api_us - engine_us, 1)}
        return result


def measure_api_cpu(settings: Settings, inputs: Inputs, *, secret: str, total: int = 200) -> dict[str, Any]:
    """CPU µs per request kind (see the module docstring); `settings` names the data to read."""
    return asyncio.run(_measure(settings, inputs, secret, total))
