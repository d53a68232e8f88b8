"""Query latency and throughput: our API vs the same engine requests sent directly vs PostgreSQL.

The load comes from aiohttp in this process: on a 2-core box the client's own CPU
competes with the servers, and aiohttp costs about a third of what httpx does.

Five questions (storefront history page, order by reference, CSR free-text search with
typos and partial phones, order timeline, one analytics aggregate), each at 1, 8 and
32 concurrent clients, over the same inputs for every side. The sides of a comparison are
measured interleaved in one phase (`bench.paired`, `measure_paired`); the direct sides
replay the requests the API itself sent (`bench.replay`). `run_http_target` keeps the
older method (one side after the other, a phase each) for comparison.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

# the headers the API's engine client sends (no gzip on loopback answers): the direct queries must
# not pay a compression the API does not, or the API would look faster than the engine itself
from adapters.engine.lean_client import HEADERS as ENGINE_HEADERS
from bench.measure import percentiles
from bench.paired import drive_paired, summarize
from query_api.auth import Caller, Role, issue_token
from query_api.queries import (ORDER_ANSWER_SOURCE, history_query, reference_query, sales_by_channel, search_query,
                               timeline_query)
from query_api.read_port import OrderFilter, PageRequest

CSR = Caller(subject="bench", role=Role.CSR)
# The bench API processes and in-process apps accept tokens signed with this (bench-only) secret.
SECRET = "bench-secret-bench-secret-bench-secret-0001"


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


def shopper(email: str) -> Caller:
    """The storefront caller behind a "my orders" page: bound to the one customer key."""
    return Caller(subject=f"shopper:{email}", role=Role.STOREFRONT, customer_keys=(f"email:{email}",))


Request = tuple[str, dict[str, Any], dict[str, str]]  # path, query parameters, headers


def api_requests(inputs: Inputs, secret: str) -> dict[str, Callable[[int], Request]]:
    """Input i of each question as a GET with its bearer token (signed with `secret`, issued
    here, before any clock): the history page as the shopper reads it, every other question
    as staff."""
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


def distinct_inputs(inputs: Inputs) -> dict[str, int]:
    """How many different requests each question cycles through (input i and i + this are the same)."""
    return {"history_page": len(inputs.emails), "order_by_reference": len(inputs.references),
            "csr_search": len(inputs.search_texts), "order_timeline": len(inputs.order_ids), "sales_aggregate": 1}


def api_calls(client: aiohttp.ClientSession,
              requests: dict[str, Callable[[int], Request]]) -> dict[str, Callable[[int], Awaitable[None]]]:
    """Each question's input i sent over HTTP by `client` (its base URL: the API), answer read whole."""
    async def get(request: Request) -> None:
        path, params, headers = request
        async with client.get(path, params=params, headers=headers) as answer:
            answer.raise_for_status()
            await answer.read()

    def question(build: Callable[[int], Request]) -> Callable[[int], Awaitable[None]]:
        return lambda i: get(build(i))

    return {name: question(build) for name, build in requests.items()}


def engine_calls(client: aiohttp.ClientSession, orders: str, events: str,
                 inputs: Inputs) -> dict[str, Callable[[int], Awaitable[None]]]:
    """Each question's main engine query, typed by hand (`bench.api_cpu`'s direct side); the session
    must send `ENGINE_HEADERS`. Not the requests the API sends (it sends one `_msearch` over hot +
    warm with the locator's questions): the wall-clock bench replays those (`bench.replay`)."""
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


def requests_needed(levels: tuple[int, ...], per_level: int) -> int:
    """Inputs one question uses at most: the largest level's requests (or the warm-up's)."""
    return max(WARM_UP[1], *(level_total(c, per_level) for c in levels))


def level_total(concurrency: int, per_level: int) -> int:
    return max(per_level, concurrency * 10)


WARM_UP = (4, 40)  # clients, requests per side


async def run_http_target(calls: dict[str, Callable[[int], Awaitable[None]]], *, levels: tuple[int, ...],
                          per_level: int) -> dict[str, dict[str, dict[str, float]]]:
    """The older method, kept for comparison: one side's questions in phases of their own."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, call in calls.items():
        await _drive(call, concurrency=WARM_UP[0], total=WARM_UP[1])
        results[name] = {str(c): await _drive(call, concurrency=c, total=level_total(c, per_level)) for c in levels}
    return results


Sides = dict[str, Callable[[int], Awaitable[Any]]]
# (a, b): a − b per input; API over the same engine requests, PostgreSQL behind the API over its statements
# sent directly, and our API over PostgreSQL behind the same API (then each store queried directly)
PAIRS = (("api", "engine"), ("pg_api", "pg_direct"), ("api", "pg_api"), ("engine", "pg_direct"))


async def measure_paired(sides: dict[str, Sides], *, levels: tuple[int, ...],
                         per_level: int) -> dict[str, dict[str, dict[str, Any]]]:
    """`sides[side][question]`: every side of each question interleaved in one phase per level
    (`bench.paired`); question -> level -> per-side figures and paired differences."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for question in next(iter(sides.values())):
        calls = {side: by_question[question] for side, by_question in sides.items()}
        await drive_paired(calls, concurrency=WARM_UP[0], total=WARM_UP[1])
        results[question] = {str(c): summarize(await drive_paired(calls, concurrency=c,
                                                                  total=level_total(c, per_level)), PAIRS)
                             for c in levels}
    return results


def per_side(paired: dict[str, dict[str, dict[str, Any]]], side: str) -> dict[str, dict[str, dict[str, float]]]:
    """One side's figures in the shape of one phase's (question -> level -> p50/p95/p99/qps)."""
    return {question: {level: figures["sides"][side] for level, figures in levels.items()}
            for question, levels in paired.items()}
