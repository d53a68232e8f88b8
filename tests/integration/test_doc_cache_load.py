"""The document cache on the real engine: a chunked cache built in several processes loads by raw
bulk into a prefix's write aliases, every cached document lands once with its cached source, and
each index gets its own refresh interval back (`bench.doc_cache.bulk_load`)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapters.search_engine import SearchEngine
from bench import doc_cache
from bench.engine_warmup import WARMUP_SEED, warm_engine
from index_templates import IndexNames
from orderrepo.bootstrap import index_names
from settings import Settings


def test_a_chunked_cache_loads_every_document_once_and_restores_refresh(
        isolated: Settings, engine: SearchEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_BENCH_CACHE", str(tmp_path))
    cache = doc_cache.build(isolated, orders=240, seed=9, workers=2, chunk_orders=60, progress=False)
    names, source = index_names(isolated), IndexNames(doc_cache.CACHE_PREFIX)
    aliases = f"{names.orders_write},{names.events_write}"
    before = engine.request("GET", f"/{aliases}/_settings/index.refresh_interval")
    assert len(before) == 2 and all(index["settings"]["index"]["refresh_interval"] != "-1" for index in before.values())

    sent = doc_cache.bulk_load(isolated, engine, cache=cache["cache"], target=names)

    cached = {(index, doc_id): orjson.loads(body) for index, doc_id, body in doc_cache.rows(cache["cache"])}
    assert cache["chunks"] == 4 and sent["documents"] == len(cached) == doc_cache.summary(cache["cache"])["documents"]
    assert engine.count(names.orders) == cache["documents"][source.orders_write]  # searchable on return
    assert engine.count(names.events) == cache["documents"][source.events_write]
    assert engine.request("GET", f"/{aliases}/_settings/index.refresh_interval") == before
    stored = engine.mget(names.orders_write, [doc_id for index, doc_id in cached if index == source.orders_write])
    assert {doc_id: hit["_source"] for doc_id, hit in stored.items()} == {
        doc_id: document for (index, doc_id), document in cached.items() if index == source.orders_write}


def test_the_engine_warm_up_sends_documents_and_leaves_no_scratch_index_behind(
        isolated: Settings, engine: SearchEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_BENCH_CACHE", str(tmp_path))
    said: list[str] = []

    warmed = warm_engine(isolated, engine, seconds=0, orders=40, report=said.append)

    cache = doc_cache.build(isolated, orders=40, seed=WARMUP_SEED, progress=False)  # the one the warm-up built
    assert warmed["rounds"] == 1 == len(said) and warmed["documents"] == doc_cache.summary(cache["cache"])["documents"] > 40
    assert warmed["last_round_docs_per_s"] > 0
    left = engine.request("GET", f"/_cat/indices/{isolated.index_prefix}-warmup*", params={"format": "json"})
    assert left == []
