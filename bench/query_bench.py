"""Query latency and throughput: our API vs the same engine queries sent directly vs PostgreSQL.

The load comes from aiohttp in this process: on a 2-core box the client's own CPU
competes with the servers, and aiohttp costs about a third of what httpx does.

Five questions (storefront history page, order by reference, CSR free-text search with
typos and partial phones, order timeline, one analytics aggregate), each at 1, 8 and
32 concurrent clients, over the same inputs for all three targets.
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

# the headers the API's engine client sends (no gzip on loopback answers): the direct queries must
# not pay a compression the API does not, or the API would look faster than the engine itself
from adapters.engine.lean_client import HEADERS as ENGINE_HEADERS
from bench.measure import percentiles
from query_api.auth import Caller, Role
from query_api.queries import (ORDER_ANSWER_SOURCE, history_query, reference_query, sales_by_channel, search_query,
                               timeline_query)
from query_api.read_port import OrderFilter, PageRequest

CSR = Caller(subject="bench", role=Role.CSR)


@dataclass(frozen=True)
class Inputs:
    emails: list[str]
    references: list[str]
    search_texts: list[str]
    order_ids: list[str]


def sample_inputs(orders: list[dict[str, Any]], seed: int = 5) -> Inputs:
    rng = random.Random(seed)
    emails = sorted({o["customer"]["email"].lower() for o in orders if o.get("customer", {}).get("email")})
    refs = sorted({r["value"] for o in orders for r in o.get("references", []) if r["kind"] != "global_id"} |
                  {s["tracking_number"] for o in orders for s in o.get("shipments", []) if s.get("tracking_number")})
    named = [o["customer"] for o in orders if o.get("customer", {}).get("name") and o["customer"].get("phone")]
    texts = []
    for customer in rng.sample(named, min(200, len(named))):
        surname = customer["name"].split()[-1]
        digits = "".join(ch for ch in customer["phone"] if ch.isdigit())[-10:]
        texts += [surname[:2] + surname[3] + surname[2] + surname[4:] if len(surname) > 4 else surname,
                  f"{digits[3:6]}-{digits[6:]}", customer["name"]]
    inputs = Inputs(emails=rng.sample(emails, min(500, len(emails))), references=rng.sample(refs, min(500, len(refs))),
                    search_texts=texts, order_ids=rng.sample([o["order_id"] for o in orders], min(500, len(orders))))
    empty = [name for name, values in vars(inputs).items() if not values]
    if empty:
        raise ValueError(f"the sampled orders give no {', '.join(empty)} to ask about")
    return inputs


def random_orders(engine: Any, alias: str, *, count: int = 10_000, seed: int = 5) -> list[dict[str, Any]]:
    """A seeded random sample of stored orders. The first orders by id are one channel's (ids
    start with the channel), which at 1M orders left no marketplace or POS reference to ask for."""
    body = {"size": count, "_source": ORDER_ANSWER_SOURCE,
            "query": {"function_score": {"query": {"match_all": {}}, "boost_mode": "replace",
                                         "random_score": {"seed": seed, "field": "_seq_no"}}}}
    return [hit["_source"] for hit in engine.search(alias, body)["hits"]["hits"]]


async def _drive(call: Callable[[int], Awaitable[None]], *, concurrency: int, total: int) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            started = time.perf_counter()
            await call(i)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {**{k: round(v, 2) for k, v in percentiles(latencies).items()}, "qps": round(total / elapsed, 1)}


def _drive_threads(call: Callable[[Any, int], None], connect: Callable[[], Any], *, concurrency: int,
                   total: int) -> dict[str, float]:
    """One connection per client thread, opened before the clock starts and closed after."""
    latencies: list[float] = []
    connections: queue.SimpleQueue[Any] = queue.SimpleQueue()
    opened = [connect() for _ in range(concurrency)]
    for conn in opened:
        connections.put(conn)
    lock = threading.Lock()

    def one(i: int) -> None:
        conn = connections.get()
        try:
            started = time.perf_counter()
            call(conn, i)
            elapsed_ms = (time.perf_counter() - started) * 1000
        finally:
            connections.put(conn)
        with lock:
            latencies.append(elapsed_ms)

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(total)))
    finally:
        for conn in opened:
            conn.close()
    elapsed = time.perf_counter() - started
    return {**{k: round(v, 2) for k, v in percentiles(latencies).items()}, "qps": round(total / elapsed, 1)}


def shopper(email: str) -> Caller:
    """The storefront caller behind a "my orders" page: bound to the one customer key."""
    return Caller(subject=f"shopper:{email}", role=Role.STOREFRONT, customer_keys=(f"email:{email}",))


def api_calls(client: aiohttp.ClientSession, inputs: Inputs,
              storefront_tokens: dict[str, str]) -> dict[str, Callable[[int], Awaitable[None]]]:
    """`storefront_tokens` (email -> bearer token): the history page is read as the shopper
    reads it; every other question is asked with the session's staff token."""
    async def get(path: str, headers: dict[str, str] | None = None, **params: Any) -> None:
        async with client.get(path, params=params, headers=headers) as answer:
            answer.raise_for_status()
            await answer.read()

    def history(i: int) -> Awaitable[None]:
        email = inputs.emails[i % len(inputs.emails)]
        return get(f"/customers/email:{email}/orders", {"Authorization": f"Bearer {storefront_tokens[email]}"},
                   size=20)

    return {
        "history_page": history,
        "order_by_reference": lambda i: get(f"/orders/{quote(inputs.references[i % len(inputs.references)], safe='')}"),
        "csr_search": lambda i: get("/search", q=inputs.search_texts[i % len(inputs.search_texts)], size=20),
        "order_timeline": lambda i: get(f"/orders/{inputs.order_ids[i % len(inputs.order_ids)]}/timeline"),
        "sales_aggregate": lambda i: get("/analytics/sales", interval="day"),
    }


