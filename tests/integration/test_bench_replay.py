"""The query bench's direct side on the real engine: it sends exactly what the API sent, and it
answers the same orders (`bench.replay`)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from adapters.search_engine import SearchEngine
from bench.direct_load import direct_load
from bench.query_bench import api_requests, random_orders, sample_inputs
from bench.query_bench import SECRET
from bench import replay
from orderrepo.bootstrap import index_names
from settings import Settings


def _record(settings: Settings, inputs: Any, counts: dict[str, int]) -> replay.Recorded:
    requests = api_requests(inputs, SECRET)

    async def run() -> replay.Recorded:
        async with replay.engine_app(settings, SECRET) as app:
            return await replay.record(app, requests, counts)

    return asyncio.run(run())


def _msearch_indices(body: str) -> list[str]:
    lines = [orjson.loads(line) for line in body.splitlines() if line]
    return [header["index"] for header in lines[0::2]]


def test_the_direct_side_replays_the_apis_own_engine_requests(isolated: Settings, engine: SearchEngine) -> None:
    direct_load(isolated, engine, 40, seed=3)
    names = index_names(isolated)
    engine.refresh(f"{isolated.index_prefix}-*")
    inputs = sample_inputs(random_orders(engine, names.orders))
    recorded = _record(isolated, inputs, {q: 2 for q in ("history_page", "order_by_reference", "csr_search",
                                                           "order_timeline")} | {"sales_aggregate": 1})
    hot_and_warm = f"{isolated.index_prefix}-orders,{isolated.index_prefix}-orders-warm-*"
    reference = recorded["order_by_reference"][0]
    assert [(c.method, c.path) for c in reference] == [("POST", "/_msearch")]  # one round trip, not a `_search`
    assert _msearch_indices(reference[0].body)[0] == hot_and_warm  # hot + warm, as the API reads
    assert len(_msearch_indices(reference[0].body)) == 4  # with the locator's three questions
    assert [len(_msearch_indices(c.body)) for [c] in recorded["csr_search"]] == [2, 2]  # search + MOVES
    timeline = recorded["order_timeline"][1]  # asked by global id: the hot timeline rides in the lookup's round trip
    assert [(c.method, c.path) for c in timeline] == [("POST", "/_msearch")]
    timeline_indices = _msearch_indices(timeline[0].body)
    assert timeline_indices[0] == hot_and_warm and len(timeline_indices) == 5
    assert timeline_indices.count(names.events) == 1
    assert len(recorded["sales_aggregate"]) == 1 and recorded["sales_aggregate"][0][0].path.endswith("/_search")

    async def replayed_hits(call: Any) -> list[str]:
        client = replay.engine_client(isolated)
        try:
            answer = await client.send(call)
        finally:
            await client.close()
        return [hit["_source"]["order_id"] for hit in answer["responses"][0]["hits"]["hits"]]

    order_id = inputs.order_ids[1]
    assert asyncio.run(replayed_hits(recorded["order_timeline"][1][0])) == [order_id]
