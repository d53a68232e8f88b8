"""The API's own CPU per request kind, in-process, from process CPU time (robust under load).

Wall-clock latencies on a shared 2-core machine measure the machine as much as the API; the
CPU time a request costs the API process does not depend on who else is running. Here the app
runs in this process and is called as the server calls it (one ASGI call per request, no socket
and no HTTP client between them: uvicorn's parsing is the only part left out), and
for each question of `bench.query_bench` three figures are taken over the same inputs:
- `api_us`: process CPU per request through the whole app (middleware, auth, rate limit,
  audit hand-off, the tiered reader and its engine round trips, views, JSON);
- `engine_us`: process CPU per question when the same engine queries are sent directly by a bare
  aiohttp client (`bench.query_bench.engine_calls`, the direct-engine target of the wall-clock
  bench), whichever engine client the API uses (the engine's own CPU is in another process and
  in neither);
- `trips`: engine requests the API sent per request (the direct target sends one, two for the
  timeline);
- `floor_us`: `/healthz`, the cheapest route: middleware and routing only.
`overhead_us = api_us - engine_us` is what the API adds per request, in CPU µs; at one client
on an idle machine it is the API's share of the latency.

On its own: `python -m bench.api_cpu [--orders 20000] [--total 200]` measures over the index
family `apicpu` (loaded once without Kafka by `bench.direct_load` when it is empty, kept for
the next run, `--drop` removes it) and prints each kind's figures with target and verdict.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlencode

import aiohttp
import typer

from bench.query_bench import ENGINE_HEADERS, SECRET, Inputs, api_requests, engine_calls
from settings import Settings

Request = tuple[str, dict[str, Any], dict[str, str]]


def _requests(inputs: Inputs, secret: str) -> dict[str, Callable[[int], Request]]:
    """The questions of `bench.query_bench.api_calls`; the shoppers' tokens are issued before the clock."""
    return api_requests(inputs, secret)


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
    user = settings.engine_username
    auth = aiohttp.BasicAuth(user, settings.engine_password or "") if user else None
    async with app.router.lifespan_context(app), aiohttp.ClientSession(
            base_url=settings.resolved_engine_url(), auth=auth, headers=ENGINE_HEADERS) as session:
        names = index_names(app.state.settings)
        direct = engine_calls(session, names.orders, names.events, inputs)
        sent = _count_requests(app.state.engine)
        result: dict[str, Any] = {"floor_us": await _cpu_us(lambda i: asgi_get(app, ("/healthz", {}, {})), total)}
        for name, request in _requests(inputs, secret).items():
            before = len(sent)
            api_us = await _cpu_us(lambda i: asgi_get(app, request(i)), total)
            trips = round((len(sent) - before) / (total + min(20, total)), 2)
            engine_us = await _cpu_us(direct[name], total)
            result[name] = {"api_us": api_us, "engine_us": engine_us, "overhead_us": round(api_us - engine_us, 1),
                            "trips": trips}
        return result


def _count_requests(engine: Any) -> list[str]:
    """Every engine request the app sends from now on, by method (the app's observer still sees them)."""
    sent: list[str] = []
    observer = engine.observer

    def counting(method: str, seconds: float, status: int) -> None:
        sent.append(method)
        if observer is not None:
            observer(method, seconds, status)

    engine.observer = counting
    return sent


def measure_api_cpu(settings: Settings, inputs: Inputs, *, secret: str, total: int = 200) -> dict[str, Any]:
    """CPU µs per request kind (see the module docstring); `settings` names the data to read."""
    return asyncio.run(_measure(settings, inputs, secret, total))


def main(orders: int = typer.Option(20_000, help="orders to load when the index family is empty"),
         total: int = typer.Option(200, help="requests per kind (after 20 warm-up requests)"),
         prefix: str = typer.Option("apicpu", help="index family to read (and to load when empty)"),
         seed: int = typer.Option(42), drop: bool = typer.Option(False, help="delete the index family afterwards")
         ) -> None:
    """Loads the sample data when needed, then prints the API CPU figures per request kind."""
    import json

    from bench.direct_load import direct_load
    from bench.query_bench import random_orders, sample_inputs
    from bench.targets import api_cpu_checks
    from orderrepo.bootstrap import connect_engine, index_names, prepare_storage
    from settings import get_settings

    settings = get_settings().model_copy(update={"index_prefix": prefix, "topic_prefix": prefix})
    engine = connect_engine(settings)
    names = index_names(settings)
    if not engine.index_exists(names.orders) or not engine.request("GET", f"/{names.orders}/_count")["count"]:
        prepare_storage(settings, engine)
        print(direct_load(settings, engine, orders, seed), flush=True)
        engine.request("POST", f"/{prefix}-*/_refresh")
    try:
        figures = measure_api_cpu(settings, sample_inputs(random_orders(engine, names.orders)), secret=SECRET,
                                  total=total)
        print(json.dumps(figures))
        for check in api_cpu_checks({"api_cpu": figures}):
            print(f"{'OK  ' if check.holds else 'MISS'} {check.target}: {check.measured} (ratio {check.ratio})")
    finally:
        if drop:
            for index in engine.request("GET", f"/{prefix}-*"):
                engine.delete_index(index)


if __name__ == "__main__":
    typer.run(main)