def engine_calls(client: aiohttp.ClientSession, orders: str, events: str,
                 inputs: Inputs) -> dict[str, Callable[[int], Awaitable[None]]]:
    """The very requests the API sends for each question (the timeline takes two); the session
    must send `ENGINE_HEADERS`."""
    async def search(index: str, body: dict[str, Any]) -> dict[str, Any]:
        async with client.post(f"/{index}/_search", data=orjson.dumps(body),
                               headers={"content-type": "application/json"}) as answer:
            answer.raise_for_status()
            return orjson.loads(await answer.read())

    async def history(i: int) -> None:
        caller = shopper(inputs.emails[i % len(inputs.emails)])
        await search(orders, history_query(list(caller.customer_keys), caller, filters=OrderFilter(),
                                                   page=PageRequest(20)))

    async def timeline(i: int) -> None:
        order_id = inputs.order_ids[i % len(inputs.order_ids)]
        await search(orders, reference_query(order_id, CSR))
        await search(events, timeline_query(order_id, size=200))

    async def by_reference(i: int) -> None:
        await search(orders, reference_query(inputs.references[i % len(inputs.references)], CSR))

    async def csr(i: int) -> None:
        await search(orders, search_query(inputs.search_texts[i % len(inputs.search_texts)], CSR, filters=OrderFilter(),
                                               page=PageRequest(20)))

    async def aggregate(i: int) -> None:
        await search(orders, sales_by_channel("day", []))

    return {"history_page": history, "order_by_reference": by_reference, "csr_search": csr,
            "order_timeline": timeline, "sales_aggregate": aggregate}


async def run_http_target(calls: dict[str, Callable[[int], Awaitable[None]]], *, levels: tuple[int, ...],
                          per_level: int) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, call in calls.items():
        await _drive(call, concurrency=4, total=40)  # warm-up
        results[name] = {str(c): await _drive(call, concurrency=c, total=max(per_level, c * 10)) for c in levels}
    return results


def run_postgres_target(calls: dict[str, Callable[[Any, int], None]], connect: Callable[[], Any], *,
                        levels: tuple[int, ...], per_level: int) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, call in calls.items():
        _drive_threads(call, connect, concurrency=4, total=40)
        results[name] = {str(c): _drive_threads(call, connect, concurrency=c, total=max(per_level, c * 10))
                         for c in levels}
    return results
