"""One contract for both async engine clients the query API can use: the client library's
(`ORDERREPO_ENGINE_API_CLIENT=library`) and the lean aiohttp one (the default). Same calls on the
real engine, same answers, same errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.engine_settings import engine_config
from adapters.search_engine import AsyncSearchEngine, EngineConfig, EngineError, EngineUnavailable, NotFound
from settings import Settings

CLIENTS = pytest.mark.parametrize("lean", [False, True], ids=["library", "lean"])


def _with_engine(settings: Settings, lean: bool, scenario: Callable[[AsyncSearchEngine], Awaitable[None]]) -> None:
    async def run() -> None:
        engine = await AsyncSearchEngine.connect(engine_config(settings), lean=lean)
        try:
            await scenario(engine)
        finally:
            await engine.close()

    asyncio.run(run())


@CLIENTS
def test_documents_searches_and_indices_answer_the_same(isolated: Settings, unique_name: str, lean: bool) -> None:
    index = f"{unique_name}-client"

    async def scenario(engine: AsyncSearchEngine) -> None:
        assert await engine.index_exists(index) is False
        await engine.create_index(index, {"mappings": {"properties": {"n": {"type": "integer"},
                                                                      "tag": {"type": "keyword"}}}})
        assert await engine.index_exists(index) is True
        for n in range(3):
            await engine.request("PUT", f"/{index}/_doc/d{n}", params={"refresh": "true"}, body={"n": n, "tag": "x"})
        assert (await engine.get(index, "d1"))["_source"] == {"n": 1, "tag": "x"}  # type: ignore[index]
        assert await engine.get(index, "missing") is None
        assert sorted(await engine.mget(index, ["d0", "d2", "nope"])) == ["d0", "d2"]
        assert await engine.count(index, {"range": {"n": {"gte": 1}}}) == 2
        answer = await engine.search(index, {"sort": [{"n": "desc"}], "size": 2}, params={"filter_path": "hits.hits._id"})
        assert answer == {"hits": {"hits": [{"_id": "d2"}, {"_id": "d1"}]}}
        batch = '{"index": "%s"}\n{"size": 0}\n{"index": "%s"}\n{"size": 1, "query": {"term": {"n": 0}}}\n' % (
            index, index)
        responses = (await engine.request("POST", "/_msearch", body=batch))["responses"]
        assert [r["hits"]["total"]["value"] for r in responses] == [3, 1]
        assert await engine.aliases_of(f"{index}-no-alias") == []
        await engine.delete_index(index)
        await engine.delete_index(index)  # a missing index is tolerated
        assert await engine.index_exists(index) is False

    _with_engine(isolated, lean, scenario)


@CLIENTS
def test_errors_map_to_the_same_classes_and_statuses(isolated: Settings, unique_name: str, lean: bool) -> None:
    async def scenario(engine: AsyncSearchEngine) -> None:
        with pytest.raises(NotFound) as missing:
            await engine.search(f"{unique_name}-absent", {"size": 0})
        assert missing.value.status == 404 and "index_not_found" in str(missing.value)
        with pytest.raises(EngineError) as refused:
            await engine.search(isolated.index_prefix + "-orders", {"query": {"no_such_query": {}}})
        assert type(refused.value) is EngineError and refused.value.status == 400

    _with_engine(isolated, lean, scenario)


@CLIENTS
def test_an_unreachable_engine_is_unavailable_and_observed_as_no_answer(isolated: Settings, lean: bool) -> None:
    async def run() -> None:
        live = await AsyncSearchEngine.connect(engine_config(isolated), lean=lean)
        await live.close()
        engine = AsyncSearchEngine(live.info, EngineConfig(url="http://127.0.0.1:9", timeout_s=2.0), lean=lean)
        seen: list[tuple[str, int]] = []
        engine.observer = lambda method, seconds, status: seen.append((method, status))
        try:
            with pytest.raises(EngineUnavailable) as raised:
                await engine.health()
            assert raised.value.status == 503 and seen == [("GET", 0)]
        finally:
            await engine.close()

    asyncio.run(run())


def test_the_lean_client_closes_its_connections_and_reopens_on_demand(isolated: Settings) -> None:
    async def run() -> dict[str, Any]:
        engine = await AsyncSearchEngine.connect(engine_config(isolated), lean=True)
        await engine.health()
        session = engine._client._session
        await engine.close()
        assert session is not None and session.closed and engine._client._session is None
        answer = await engine.health()  # a closed client opens a new pool rather than failing
        await engine.close()
        return answer

    assert asyncio.run(run())["status"] in ("green", "yellow")
